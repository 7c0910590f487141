"""The records of the semantic gate's module summaries (``summaries.py`` builds them):
what a piece of code mentions, and the definitions, bindings and imports of a module.
Plain data: nothing here knows Python's scoping or Flask."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import FrozenSet, Optional, Set, Tuple


@dataclass
class Mentions:
    """The names a piece of code uses, sorted by how the gate matches them."""

    names: Set[str] = field(default_factory=set)
    self_attrs: Set[str] = field(default_factory=set)
    attrs: Set[str] = field(default_factory=set)
    #: ``(receiver, attribute)`` for a plain-name receiver; which receivers are
    #: modules is known only once the whole module's imports are seen.
    named_attrs: Set[Tuple[str, str]] = field(default_factory=set)
    #: Last names of what a value calls, when only the call's result is kept (see
    #: ``references``): tainted only if it is a class (an instance comes along).
    called: Set[str] = field(default_factory=set)
    #: Names bound in the scope being scanned (assigned, imported, defined) and those
    #: it declares ``global``: a function's own names are not the module's.
    stored: Set[str] = field(default_factory=set)
    declared_global: Set[str] = field(default_factory=set)

    def add(self, other: "Mentions") -> None:
        self.names |= other.names
        self.self_attrs |= other.self_attrs
        self.attrs |= other.attrs
        self.named_attrs |= other.named_attrs
        self.called |= other.called
        self.stored |= other.stored
        self.declared_global |= other.declared_global


@dataclass(frozen=True)
class Entry:
    """A definition or binding that can become tainted, and what it mentions.

    ``kind``: ``"def"`` (a function; ``in_class``: a method), ``"class"``, ``"name"`` (a
    module-level or class-level name bound to a value), ``"attr"`` / ``"selfattr"`` (an
    attribute set on some object / on ``self``: ``self.handler = work``), ``"import"``
    (a name a module-level import binds: importers of this module see it).  ``names``
    are free names: which are the module's own, which are imported and which are
    neither is told by the module (``taint.NameContext``).
    """

    kind: str
    word: str
    in_class: bool
    names: FrozenSet[str]
    self_attrs: FrozenSet[str]
    #: ``(receiver, attribute)`` for plain-name receivers (``utils.helper``).
    named_attrs: FrozenSet[Tuple[str, str]]
    attrs: FrozenSet[str]
    called: FrozenSet[str]
    line: int
    #: Whether this binds one of the module's globals (importers can see it).
    top: bool = False
    #: The class this is in (``self.x`` in it means that class's ``x``); for a class,
    #: itself.  ``bases``: a class's bases, by last name.
    owner: str = ""
    bases: FrozenSet[str] = frozenset()


@dataclass(frozen=True)
class ImportBinding:
    """``from ..a import b as c`` binds ``c`` (level 2, module ``a``, name ``b``);
    ``import a.b as m`` binds ``m`` (module ``a.b``, no name); ``import a.b`` binds
    ``a`` (module ``a``)."""

    local: str
    level: int
    module: str
    name: Optional[str]


@dataclass(frozen=True)
class ModuleSummary:
    entries: Tuple[Entry, ...]
    imports: Tuple[ImportBinding, ...]
    #: Names bound by imports of a watched package (``import flask``): an attribute of
    #: one is a mention of the name (``flask.request``).
    watched_imports: FrozenSet[str] = frozenset()
    #: Names the module binds at module level itself (def, class, assignment): a free
    #: mention of one means the module's own, not another module's of the same name.
    own: FrozenSet[str] = frozenset()
