"""Which names of a project can lead to a context-local: the semantic gate's facts.

A word is *tainted* when something named by it may read a context-local, directly or
through what it mentions: a function whose body reads ``request``, a function that
calls one, a class with such a method, ``HANDLERS = {"a": work}`` when ``work`` is
tainted, ``self.handler = work``, ``from flask import request as rq``.  Matching is by
name, whatever module the mention is in, so it over-approximates what the engine can
follow (see ``summaries.py``): a gate may let a file through needlessly, never drop one
the engine would report in.

The fixed point starts from the knowledge's context-local words and spreads along an
inverted index (word -> entries mentioning it), so each entry is looked at once per
word it mentions.  Modules are parsed lazily: one whose identifiers include no tainted
word has no tainted entry, so it is never parsed (a project's models, forms and
utilities mostly stay unread).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from ..knowledge import Knowledge, knowledge_key
from ..knowledge.contexts import (
    EXTENSION_ATTRIBUTES, EXTENSION_OBJECTS, FAKE_REQUEST_METHODS, LOCAL_PROXY_CLASSES,
    NAME_ALIASES,
)
from .files import MAX_SCANNED_FILES, real_path
from .sources import source_text, source_tree

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project
from .summaries import Entry, Mentions, ModuleSummary, summarise

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Channels of the inverted index: a word tainted as a name, a method, an attribute.
_NAME, _METHOD, _ATTR, _CLASS, _OWN = 0, 1, 2, 3, 4


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def base_words(
    knowledge: Knowledge, extensions: bool = True
) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """The words that are context-locals themselves: as names (``request``,
    ``current_user``, a configured local, ``LocalProxy``; ``flask.request`` counts as
    the name, see ``summaries``) and as attributes (``app.test_request_context``, and,
    where the project uses an extension that has them, ``db.session``/``Model.query``
    -- ``urlparse(url).query`` is no context-local elsewhere)."""
    names = frozenset(
        {_last(n) for n in knowledge.context_locals}
        | {_last(n) for n in NAME_ALIASES}
        | {_last(n) for n in knowledge.proxy_objects}
        | {_last(n) for n in LOCAL_PROXY_CLASSES}
    )
    attrs = FAKE_REQUEST_METHODS | (EXTENSION_ATTRIBUTES if extensions else frozenset())
    return names, frozenset(attrs)


#: Packages whose objects have context-local attributes (``EXTENSION_OBJECTS``).
EXTENSION_PACKAGES = tuple(sorted({n.split(".")[0] for n in EXTENSION_OBJECTS}))


@dataclass
class Taint:
    """The tainted words, by how a mention is matched against them."""

    names: Set[str] = field(default_factory=set)
    methods: Set[str] = field(default_factory=set)
    attrs: Set[str] = field(default_factory=set)
    #: The tainted classes (also in ``names``): calling one yields an instance whose
    #: methods come along, while calling a function yields data.
    classes: Set[str] = field(default_factory=set)
    #: A module's own tainted globals, by (module key, name); a class also as
    #: (module key, "class:" + name).
    own: Set[Tuple[str, str]] = field(default_factory=set)

    def hits(
        self,
        mentions: Mentions,
        imported: FrozenSet[str],
        local: FrozenSet[str] = frozenset(),
        results_count: bool = False,
        module: str = "",
        own: FrozenSet[str] = frozenset(),
    ) -> bool:
        """Whether code with these mentions may reach a context-local (``imported``:
        names bound by imports of project modules in its module; ``local``: its
        scope's tainted names; ``results_count``: the result of calling a tainted
        function may be a callable too -- a factory's closure -- as at a dispatch)."""
        for name in mentions.names & own:
            if (module, name) in self.own:
                return True
        for name in mentions.called & own:
            if (module, name if results_count else "class:" + name) in self.own:
                return True
        if results_count and not (mentions.called - own).isdisjoint(self.names):
            return True
        names = mentions.names - own
        if not names.isdisjoint(self.names) or not names.isdisjoint(local):
            return True
        if not mentions.self_attrs.isdisjoint(self.methods):
            return True
        if not mentions.attrs.isdisjoint(self.attrs):
            return True
        if not (mentions.called - own).isdisjoint(self.classes):
            return True
        return any(
            attr in self.names for receiver, attr in mentions.named_attrs if receiver in imported
        )

    def words(self) -> Set[str]:
        return self.names | self.methods | self.attrs | self.classes


class _Fixpoint:
    """The spreading itself (see the module docstring)."""

    def __init__(self, knowledge: Knowledge, extensions: bool = True) -> None:
        names, attrs = base_words(knowledge, extensions)
        self.taint = Taint(set(names), set(), set(attrs))
        self._waiting: Dict[Tuple[int, object], List[Tuple[Entry, str]]] = {}
        self._queue: List[Tuple[int, object]] = []
        #: Words tainted since ``drain_added`` was last asked.
        self._added: List[str] = []

    def drain_added(self) -> List[str]:
        added, self._added = self._added, []
        return added

    def add(self, entries: Iterable[Entry], module: str = "") -> None:
        taint = self.taint
        for entry in entries:
            if (
                any((module, w) in taint.own for w in entry.own_names)
                or any((module, "class:" + w) in taint.own for w in entry.own_called)
                or not entry.names.isdisjoint(taint.names)
                or not entry.module_attrs.isdisjoint(taint.names)
                or not entry.self_attrs.isdisjoint(taint.methods)
                or not entry.attrs.isdisjoint(taint.attrs)
                or not entry.called.isdisjoint(taint.classes)
            ):
                self._taint(entry, module)
                continue
            for word in entry.own_names:
                self._waiting.setdefault((_OWN, (module, word)), []).append((entry, module))
            for word in entry.own_called:
                self._waiting.setdefault(
                    (_OWN, (module, "class:" + word)), []
                ).append((entry, module))
            for word in entry.names | entry.module_attrs:
                self._waiting.setdefault((_NAME, word), []).append((entry, module))
            for word in entry.self_attrs:
                self._waiting.setdefault((_METHOD, word), []).append((entry, module))
            for word in entry.attrs:
                self._waiting.setdefault((_ATTR, word), []).append((entry, module))
            for word in entry.called:
                self._waiting.setdefault((_CLASS, word), []).append((entry, module))
        self._spread()

    def _taint(self, entry: Entry, module: str) -> None:
        if _CAUSES is not None:
            _CAUSES.setdefault(entry.word, entry)
        if entry.top:
            self._own((module, entry.word))
            if entry.kind == "class":
                self._own((module, "class:" + entry.word))
        if entry.kind == "attr":
            self._word(_ATTR, entry.word)
            self._word(_METHOD, entry.word)
            return
        if entry.in_class:
            self._word(_METHOD, entry.word)  # ``self.run``: a method, or a class attribute
            return
        self._word(_NAME, entry.word)
        if entry.kind == "class":
            self._word(_CLASS, entry.word)

    def _word(self, channel: int, word: str) -> None:
        taint = self.taint
        target = (taint.names, taint.methods, taint.attrs, taint.classes)[channel]
        if word not in target:
            target.add(word)
            self._queue.append((channel, word))
            self._added.append(word)

    def _own(self, key: Tuple[str, str]) -> None:
        if key not in self.taint.own:
            self.taint.own.add(key)
            self._queue.append((_OWN, key))

    def _spread(self) -> None:
        while self._queue:
            key = self._queue.pop()
            for entry, module in self._waiting.pop(key, ()):
                self._taint(entry, module)


#: Debugging aid (``benchmarks``): the first entry that tainted each word, when set.
_CAUSES: Optional[Dict[str, Entry]] = None
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


def summary_of(
    path: Path, project_names: FrozenSet[str], watched: FrozenSet[str]
) -> Optional[ModuleSummary]:
    text = source_text(path)
    if text is None:
        return None
    key = (*_key(path, text), hash((project_names, watched)))
    if key not in _SUMMARIES:
        tree = source_tree(path)
        _SUMMARIES[key] = (
            summarise(tree, project_names, watched) if tree is not None else None
        )
    return _SUMMARIES[key]


def project_taint(
    modules: Iterable[Path],
    knowledge: Knowledge,
    overlay: Optional[Tuple[Path, ModuleSummary]] = None,
    project_names: FrozenSet[str] = frozenset(),
    extensions: bool = True,
) -> Optional[Taint]:
    """The tainted words of the project made of ``modules`` (``overlay``: the checked
    module's path and the summary of the text being checked, which stands for the file
    on disk).  None when a module cannot be read or parsed: then nothing can be ruled
    out, and the caller must let the file through."""
    fixpoint = _Fixpoint(knowledge, extensions)
    watched = frozenset(knowledge.watched_packages)
    if overlay is not None:
        fixpoint.add(overlay[1].entries, str(overlay[0]))
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
    seen = 0
    words = list(fixpoint.taint.words())
    while seen < len(words):
        ready: List[Path] = []
        for word in words[seen:]:
            for path in holders.pop(word, ()):
                if path not in read:
                    read.add(path)
                    ready.append(path)
        seen = len(words)
        for path in ready:
            summary = summary_of(path, project_names, watched)
            if summary is None:
                return None
            fixpoint.add(summary.entries, str(path))
        words.extend(fixpoint.drain_added())
    return fixpoint.taint


def taint_for(
    summary: ModuleSummary,
    knowledge: Knowledge,
    project: Optional["Project"],
    path: Optional[Path],
    same_as_disk: bool,
    extensions: bool = True,
) -> Optional[Tuple[Taint, str]]:
    """The taint the checked module's sites are judged by, and the module's key in it:
    its project's (computed once per process and knowledge while every checked text is
    the file on disk), or, for an unsaved buffer, the project's with this text standing
    for the file.  None: a project file could not be read or parsed, or the project is
    too big to list (nothing can be ruled out)."""
    if project is None or path is None:
        fixpoint = _Fixpoint(knowledge, extensions)
        fixpoint.add(summary.entries, "")
        return fixpoint.taint, ""
    modules = {module for module, _dotted in project.modules()}
    if len(modules) >= MAX_SCANNED_FILES:
        return None  # the listing was cut short: a module unread may be the one
    checked = real_path(path)
    key = str(checked)
    tops = project.top_level_names()
    if not same_as_disk:
        found = project_taint(sorted(modules), knowledge, (checked, summary), tops, extensions)
        return None if found is None else (found, key)
    memo_key = ("taint", knowledge_key(knowledge), extensions)
    if memo_key not in project.memo:
        project.memo[memo_key] = project_taint(sorted(modules), knowledge, None, tops, extensions)
    cached = project.memo[memo_key]
    if not isinstance(cached, Taint):
        return None
    if checked in modules:
        return cached, key
    # A file outside the project's packages (a script beside them): its own entries
    # on top of the project's, without changing the cached answer.
    fixpoint = _Fixpoint(knowledge, extensions)
    fixpoint.taint = Taint(
        set(cached.names), set(cached.methods), set(cached.attrs), set(cached.classes),
        set(cached.own),
    )
    fixpoint.add(summary.entries, key)
    return fixpoint.taint, key


def clear_summaries() -> None:
    _SUMMARIES.clear()
    _TOKENS.clear()
