"""What may lead to a context-local: the semantic gate's facts, and how a mention is
matched against them.

Something is *tainted* when it may read a context-local, directly or through what it
mentions: a function whose body reads ``request``, a function that calls one, a class
with such a method, ``HANDLERS = {"a": work}`` when ``work`` is tainted, ``self.handler
= work``, ``from flask import request as rq``.  A mention is matched the way Python
binds the name, so that one module's ``app`` is not another's:

* a module's own global (def, class, assignment) by ``(module, name)``;
* an imported name by ``(the module it comes from, its name there)`` -- through
  re-exports, since every module-level import is itself a binding; a library's name is
  tainted only if it is a context-local;
* ``mod.func`` where ``mod`` is a project module, by ``(mod, func)``;
* ``self.x`` by the methods ``x`` of the class and its ancestors (as the engine
  resolves it: the class a method runs in is the instance's, whose own methods taint
  the class itself);
* any other name (a star import, a name the module never binds) by name alone, and an
  attribute of an unknown object by attribute name: coarse, but never too narrow.

So a gate built on it may let a file through needlessly, never drop one the engine
would report in (``project_taint.py`` computes it; ``semantic_gate.py`` asks it).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Mapping, Optional, Protocol, Set, Tuple

from ..knowledge import Knowledge
from ..knowledge.contexts import (
    EXTENSION_ATTRIBUTES, EXTENSION_OBJECTS, FAKE_REQUEST_METHODS, LOCAL_PROXY_CLASSES,
    NAME_ALIASES,
)
from .imports import resolve_relative
from .summaries import Mentions, ModuleSummary

#: A key of the taint: ``("n", name)`` a name matched by name alone, ``("a", attr)`` an
#: attribute, ``("c", name)`` a class by name, ``("o", module, name)`` a module's global
#: (``"class:" + name`` for a class, whose call yields an instance), ``("m", name)`` a
#: method (matched per class family).
Key = Tuple[str, ...]
#: What an imported name stands for: a key, ``BASE`` (a context-local itself) or
#: ``NOTHING`` (a library's name, a module object).
BASE: Key = ("base",)
NOTHING: Key = ("nothing",)
#: Bases that do not relate two classes of the project (every class derives from
#: ``object``; two ``dict`` subclasses share no method of the project's).
UNRELATING_BASES = frozenset(
    {name for name in dir(builtins) if isinstance(getattr(builtins, name), type)}
    | {"ABC", "Generic", "Protocol", "NamedTuple", "TypedDict", "Enum", "IntEnum"}
)
#: A method set on any object (``worker.callback = work``): matches ``self.x`` anywhere.
ANY_CLASS = "*"
#: Packages whose objects have context-local attributes (``EXTENSION_OBJECTS``).
EXTENSION_PACKAGES = tuple(sorted({n.split(".")[0] for n in EXTENSION_OBJECTS}))


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def base_words(
    knowledge: Knowledge, extensions: bool = True
) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """The words that are context-locals themselves: as names (``request``,
    ``current_user``, a configured local, ``LocalProxy``; ``flask.request`` counts as
    the name) and as attributes (``app.test_request_context``, and, where the project
    uses an extension that has them, ``db.session``/``Model.query`` --
    ``urlparse(url).query`` is no context-local elsewhere)."""
    names = frozenset(
        {_last(n) for n in knowledge.context_locals}
        | {_last(n) for n in NAME_ALIASES}
        | {_last(n) for n in knowledge.proxy_objects}
        | {_last(n) for n in LOCAL_PROXY_CLASSES}
    )
    attrs = FAKE_REQUEST_METHODS | (EXTENSION_ATTRIBUTES if extensions else frozenset())
    return names, frozenset(attrs)


@dataclass
class NameContext:
    """How a module binds the names its code mentions (see the module docstring)."""

    key: str
    own: FrozenSet[str]
    #: Imported local name -> what it stands for (a key, ``BASE`` or ``NOTHING``).
    imported: Mapping[str, Key]
    #: Imported local names that are project modules -> their key.
    modules: Mapping[str, str]
    #: Names bound by importing a watched package (``import flask``).
    watched: FrozenSet[str]
    #: Star imports: ``("star",)`` of a project module, ``BASE`` of a watched package
    #: (a library's star import binds nothing the gate needs).
    stars: Tuple[Key, ...] = ()


def name_context(
    summary: ModuleSummary,
    key: str,
    dotted: Optional[str],
    is_package: bool,
    module_keys: Mapping[str, str],
    base_names: FrozenSet[str],
) -> NameContext:
    """The module's bindings resolved against the project (``module_keys``: dotted
    module name -> key of every project module)."""
    imported: Dict[str, Key] = {}
    modules: Dict[str, str] = {}
    stars: List[Key] = []
    for binding in summary.imports:
        absolute: Optional[str] = binding.module
        if binding.level:
            absolute = resolve_relative(dotted, is_package, binding.level, binding.module)
        if binding.local == "*":
            if absolute is None or absolute.split(".")[0] in _tops(module_keys):
                stars.append(("star",))
            elif absolute.split(".")[0] in _WATCHED_STAR:
                stars.append(BASE)
            continue
        if absolute is None:
            imported[binding.local] = ("n", binding.name or binding.local)
            continue
        top = absolute.split(".")[0]
        if top in _tops(module_keys):
            full = f"{absolute}.{binding.name}" if binding.name else absolute
            if full in module_keys:
                imported[binding.local] = NOTHING  # a module object
                modules[binding.local] = module_keys[full]
            elif binding.name and absolute in module_keys:
                imported[binding.local] = ("o", module_keys[absolute], binding.name)
            else:
                imported[binding.local] = ("n", binding.name or binding.local)
        elif (binding.name or _last(absolute)) in base_names:
            imported[binding.local] = BASE
        else:
            imported[binding.local] = NOTHING  # a library's name
    return NameContext(
        key, summary.own, imported, modules, summary.watched_imports, tuple(stars)
    )


_TOPS: Dict[int, FrozenSet[str]] = {}


def _tops(module_keys: Mapping[str, str]) -> FrozenSet[str]:
    found = _TOPS.get(id(module_keys))
    if found is None:
        if len(_TOPS) > 64:
            _TOPS.clear()
        found = _TOPS[id(module_keys)] = frozenset(n.split(".")[0] for n in module_keys)
    return found


def keys_of(
    mentions: Mentions, context: NameContext, as_import: bool = False
) -> Tuple[bool, List[Key]]:
    """What the mentions are matched against: whether one is a context-local itself,
    and the keys any of which, once tainted, taints them.  ``as_import``: the entry of
    an import, whose name means the imported one, not a global of the same name."""
    keys: List[Key] = []
    for name in mentions.names:
        if name in context.own and not as_import:
            keys.append(("o", context.key, name))
            continue
        found = context.imported.get(name)
        if found is None:
            if _unbound(name, context, keys, ""):
                return True, []
        elif found is BASE:
            return True, []
        elif found is not NOTHING:
            keys.append(found)
    for name in mentions.called:
        if name in context.own:
            keys.append(("o", context.key, "class:" + name))
            continue
        found = context.imported.get(name)
        if found is None:
            _unbound(name, context, keys, "class:")
        elif found[0] == "o":
            keys.append(("o", found[1], "class:" + found[2]))
        elif found[0] == "n":
            keys.append(("c", found[1]))
    for receiver, attr in mentions.named_attrs:
        if receiver in context.modules:
            keys.append(("o", context.modules[receiver], attr))
        elif receiver in context.watched:
            keys.append(("n", attr))
    keys.extend(("m", attr) for attr in mentions.self_attrs)
    keys.extend(("a", attr) for attr in mentions.attrs)
    return False, keys


_BUILTIN_NAMES = frozenset(dir(builtins)) | {
    "__file__", "__name__", "__doc__", "__spec__", "__path__", "__package__", "__loader__",
    "__builtins__", "__cached__", "__annotations__",
}
#: Watched packages whose star import binds context-locals (Flask has no ``__all__``).
_WATCHED_STAR = frozenset({"flask", "flask_login"})


def _unbound(name: str, context: NameContext, keys: List[Key], prefix: str) -> bool:
    """A name the module neither defines nor imports: a builtin, a ``NameError``, or
    one a star import binds -- then any module's name of that spelling (a star import
    re-exports what the module star-imports in turn).  True: it may be a
    context-local itself (``from flask import *``)."""
    if name in _BUILTIN_NAMES and not context.stars:
        return False
    if BASE in context.stars and not prefix:
        return True
    keys.append(("c" if prefix else "n", name))
    return False


class Oracle(Protocol):
    """What the gate asks: may code with these mentions reach a context-local?"""

    def hits(
        self,
        mentions: Mentions,
        context: NameContext,
        local: FrozenSet[str] = ...,
        owner: str = ...,
    ) -> bool: ...


@dataclass
class Taint:
    """The tainted keys (see ``Key``)."""

    names: Set[str] = field(default_factory=set)
    attrs: Set[str] = field(default_factory=set)
    classes: Set[str] = field(default_factory=set)
    own: Set[Tuple[str, str]] = field(default_factory=set)
    #: A tainted method name -> the classes it is tainted in (``ANY_CLASS``: any).
    methods: Dict[str, Set[str]] = field(default_factory=dict)
    #: A class's ancestry by name, itself included (``Explorer.ancestors``).
    ancestry: Callable[[str], FrozenSet[str]] = field(default=lambda owner: frozenset({owner}))

    def holds(self, key: Key, owner: str) -> bool:
        """Whether ``key`` is tainted (``owner``: the class a ``self.x`` is in)."""
        kind = key[0]
        if kind == "n":
            return key[1] in self.names
        if kind == "o":
            return (key[1], key[2]) in self.own
        if kind == "a":
            return key[1] in self.attrs
        if kind == "c":
            return key[1] in self.classes
        return self.method_hit(owner, key[1])

    def method_hit(self, owner: str, word: str) -> bool:
        """Whether ``self.<word>`` in class ``owner`` (``""``: outside any class) may
        be a tainted method."""
        classes = self.methods.get(word)
        if not classes:
            return False
        if not owner or ANY_CLASS in classes:
            return True
        return not classes.isdisjoint(self.ancestry(owner))
