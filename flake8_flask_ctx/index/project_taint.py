"""The semantic gate's taint of a project, worked out on demand (``Explorer``).

A question about some keys (``taint.py``) loads the modules that can define them --
found from their text, so most modules are never parsed -- then those that can define
what the definitions mention, and so on; the fixed point (``taint_fixpoint.py``) spreads
the taint over what is loaded.  One explorer per process, project and knowledge while
every checked text is the file on disk; an unsaved editor buffer gets a fresh one, with
its text standing for the file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

from ..knowledge import Knowledge, knowledge_key
from .files import MAX_SCANNED_FILES, real_path
from .sources import source_text, source_tree, tokens_of
from .summaries import Entry, Mentions, ModuleSummary, module_bindings, summarise
from .taint import UNRELATING_BASES, Key, NameContext, keys_of, name_context
from .taint_fixpoint import Fixpoint, mentions_of_entry

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_SUMMARIES: Dict[Tuple[str, int, int, int], Optional[ModuleSummary]] = {}


def _key(path: Path, text: str) -> Tuple[str, int, int]:
    return (str(path), len(text), hash(text))


def summary_of_text(
    path: Path, text: str, tree: ast.AST, watched: FrozenSet[str]
) -> ModuleSummary:
    """The checked module's summary, from the tree flake8 gave, shared with a later
    load of the same text from disk."""
    key = (*_key(path, text), hash(watched))
    found = _SUMMARIES.get(key)
    if found is None:
        found = _SUMMARIES[key] = summarise(tree, watched)
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


#: The gate's budget per process and project: past it, the gate lets every module
#: through (its answer would cost more than the parses it saves).  A whole application's
#: dispatch sites rarely need a tenth of its modules; a family of hundreds of test
#: classes sharing ``self.server`` can need them all.
MAX_LOADED_MODULES = 250
MAX_SCANNED_TEXTS = 20_000
_CLASS_STATEMENT = re.compile(r"^[ \t]*class[ \t]+(\w+)[ \t]*(?:\(([^:]*?)\))?[ \t]*:", re.M)


class Explorer:
    """The taint of a project, worked out on demand: a question about some keys loads
    the modules that can define them, then the modules that can define what those
    definitions mention, and so on, and the fixed point (``Fixpoint``) spreads over
    what is loaded.  A module nothing asked about is never parsed.

    Where a key's definitions can be (``providers``): a module's global is in that
    module; a name matched by spelling, or an attribute set on some object, is in any
    module whose text holds the word; a method is in the modules that define a class of
    the asking class's family, found from the project's text (``family``)."""

    def __init__(
        self, modules: Mapping[Path, Optional[str]], knowledge: Knowledge, extensions: bool
    ) -> None:
        self.fixpoint = Fixpoint(knowledge, extensions)
        self.taint = self.fixpoint.taint
        self.modules = modules
        self.paths = {str(path): path for path in modules}
        self.module_keys = module_key_map(modules)
        self.watched = frozenset(knowledge.watched_packages)
        self.loaded: Set[str] = set()
        self.explored: Set[Key] = set()
        #: What defines each key, among the loaded modules.
        self.defining: Dict[Key, List[Tuple[Entry, NameContext]]] = {}
        self._holders: Optional[Dict[str, List[str]]] = None
        self._ancestors: Dict[str, FrozenSet[str]] = {}
        self._bases: Dict[str, FrozenSet[str]] = {}
        #: Bases of the classes of texts given directly (the checked buffer).
        self._text_bases: Dict[str, Set[str]] = {}
        self._class_modules: Dict[str, Set[str]] = {}
        self.taint.ancestry = self.ancestors
        #: A module could not be read or parsed, or telling costs more than the budget
        #: (``MAX_LOADED_MODULES``, ``MAX_SCANNED_TEXTS``): nothing is ruled out.
        self.failed = False
        self.scanned = 0

    def hits(
        self,
        mentions: Mentions,
        context: NameContext,
        local: FrozenSet[str] = frozenset(),
        owner: str = "",
    ) -> bool:
        """``Taint.hits``, with the keys' definitions loaded first."""
        if not mentions.names.isdisjoint(local):
            return True
        is_base, keys = keys_of(mentions, context)
        return is_base or self.query([(key, owner) for key in keys])

    def query(self, asked: List[Tuple[Key, str]]) -> bool:
        pending = list(asked)
        holds = self.taint.holds
        while True:
            if self.failed or any(holds(key, owner) for key, owner in asked):
                return True
            if not pending:
                return False
            key, owner = pending.pop()
            explored = ("m", key[1], owner) if key[0] == "m" else key
            if explored in self.explored:
                continue
            self.explored.add(explored)
            for path in self.providers(key, owner):
                self.load(path)
            for entry, context in self.definitions(key, owner):
                _, keys = keys_of(mentions_of_entry(entry), context, entry.kind == "import")
                pending.extend((found, entry.owner) for found in keys)

    def load_text(
        self, key: str, summary: ModuleSummary, context: NameContext, on_disk: bool = True
    ) -> None:
        """A module given as text (the checked buffer), standing for the file
        (``on_disk``: the same text as the file's, whose classes the project's text
        already shows)."""
        self.loaded.add(key)
        if not on_disk:
            for entry in summary.entries:
                if entry.kind == "class":
                    self._text_bases.setdefault(entry.word, set()).update(entry.bases)
                    self._class_modules.setdefault(entry.word, set()).add(key)
            self._ancestors.clear()
            self._bases.clear()
        self._index(summary, context)
        self.fixpoint.add(summary, context)

    def context_of(self, key: str, summary: ModuleSummary) -> NameContext:
        path = self.paths.get(key)
        dotted = self.modules.get(path) if path is not None else None
        return name_context(
            summary, key, dotted, key.endswith("__init__.py"), self.module_keys,
            self.fixpoint.base_names,
        )

    def load(self, key: str) -> None:
        if key in self.loaded:
            return
        self.loaded.add(key)
        if len(self.loaded) > MAX_LOADED_MODULES:
            self.failed = True
            return
        summary = summary_of(Path(key), self.watched)
        if summary is None:
            self.failed = True
            return
        context = self.context_of(key, summary)
        self._index(summary, context)
        self.fixpoint.add(summary, context)

    def _index(self, summary: ModuleSummary, context: NameContext) -> None:
        for entry in summary.entries:
            word, kind = entry.word, entry.kind
            keys: List[Key] = []
            if entry.top:
                keys.append(("o", context.key, word))
                if kind in ("class", "import"):
                    keys.append(("o", context.key, "class:" + word))
            if kind == "attr":
                keys += [("a", word), ("m", word)]
            elif kind == "selfattr" or entry.in_class:
                keys.append(("m", word))
            else:
                keys.append(("n", word))
                if kind in ("class", "import"):
                    keys.append(("c", word))
            for key in keys:
                self.defining.setdefault(key, []).append((entry, context))

    def definitions(self, key: Key, owner: str) -> List[Tuple[Entry, NameContext]]:
        found = self.defining.get(key, [])
        if key[0] != "m" or not owner:
            return found
        ancestors = self.ancestors(owner)
        return [
            (entry, context) for entry, context in found
            if entry.kind == "attr" or not entry.owner or entry.owner in ancestors
        ]

    def providers(self, key: Key, owner: str) -> List[str]:
        """The modules that may define ``key`` (see the class docstring).  An attribute
        set on an object of unknown type (``app.handler = work``) is not followed, as
        the engine does not follow it; ``self.x = ...`` is, by family."""
        kind = key[0]
        if kind == "o":
            return [key[1]] if key[1] in self.paths else []
        if kind == "a":
            return []
        word = key[-1]
        candidates = self.holders().get(word, [])
        if kind == "m":
            if owner:
                defining: Set[str] = set()
                for name in self.ancestors(owner):
                    defining |= self._class_modules.get(name, set())
            else:  # ``self.x`` outside a class: any class's
                defining = {path for paths in self._class_modules.values() for path in paths}
            candidates = [path for path in candidates if path in defining]
        binds = _binding(word)
        self.scanned += len(candidates)
        if self.scanned > MAX_SCANNED_TEXTS:
            self.failed = True  # too dear to tell: let every module through
            return []
        return [path for path in candidates if binds.search(_text(path))]

    def ancestors(self, owner: str) -> FrozenSet[str]:
        """A class and every class it derives from, by name, read from the text of the
        modules defining them (and from the checked text's own classes)."""
        found = self._ancestors.get(owner)
        if found is None:
            seen: Set[str] = set()
            pending = [owner]
            while pending:
                name = pending.pop()
                if name in seen:
                    continue
                seen.add(name)
                pending.extend(self._bases_of(name))
            found = self._ancestors[owner] = frozenset(seen)
        return found

    def _bases_of(self, name: str) -> FrozenSet[str]:
        """The bases of every class called ``name`` in the project's text."""
        found = self._bases.get(name)
        if found is None:
            bases = set(self._text_bases.get(name, ()))
            for path in self.holders().get(name, []):
                for defined, words in _classes(path):
                    if defined == name:
                        self._class_modules.setdefault(name, set()).add(path)
                        bases |= words
            found = self._bases[name] = frozenset(bases - UNRELATING_BASES)
        return found

    def holders(self) -> Dict[str, List[str]]:
        """Which modules hold each identifier (read once per project)."""
        if self._holders is None:
            holders: Dict[str, List[str]] = {}
            for key, path in self.paths.items():
                tokens = tokens_of(path)
                if tokens is None:
                    self.failed = True
                    continue
                for token in tokens:
                    holders.setdefault(token, []).append(key)
            self._holders = holders
        return self._holders


def _text(key: str) -> str:
    return source_text(Path(key)) or ""


_BINDINGS: Dict[str, "re.Pattern[str]"] = {}


def _binding(word: str) -> "re.Pattern[str]":
    """Where a text may bind ``word`` (so hold an entry for it): ``def word``, ``class
    word``, ``word`` before an ``=`` on its line (``word = ...``, ``a, word = ...``,
    ``self.word = ...``), an import of it.  A generous test on text: a module that
    fails it defines no such name, and is not parsed to find out."""
    found = _BINDINGS.get(word)
    if found is None:
        w = re.escape(word)
        found = _BINDINGS[word] = re.compile(
            rf"(?:def|class)\s+{w}\b|\b{w}\b[^\n=]*(?<![=!<>])=(?!=)"
            rf"|import[^\n]*\b{w}\b|import\s*\([^)]*\b{w}\b|\bas\s+{w}\b"
        )
    return found


_CLASSES: Dict[Tuple[str, int, int], List[Tuple[str, FrozenSet[str]]]] = {}


def _classes(key: str) -> List[Tuple[str, FrozenSet[str]]]:
    """The classes a module's text defines, with the words of their bases."""
    text = _text(key)
    cache_key = _key(Path(key), text)
    found = _CLASSES.get(cache_key)
    if found is None:
        found = _CLASSES[cache_key] = [
            (match.group(1), frozenset(_IDENTIFIER.findall(match.group(2) or "")))
            for match in _CLASS_STATEMENT.finditer(text)
        ]
    return found


def module_key_map(modules: Mapping[Path, Optional[str]]) -> Dict[str, str]:
    return {dotted: str(path) for path, dotted in modules.items() if dotted}


def taint_for(
    tree: ast.AST,
    text: str,
    knowledge: Knowledge,
    project: Optional["Project"],
    path: Optional[Path],
    where: Tuple[Optional[str], bool],
    same_as_disk: bool,
    extensions: bool = True,
) -> Optional[Tuple[Explorer, NameContext]]:
    """What the checked module's sites are judged by, and the module's bindings: its
    project's explorer (one per process and knowledge while every checked text is the
    file on disk; a fresh one, with this text standing for the file, for an unsaved
    buffer).  ``where``: the module's dotted name and whether it is a package.  A
    project module on disk is summarised only if a question needs its definitions (its
    bindings come from its statements).  None: the project is too big to list
    (nothing can be ruled out)."""
    watched = frozenset(knowledge.watched_packages)
    dotted, is_package = where
    if project is None or path is None:
        explorer = Explorer({}, knowledge, extensions)
        summary = summarise(tree, watched)
        context = explorer.context_of("", summary)
        explorer.load_text("", summary, context, on_disk=False)
        return explorer, context
    listed = project.memo.get(("module paths",))
    if not isinstance(listed, dict):
        listed = project.memo[("module paths",)] = dict(project.modules())
    modules: Dict[Path, Optional[str]] = listed
    if len(modules) >= MAX_SCANNED_FILES:
        return None  # the listing was cut short: a module unread may be the one
    key = str(real_path(path))
    memo_key = ("explorer", knowledge_key(knowledge), extensions)
    shared = project.memo.get(memo_key)
    if not same_as_disk or not isinstance(shared, Explorer):
        explorer = Explorer(modules, knowledge, extensions)
        if same_as_disk:
            project.memo[memo_key] = explorer
    else:
        explorer = shared
    base_names = explorer.fixpoint.base_names
    if same_as_disk and key in explorer.paths:
        bindings = module_bindings(tree, watched)
        return explorer, name_context(
            bindings, key, dotted, is_package, explorer.module_keys, base_names
        )
    summary = summary_of_text(path, text, tree, watched) if same_as_disk else summarise(
        tree, watched
    )
    context = name_context(summary, key, dotted, is_package, explorer.module_keys, base_names)
    if key not in explorer.loaded:
        explorer.load_text(key, summary, context, on_disk=False)
    return explorer, context


def clear_summaries() -> None:
    _SUMMARIES.clear()
    _CLASSES.clear()
