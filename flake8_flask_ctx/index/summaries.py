"""What a module's definitions mention: one ``ast`` walk per module, for the semantic gate.

The semantic gate (``taint.py``, ``semantic_gate.py``) asks, before a file is parsed
with LibCST, whether any of its dispatch sites could reach a context-local.  It answers
from *mentions*: the names and attribute names each function, class and binding of the
project uses anywhere in its text (body, decorators, defaults, annotations).  A mention
is all that is needed to over-approximate what the engine can follow -- the engine
resolves a call, an alias, a partial, a property or a method only through a name that
appears in the code -- so a definition that mentions nothing tainted cannot lead the
engine to a context-local.

A mention is kept in one of four sets, because the gate matches them differently:
``names`` (``Name`` ids), ``self_attrs`` (``self.x``/``cls.x``/``super().x``: methods of
some class), ``module_attrs`` (``mod.x`` where ``mod`` is bound by an import: a module's
function), ``attrs`` (every attribute name).  Nothing here knows Flask.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import FrozenSet, List, Optional, Set, Tuple

from ..knowledge.calls import REFERENCE_FACTORIES, REFERENCE_METHODS
from ..knowledge.contexts import (
    LAZY_QUERY_METHODS, LIFETIME_ATTRIBUTES, LIFETIME_CALLS, PROXY_OBJECTS,
)
from .ast_walk import children

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SELF_NAMES = frozenset({"self", "cls"})
#: An attribute of a proxy is a plain object (``request.args``, ``current_app.config``,
#: ``g.user``), except these request-lifetime ones; the proxies' own names.
_LIFETIME_WORDS = frozenset(
    {n.split(".")[2] for n in LIFETIME_ATTRIBUTES}
    | {n.split(".")[2] for n in LIFETIME_CALLS if n.count(".") >= 3}
)
_LIFETIME_METHODS = frozenset(
    (n.split(".")[-2], n.split(".")[-1]) for n in LIFETIME_CALLS
)
_PROXY_WORDS = frozenset(n.rsplit(".", 1)[-1] for n in PROXY_OBJECTS)


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
    """A definition or binding that can become tainted, and the words it then taints.

    ``kind``: ``"def"`` (a function; ``in_class``: a method), ``"class"``, ``"name"``
    (a module-level or class-level name bound to a value, or an import alias), ``"attr"``
    (an attribute set anywhere: ``self.handler = work``).
    """

    kind: str
    word: str
    in_class: bool
    names: FrozenSet[str]
    self_attrs: FrozenSet[str]
    module_attrs: FrozenSet[str]
    attrs: FrozenSet[str]
    line: int
    called: FrozenSet[str] = frozenset()
    #: Mentions of the module's own globals (see ``ModuleSummary.own``).
    own_names: FrozenSet[str] = frozenset()
    own_called: FrozenSet[str] = frozenset()
    #: Whether this binds one of the module's own globals (maybe: a nested ``def`` of
    #: the same name counts too, which only over-approximates).
    top: bool = False


@dataclass(frozen=True)
class ModuleSummary:
    entries: Tuple[Entry, ...]
    #: Names bound by imports of project modules (any depth): receivers whose
    #: attributes are module-level functions (``utils.helper``).
    imported: FrozenSet[str]
    #: Names bound by imports of a watched package (``import flask``).
    watched_imports: FrozenSet[str] = frozenset()
    #: Names the module binds at module level itself: a free mention of one means the
    #: module's own (``app = Flask(__name__)``), not another module's ``def app()``.
    own: FrozenSet[str] = frozenset()


class _Collector:
    """One pass over a module: the mentions of every definition, an entry for each.

    Expressions are walked iteratively (generated code nests them deeply); only
    definitions recurse, and they nest a few levels at most."""

    def __init__(
        self, project_names: FrozenSet[str] = frozenset(), watched: FrozenSet[str] = frozenset()
    ) -> None:
        self.raw: List[Tuple[str, str, bool, Mentions, int]] = []
        self.imported: Set[str] = set()
        self.watched_imports: Set[str] = set()
        #: Names the module binds itself at module level (def, class, assignment).
        self.own: Set[str] = set()
        self.project_names = project_names
        self.watched = watched

    def scan(self, node: ast.AST, level: str) -> Mentions:
        """The mentions under ``node`` (itself included unless it is a definition,
        which ``definition`` handles).  ``level``: ``"module"``, ``"class"`` or
        ``"function"`` -- where a bare ``name = value`` under ``node`` binds."""
        mentions = Mentions()
        pending: List[ast.AST] = [node]
        while pending:
            current = pending.pop()
            kind = current.__class__
            if kind is ast.Name:
                mentions.names.add(current.id)  # type: ignore[attr-defined]
                if current.ctx.__class__ is not ast.Load:  # type: ignore[attr-defined]
                    mentions.stored.add(current.id)  # type: ignore[attr-defined]
            elif kind is ast.Global or kind is ast.Nonlocal:
                mentions.declared_global.update(current.names)  # type: ignore[attr-defined]
            elif kind is ast.Attribute:
                self._attribute(current, mentions)  # type: ignore[arg-type]
                pending.append(current.value)  # type: ignore[attr-defined]
            elif kind in _DEFS or kind is ast.ClassDef:
                if level == "module":
                    self.own.add(current.name)  # type: ignore[attr-defined]
                mentions.add(self.definition(current, level == "class"))
                mentions.stored.add(current.name)  # type: ignore[attr-defined]
            elif kind is ast.Import or kind is ast.ImportFrom:
                # An import in a function still names the other module's global
                # (``from .views import client_label``): a mention, not a local.
                mentions.names.update(self._imports(current))
            elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
                mentions.add(self._assignment(current, level))
            else:
                pending.extend(children(current))
        return mentions

    def definition(self, node: ast.AST, in_class: bool) -> Mentions:
        """A function or class: its entry, and its mentions for the enclosing one."""
        assert isinstance(node, (*_DEFS, ast.ClassDef))
        is_class = isinstance(node, ast.ClassDef)
        mentions = Mentions()
        outside = Mentions()  # decorators, defaults, annotations: the enclosing scope's
        for child in children(node):
            if is_class or child in node.decorator_list or child.__class__ is ast.arguments:
                scanned = self.scan(child, "class" if is_class else "function")
                (mentions if is_class else outside).add(scanned)
            else:
                mentions.add(self.scan(child, "function"))
        if not is_class:
            assert isinstance(node, _DEFS)
            arguments = node.args
            mentions.stored.update(
                a.arg for a in [
                    *arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                    *(x for x in (arguments.vararg, arguments.kwarg) if x is not None),
                ]
            )
            # Only free names reach the module: a parameter or local called ``app``
            # is not the module's ``app``.
            mentions.names -= mentions.stored - mentions.declared_global
            mentions.named_attrs = {
                pair for pair in mentions.named_attrs
                if pair[0] not in mentions.stored or pair[0] in mentions.declared_global
            }
            mentions.add(outside)
        mentions.stored = set()
        mentions.declared_global = set()
        self.raw.append(("class" if is_class else "def", node.name, in_class, mentions,
                         node.lineno))
        return mentions

    def _attribute(self, node: ast.Attribute, mentions: Mentions) -> None:
        attr, value = node.attr, node.value
        mentions.attrs.add(attr)
        if value.__class__ is ast.Name:
            receiver = value.id
            if receiver in _SELF_NAMES:
                mentions.self_attrs.add(attr)
            else:
                mentions.named_attrs.add((receiver, attr))
        elif value.__class__ is ast.Call and _is_super(value):
            mentions.self_attrs.add(attr)

    def _assignment(self, node: ast.AST, level: str) -> Mentions:
        """``target = value``: a module- or class-level name stands for what the value
        mentions (``HANDLERS = {"a": work}``, ``req = request``); an attribute set
        anywhere does too (``self.handler = work``)."""
        value = getattr(node, "value", None)
        mentions = self.scan(value, level) if value is not None else Mentions()
        referenced = references(value) if value is not None else Mentions()
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target")]
        line = getattr(node, "lineno", 0)
        for target in targets:
            for leaf in _leaves(target):
                if isinstance(leaf, ast.Attribute):
                    self.raw.append(("attr", leaf.attr, False, referenced, line))
                elif isinstance(leaf, ast.Name) and level != "function":
                    if level == "module":
                        self.own.add(leaf.id)
                    self.raw.append(("name", leaf.id, level == "class", referenced, line))
        found = Mentions()
        found.add(mentions)
        for target in targets:
            found.add(self.scan(target, level))
        annotation = getattr(node, "annotation", None)
        if annotation is not None:
            found.add(self.scan(annotation, level))
        return found

    def _imports(self, node: ast.AST) -> Set[str]:
        bound: Set[str] = set()
        for alias in getattr(node, "names", ()):
            if alias.name == "*":
                continue
            local = alias.asname or alias.name.split(".")[0]
            bound.add(local)
            source = alias.name if isinstance(node, ast.Import) else (
                "." if getattr(node, "level", 0) else (getattr(node, "module", "") or "")
            )
            if source.startswith(".") or source.split(".")[0] in self.project_names:
                # ``import pkg.mod``, ``from . import mod``: may bind a project module.
                self.imported.add(local)
            original = alias.name.rsplit(".", 1)[-1]
            if local != original:
                # ``from flask import request as rq``: ``rq`` stands for ``request``.
                self.raw.append(("name", local, False, Mentions(names={original}),
                                 getattr(node, "lineno", 0)))
            if source.split(".")[0] in self.watched:
                self.watched_imports.add(local)  # ``import flask``: ``flask.request``
        return bound


def _is_super(call: ast.AST) -> bool:
    func = getattr(call, "func", None)
    return isinstance(func, ast.Name) and func.id == "super"


def _leaves(target: ast.AST) -> List[ast.AST]:
    """The names and attributes a target binds (through tuples, lists, starred and
    subscripts: ``HANDLERS["a"] = work`` binds ``HANDLERS``)."""
    found: List[ast.AST] = []
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
        elif isinstance(node, ast.Subscript):
            stack.append(node.value)
        elif isinstance(node, (ast.Name, ast.Attribute)):
            found.append(node)
    return found


def summarise(
    tree: ast.AST,
    project_names: FrozenSet[str] = frozenset(),
    watched: FrozenSet[str] = frozenset(),
) -> ModuleSummary:
    """The entries of a module: every function, class, module- and class-level binding,
    attribute binding and import alias, with what each mentions.  ``project_names``:
    top-level names of the project; ``mod.func`` counts as a mention of ``func`` only
    where ``mod`` is bound by an import of the project (not ``requests.get``)."""
    collector = _Collector(project_names, watched)
    collector.scan(tree, "module")
    imported = frozenset(collector.imported)
    watched_imports = frozenset(collector.watched_imports)
    own = frozenset(collector.own)
    entries = [
        _entry(kind, word, in_class, mentions, line, imported, watched_imports, own)
        for kind, word, in_class, mentions, line in collector.raw
    ]
    return ModuleSummary(tuple(entries), imported, watched_imports, own)


def _entry(
    kind: str, word: str, in_class: bool, mentions: Mentions, line: int,
    imported: FrozenSet[str], watched_imports: FrozenSet[str], own: FrozenSet[str],
) -> Entry:
    # ``flask.request``: an attribute of a watched package is a mention of the name.
    through_package = {a for r, a in mentions.named_attrs if r in watched_imports}
    return Entry(
        kind, word, in_class,
        frozenset(mentions.names - own | through_package),
        frozenset(mentions.self_attrs),
        frozenset(attr for receiver, attr in mentions.named_attrs if receiver in imported),
        frozenset(mentions.attrs),
        line,
        frozenset(mentions.called - own),
        frozenset(mentions.names & own),
        frozenset(mentions.called & own),
        top=word in own and not in_class and kind != "attr",
    )


def mentions_of(node: Optional[ast.AST]) -> Mentions:
    """What one expression or statement mentions (no entries recorded)."""
    if node is None:
        return Mentions()
    return _Collector().scan(node, "function")


def references(node: Optional[ast.AST], through_calls: bool = False) -> Mentions:
    """What a value can *be*, rather than everything it mentions: an alias of a function,
    a class, a proxy or a request-lifetime object (``req = request``, ``fn = work if x
    else other``, ``f = request.files["f"]``, ``handler = HANDLERS.get(kind)``, a
    lambda, ``partial(work, x)``).  The result of any other call is data -- ``data =
    request.get_json()`` carries no context-local -- and only its callee is kept, in
    ``called``, in case it is a class.  ``through_calls``: the arguments of such calls
    are followed too (at a dispatch, ``Response(rows(query))``: a generator's arguments
    travel with it)."""
    found = Mentions()
    pending: List[ast.AST] = [] if node is None else [node]
    while pending:
        current = pending.pop()
        if isinstance(current, (ast.Name, ast.Lambda, ast.GeneratorExp)):
            found.add(mentions_of(current))  # a generator expression runs later
        elif isinstance(current, ast.Attribute):
            _attribute_reference(current, found)
        elif isinstance(current, ast.Subscript):
            pending.append(current.value)
        elif isinstance(current, ast.IfExp):
            pending.extend((current.body, current.orelse))
        elif isinstance(current, ast.BoolOp):
            pending.extend(current.values)
        elif isinstance(current, (ast.Tuple, ast.List, ast.Set)):
            pending.extend(current.elts)
        elif isinstance(current, ast.Dict):
            pending.extend(v for v in current.values if v is not None)
        elif isinstance(current, (ast.Starred, ast.NamedExpr, ast.Await)):
            pending.append(current.value)
        elif isinstance(current, ast.Call):
            func = current.func
            last = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else None
            )
            if last in REFERENCE_FACTORIES:
                pending.extend(current.args)
                pending.extend(k.value for k in current.keywords)
            elif isinstance(func, ast.Attribute) and (_last(func.value), last) in _LIFETIME_METHODS:
                found.add(mentions_of(func.value))  # ``request.files.get("f")``
            elif last in LAZY_QUERY_METHODS and isinstance(func, ast.Attribute):
                # ``Product.query.filter(...)``: a query that runs when iterated.
                found.add(mentions_of(func.value))
            elif last in REFERENCE_METHODS and isinstance(func, ast.Attribute):
                pending.append(func.value)
            elif isinstance(func, (ast.Call, ast.Subscript)):
                pending.append(func)  # ``factory()()``, ``HANDLERS[k]()``
            elif last is not None:
                found.called.add(last)
                if through_calls:
                    pending.extend(current.args)
                    pending.extend(k.value for k in current.keywords)
    return found


def _last(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _attribute_reference(node: ast.Attribute, found: Mentions) -> None:
    """``a.b.c`` as a value: the object named by its last attribute (``self.work``,
    ``utils.helper``, ``HANDLERS``), and its root when that is not a proxy -- an
    attribute of ``request``/``g``/``current_app`` is a plain object, unless the chain
    goes through a request-lifetime one (``request.files``, ``request.stream``)."""
    parts: List[str] = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    last = node.attr
    found.attrs.add(last)
    if isinstance(current, ast.Name):
        root = current.id
        if len(parts) == 1:
            if root in _SELF_NAMES:
                found.self_attrs.add(last)
            else:
                found.named_attrs.add((root, last))
        if root not in _PROXY_WORDS or not _LIFETIME_WORDS.isdisjoint(parts):
            found.names.add(root)
    else:
        found.add(references(current))
