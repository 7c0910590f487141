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
some class), ``named_attrs`` (``mod.x``: a module's function where ``mod`` is bound by an
import of the project), ``attrs`` (every attribute name).  Nothing here knows Flask.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import FrozenSet, List, Optional, Set

from ..knowledge.calls import REFERENCE_FACTORIES, REFERENCE_METHODS
from ..knowledge.contexts import (
    LAZY_QUERY_METHODS, LIFETIME_ATTRIBUTES, LIFETIME_CALLS, PROXY_OBJECTS,
)
from .ast_walk import children, statements
from .mentions import Entry, ImportBinding, Mentions, ModuleSummary

__all__ = [
    "Entry", "ImportBinding", "Mentions", "ModuleSummary", "mentions_of", "references",
    "summarise",
]

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
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


@dataclass(frozen=True)
class _Raw:
    kind: str
    word: str
    in_class: bool
    mentions: Mentions
    line: int
    owner: str = ""
    bases: FrozenSet[str] = frozenset()


def _base_name(node: ast.AST) -> Optional[str]:
    """A base class's last name (``db.Model`` -> ``Model``, ``Generic[T]`` -> ``Generic``)."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


class _Collector:
    """One pass over a module: the mentions of every definition, an entry for each.

    Expressions are walked iteratively (generated code nests them deeply); only
    definitions recurse, and they nest a few levels at most."""

    def __init__(self, watched: FrozenSet[str] = frozenset()) -> None:
        self.raw: List[_Raw] = []
        #: The class whose body is being scanned (``self.x`` there is its method).
        self.owner = ""
        self.imports: List[ImportBinding] = []
        self.watched_imports: Set[str] = set()
        #: Names the module binds itself at module level (def, class, assignment).
        self.own: Set[str] = set()
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
                # A name assigned is no mention of what it was (``model: str = ""`` in
                # a class body); a function's own names are dropped from its mentions.
                if current.ctx.__class__ is ast.Load:  # type: ignore[attr-defined]
                    if current.id not in _SELF_NAMES:  # type: ignore[attr-defined]
                        mentions.names.add(current.id)  # type: ignore[attr-defined]
                else:
                    mentions.stored.add(current.id)  # type: ignore[attr-defined]
                    if level == "module":  # ``for key in ...`` at module level
                        self.own.add(current.id)  # type: ignore[attr-defined]
            elif kind is ast.Global or kind is ast.Nonlocal:
                mentions.declared_global.update(current.names)  # type: ignore[attr-defined]
            elif kind is ast.Attribute:
                self._attribute(current, mentions)  # type: ignore[arg-type]
                pending.append(current.value)  # type: ignore[attr-defined]
            elif kind is ast.Lambda or kind in _COMPREHENSIONS:
                mentions.add(self._inner_scope(current, level))
            elif kind is ast.ExceptHandler:
                if current.name:  # type: ignore[attr-defined]
                    mentions.stored.add(current.name)  # type: ignore[attr-defined]
                    if level == "module":
                        self.own.add(current.name)  # type: ignore[attr-defined]
                pending.extend(children(current))
            elif kind in _DEFS or kind is ast.ClassDef:
                if level == "module":
                    self.own.add(current.name)  # type: ignore[attr-defined]
                mentions.add(self.definition(current, level == "class"))
                mentions.stored.add(current.name)  # type: ignore[attr-defined]
            elif kind is ast.Import or kind is ast.ImportFrom:
                # An import in a function still names the other module's global
                # (``from .views import client_label``): a mention, not a local.
                mentions.names.update(self._imports(current, level == "module"))
            elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
                mentions.add(self._assignment(current, level))
            else:
                pending.extend(children(current))
        return mentions

    def _inner_scope(self, node: ast.AST, level: str) -> Mentions:
        """A lambda or a comprehension: its own names (parameters, loop targets) are
        not the enclosing scope's.  A lambda's defaults and a comprehension's first
        iterable are evaluated outside, which only adds mentions."""
        inner = Mentions()
        for child in children(node):
            inner.add(self.scan(child, "function" if level != "module" else "comprehension"))
        own_names = set(inner.stored)
        if isinstance(node, ast.Lambda):
            arguments = node.args
            own_names.update(
                a.arg for a in [
                    *arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                    *(x for x in (arguments.vararg, arguments.kwarg) if x is not None),
                ]
            )
        inner.names -= own_names
        inner.named_attrs = {pair for pair in inner.named_attrs if pair[0] not in own_names}
        inner.stored = set()  # (a walrus in a comprehension binds outside: rare, dropped)
        return inner

    def definition(self, node: ast.AST, in_class: bool) -> Mentions:
        """A function or class: its entry, and its mentions for the enclosing one."""
        assert isinstance(node, (*_DEFS, ast.ClassDef))
        is_class = isinstance(node, ast.ClassDef)
        mentions = Mentions()
        outside = Mentions()  # decorators, defaults, annotations: the enclosing scope's
        owner = self.owner
        bases: FrozenSet[str] = frozenset()
        if isinstance(node, ast.ClassDef):
            bases = frozenset(b for b in map(_base_name, node.bases) if b)
            self.owner = node.name
        start = len(self.raw)
        for child in children(node):
            if is_class or child in node.decorator_list or child.__class__ is ast.arguments:
                scanned = self.scan(child, "class" if is_class else "function")
                (mentions if is_class else outside).add(scanned)
            else:
                mentions.add(self.scan(child, "function"))
        self.owner = owner
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
            # is not the module's ``app``; nor, in what is defined or set in here (a
            # closure, ``self.headers = headers``), is one of this function's names.
            local = mentions.stored - mentions.declared_global
            _drop_names(mentions, local)
            for raw in self.raw[start:]:
                _drop_names(raw.mentions, local)
            mentions.add(outside)
        mentions.stored = set()
        mentions.declared_global = set()
        self.raw.append(_Raw("class" if is_class else "def", node.name, in_class, mentions,
                             node.lineno, node.name if is_class else owner, bases))
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
                    on_self = isinstance(leaf.value, ast.Name) and leaf.value.id in _SELF_NAMES
                    kind = "selfattr" if on_self and self.owner else "attr"
                    self.raw.append(_Raw(kind, leaf.attr, False, referenced, line, self.owner))
                elif isinstance(leaf, ast.Name) and level != "function":
                    if level == "module":
                        self.own.add(leaf.id)
                    self.raw.append(
                        _Raw("name", leaf.id, level == "class", referenced, line, self.owner)
                    )
        found = Mentions()
        found.add(mentions)
        for target in targets:
            found.add(self.scan(target, level))
        annotation = getattr(node, "annotation", None)
        if annotation is not None:
            found.add(self.scan(annotation, level))
        return found

    def _imports(self, node: ast.AST, top: bool) -> Set[str]:
        bound: Set[str] = set()
        line = getattr(node, "lineno", 0)
        for alias in getattr(node, "names", ()):
            if alias.name == "*":
                # ``from .models import *``: any free name may come from there.
                self.imports.append(ImportBinding(
                    "*", getattr(node, "level", 0) or 0, getattr(node, "module", "") or "", "*"
                ))
                continue
            if isinstance(node, ast.Import):
                local = alias.asname or alias.name.split(".")[0]
                module = alias.name if alias.asname else alias.name.split(".")[0]
                binding = ImportBinding(local, 0, module, None)
            else:
                local = alias.asname or alias.name
                binding = ImportBinding(
                    local, getattr(node, "level", 0) or 0, getattr(node, "module", "") or "",
                    alias.name,
                )
            bound.add(local)
            self.imports.append(binding)
            if top:
                # Importers of this module reach the name through it (re-exports).
                self.raw.append(_Raw("import", local, False, Mentions(names={local}), line))
            if isinstance(node, ast.Import) and binding.module.split(".")[0] in self.watched:
                self.watched_imports.add(local)  # ``import flask``: ``flask.request``
        return bound


def _drop_names(mentions: Mentions, names: Set[str]) -> None:
    mentions.names -= names
    mentions.called -= names
    mentions.named_attrs = {pair for pair in mentions.named_attrs if pair[0] not in names}


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


def module_bindings(tree: ast.AST, watched: FrozenSet[str] = frozenset()) -> ModuleSummary:
    """A module's bindings without its entries (what ``summarise`` gives, minus the
    definitions' mentions), from its statements alone: how its names resolve."""
    collector = _Collector(watched)
    for node in statements(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            collector._imports(node, False)
    pending = list(getattr(tree, "body", ()))
    while pending:
        node = pending.pop()
        if isinstance(node, (*_DEFS, ast.ClassDef)):
            collector.own.add(node.name)
            continue
        targets: List[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars]
        elif isinstance(node, ast.ExceptHandler) and node.name:
            collector.own.add(node.name)
        for target in targets:
            for leaf in _leaves(target):
                if isinstance(leaf, ast.Name):
                    collector.own.add(leaf.id)
        for field_name in ("body", "orelse", "finalbody", "handlers", "cases"):
            pending.extend(getattr(node, field_name, ()) or ())
    return ModuleSummary(
        (), tuple(collector.imports), frozenset(collector.watched_imports),
        frozenset(collector.own),
    )


def summarise(tree: ast.AST, watched: FrozenSet[str] = frozenset()) -> ModuleSummary:
    """The entries of a module: every function, class, module- and class-level binding,
    attribute binding and module-level import, with what each mentions.  ``watched``:
    the packages of the context-locals.  Nothing in it depends on the project, so one
    summary serves every project a module is part of."""
    collector = _Collector(watched)
    collector.scan(tree, "module")
    own = frozenset(collector.own)
    entries = [_entry(raw, own) for raw in collector.raw]
    return ModuleSummary(
        tuple(entries), tuple(collector.imports), frozenset(collector.watched_imports), own
    )


def _entry(raw: "_Raw", own: FrozenSet[str]) -> Entry:
    mentions = raw.mentions
    return Entry(
        raw.kind, raw.word, raw.in_class,
        frozenset(mentions.names),
        frozenset(mentions.self_attrs),
        frozenset(mentions.named_attrs),
        frozenset(mentions.attrs),
        frozenset(mentions.called),
        raw.line,
        top=raw.kind == "import" or (
            raw.word in own and not raw.in_class and raw.kind in ("def", "class", "name")
        ),
        owner=raw.owner,
        bases=raw.bases,
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
                built = isinstance(func, ast.Name)
                if built:
                    found.called.add(last)
                elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    # ``tasks.Worker(...)``: a class of a project module, maybe.
                    found.named_attrs.add((func.value.id, last))
                    built = True
                if built or through_calls:
                    # ``Worker(store)``: an instance keeps what it was built with.
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
        if root in _SELF_NAMES:
            return  # ``self.x`` is the attribute, not ``self``
        if root not in _PROXY_WORDS or not _LIFETIME_WORDS.isdisjoint(parts):
            found.names.add(root)
    else:
        found.add(references(current))
