"""Computing a project's taint (``taint.py``): a fixed point over module summaries.

It starts from the knowledge's context-local words and spreads along an inverted index
(key -> entries waiting on it), so each entry is looked at once per key it mentions.
Modules are read lazily: one whose identifiers include no tainted word has no tainted
entry, so it is never parsed (a project's models, forms and utilities mostly stay
unread).  Computed once per process and project; an unsaved editor buffer stands for
its file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

from ..knowledge import Knowledge, knowledge_key
from .files import MAX_SCANNED_FILES, real_path
from .sources import source_text, source_tree
from .summaries import Entry, Mentions, ModuleSummary, summarise
from .taint import (
    ANY_CLASS, UNRELATING_BASES, Key, NameContext, Taint, base_words, keys_of, name_context,
)

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Debugging aid (``benchmarks``): the first entry that tainted each word, when set.
CAUSES: Optional[Dict[Tuple[str, str], Tuple[Entry, Key]]] = None


class Fixpoint:
    """The spreading itself (see the module docstring)."""

    def __init__(
        self, knowledge: Knowledge, extensions: bool = True, start: Optional[Taint] = None
    ) -> None:
        names, attrs = base_words(knowledge, extensions)
        self.base_names = names
        self.taint = start if start is not None else Taint(set(names), set(attrs))
        self._waiting: Dict[Key, List[Tuple[Entry, NameContext]]] = {}
        self._queue: List[Key] = []
        #: Words tainted since ``drain_added`` was last asked (to read more modules).
        self._added: List[str] = []
        #: Entries waiting on ``self.<word>``, by word and by their class's family
        #: root (``""``: outside any class); the words waited on per root.
        self._methods_waiting: Dict[str, Dict[str, List[Tuple[Entry, NameContext]]]] = {}
        self._root_words: Dict[str, Set[str]] = {}

    def drain_added(self) -> List[str]:
        added, self._added = self._added, []
        return added

    def add(self, summary: ModuleSummary, context: NameContext) -> None:
        for entry in summary.entries:  # families first: a method precedes its class
            if entry.kind == "class":
                for base in entry.bases - UNRELATING_BASES:
                    self._relate(entry.word, base)
        taint = self.taint
        for entry in summary.entries:
            is_base, keys = keys_of(_mentions(entry), context, entry.kind == "import")
            if is_base or any(taint.holds(key, entry.owner) for key in keys):
                self._taint(entry, context, ("base",) if is_base else next(
                    key for key in keys if taint.holds(key, entry.owner)
                ))
                continue
            for key in keys:
                if key[0] == "m":
                    self._wait_for_method(key[1], entry, context)
                else:
                    self._waiting.setdefault(key, []).append((entry, context))
        self._spread()

    def _wait_for_method(self, word: str, entry: Entry, context: NameContext) -> None:
        root = self.taint.families.find(entry.owner) if entry.owner else ""
        self._methods_waiting.setdefault(word, {}).setdefault(root, []).append((entry, context))
        self._root_words.setdefault(root, set()).add(word)

    def _taint(self, entry: Entry, context: NameContext, cause: Key = ()) -> None:
        if CAUSES is not None:
            CAUSES.setdefault((context.key, entry.word), (entry, cause))
        word = entry.word
        if entry.top:
            self._mark(("o", context.key, word))
            if entry.kind == "class":
                self._mark(("o", context.key, "class:" + word))
        if entry.kind == "attr":
            self._mark(("a", word))
            self._method(ANY_CLASS, word)
        elif entry.kind == "selfattr" or entry.in_class:
            self._method(entry.owner, word)  # a method, a class attribute, self.x = ...
        else:
            self._mark(("n", word))
            if entry.kind == "class":
                self._mark(("c", word))

    def _mark(self, key: Key) -> None:
        taint = self.taint
        kind = key[0]
        if kind == "o":
            pair = (key[1], key[2])
            if pair in taint.own:
                return
            taint.own.add(pair)
            word = key[2].rpartition(":")[2]
        else:
            target = {"n": taint.names, "a": taint.attrs, "c": taint.classes}[kind]
            word = key[1]
            if word in target:
                return
            target.add(word)
        self._queue.append(key)
        self._added.append(word)

    def _method(self, owner: str, word: str) -> None:
        classes = self.taint.methods.setdefault(word, set())
        if owner in classes:
            return
        classes.add(owner)
        self._added.append(word)
        if owner == ANY_CLASS:
            roots = list(self._methods_waiting.get(word, {}))
        else:
            roots = [self.taint.families.find(owner), ""]
        self._queue.extend(("m", word, root) for root in roots)

    def _relate(self, name: str, base: str) -> None:
        """``class name(base)``: one family.  The ``self.x`` mentions waiting in the
        merged family move to the kept one, and those whose method is tainted in the
        family now wake."""
        joined = self.taint.families.union(name, base)
        if joined is None:
            return
        kept, merged = joined
        moved = self._root_words.pop(merged, set())
        for word in moved:
            entries = self._methods_waiting[word].pop(merged, [])
            self._methods_waiting[word].setdefault(kept, []).extend(entries)
        words = self._root_words.setdefault(kept, set())
        words |= moved
        for word in words:
            if self.taint.method_hit(kept, word):
                self._queue.append(("m", word, kept))

    def _spread(self) -> None:
        while self._queue:
            key = self._queue.pop()
            if key[0] == "m":
                # A method tainted in a family: the entries of that family wake.
                word, root = key[1], key[2]
                waiting = self._methods_waiting.get(word, {}).pop(root, [])
                if waiting:
                    self._root_words.get(root, set()).discard(word)
            else:
                waiting = self._waiting.pop(key, [])
            for entry, context in waiting:
                self._taint(entry, context, key)


def _mentions(entry: Entry) -> Mentions:
    return Mentions(
        set(entry.names), set(entry.self_attrs), set(entry.attrs), set(entry.named_attrs),
        set(entry.called),
    )


_SUMMARIES: Dict[Tuple[str, int, int, int], Optional[ModuleSummary]] = {}
_TOKENS: Dict[Tuple[str, int, int], FrozenSet[str]] = {}


def _key(path: Path, text: str) -> Tuple[str, int, int]:
    return (str(path), len(text), hash(text))


def tokens_of(path: Path) -> Optional[FrozenSet[str]]:
    """The identifiers of a project file's text (None: unreadable)."""
    text = source_text(path)
    if text is None:
        return None
    key = _key(path, text)
    found = _TOKENS.get(key)
    if found is None:
        found = _TOKENS[key] = frozenset(_IDENTIFIER.findall(text))
    return found


def summary_of(path: Path, watched: FrozenSet[str]) -> Optional[ModuleSummary]:
    text = source_text(path)
    if text is None:
        return None
    key = (*_key(path, text), hash(watched))
    if key not in _SUMMARIES:
        tree = source_tree(path)
        _SUMMARIES[key] = summarise(tree, watched) if tree is not None else None
    return _SUMMARIES[key]


def project_taint(
    modules: Mapping[Path, Optional[str]],
    knowledge: Knowledge,
    overlay: Optional[Tuple[Path, ModuleSummary, NameContext]] = None,
    extensions: bool = True,
) -> Optional[Taint]:
    """The taint of the project made of ``modules`` (path -> dotted name; ``overlay``:
    the checked module's path, summary and bindings, standing for the file on disk).
    None when a module cannot be read or parsed: nothing can be ruled out then."""
    fixpoint = Fixpoint(knowledge, extensions)
    watched = frozenset(knowledge.watched_packages)
    module_keys = module_key_map(modules)
    if overlay is not None:
        fixpoint.add(overlay[1], overlay[2])
    # Which unread modules hold each identifier: a newly tainted word marks them.
    holders: Dict[str, List[Path]] = {}
    for path in modules:
        if overlay is not None and path == overlay[0]:
            continue
        tokens = tokens_of(path)
        if tokens is None:
            return None
        for token in tokens:
            holders.setdefault(token, []).append(path)
    read: Set[Path] = set()
    taint = fixpoint.taint
    words = [*taint.names, *taint.attrs]
    seen = 0
    while seen < len(words):
        ready: List[Path] = []
        for word in words[seen:]:
            for path in holders.pop(word, ()):
                if path not in read:
                    read.add(path)
                    ready.append(path)
        seen = len(words)
        for path in ready:
            summary = summary_of(path, watched)
            if summary is None:
                return None
            dotted = modules[path]
            context = name_context(
                summary, str(path), dotted, path.name == "__init__.py", module_keys,
                fixpoint.base_names,
            )
            fixpoint.add(summary, context)
        words.extend(fixpoint.drain_added())
    return fixpoint.taint


def module_key_map(modules: Mapping[Path, Optional[str]]) -> Dict[str, str]:
    return {dotted: str(path) for path, dotted in modules.items() if dotted}


def taint_for(
    summary: ModuleSummary,
    knowledge: Knowledge,
    project: Optional["Project"],
    path: Optional[Path],
    where: Tuple[Optional[str], bool],
    same_as_disk: bool,
    extensions: bool = True,
) -> Optional[Tuple[Taint, NameContext]]:
    """The taint the checked module's sites are judged by, and the module's bindings:
    its project's (computed once per process and knowledge while every checked text is
    the file on disk), or, for an unsaved buffer, the project's with this text standing
    for the file.  ``where``: the module's dotted name and whether it is a package.
    None: a project file could not be read or parsed, or the project is too big to list
    (nothing can be ruled out)."""
    dotted, is_package = where
    if project is None or path is None:
        fixpoint = Fixpoint(knowledge, extensions)
        context = name_context(summary, "", dotted, is_package, {}, fixpoint.base_names)
        fixpoint.add(summary, context)
        return fixpoint.taint, context
    listed = project.memo.get(("module paths",))
    if not isinstance(listed, dict):
        listed = project.memo[("module paths",)] = dict(project.modules())
    modules: Dict[Path, Optional[str]] = listed
    if len(modules) >= MAX_SCANNED_FILES:
        return None  # the listing was cut short: a module unread may be the one
    checked = real_path(path)
    base_names, _ = base_words(knowledge, extensions)
    keys = project.memo.get(("module keys",))
    if not isinstance(keys, dict):
        keys = project.memo[("module keys",)] = module_key_map(modules)
    context = name_context(summary, str(checked), dotted, is_package, keys, base_names)
    if not same_as_disk:
        found = project_taint(modules, knowledge, (checked, summary, context), extensions)
        return None if found is None else (found, context)
    memo_key = ("taint", knowledge_key(knowledge), extensions)
    if memo_key not in project.memo:
        project.memo[memo_key] = project_taint(modules, knowledge, None, extensions)
    cached = project.memo[memo_key]
    if not isinstance(cached, Taint):
        return None
    if checked in modules:
        return cached, context
    # A file outside the project's packages (a script beside them): its own entries
    # on top of the project's, without changing the cached answer.
    fixpoint = Fixpoint(knowledge, extensions, cached.copy())
    fixpoint.add(summary, context)
    return fixpoint.taint, context


def clear_summaries() -> None:
    _SUMMARIES.clear()
    _TOKENS.clear()
