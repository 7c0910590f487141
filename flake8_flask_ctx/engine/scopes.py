"""Python's name scopes, tracked in the engine's one pass over the LibCST tree.

LibCST's ``ScopeProvider`` answers every question the engine asks about names, but it
costs about four times the parse (a second full traversal with heavy bookkeeping, for
every node), which was most of the plugin's time on the files it analyses.  The engine
needs much less: for an identifier, the nodes that bind it where it is used (imports,
assignments, ``def``/``class``, parameters), the dotted name an import gives it, and,
for a variable, the identifiers that read it.  ``ScopeTracker`` records exactly that
while ``names._Indexer`` walks the tree for its own reasons.

The rules are Python's: a name assigned anywhere in a function is local to it unless
declared ``global``/``nonlocal``; lookups go outwards through enclosing functions but
skip class bodies; decorators, defaults, annotations and base classes are evaluated in
the enclosing scope; each comprehension and lambda is a scope.  Resolution is
flow-insensitive (every binding of the name in its scope counts), as LibCST's is.
Qualified names follow LibCST's spelling, which the rest of the engine relies on:
imports give their dotted source (relative ones keep their dots: ``.services.send``),
other bindings ``outer.<locals>.name`` / ``Class.name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple, Union

import libcst as cst

from .node_names import alias_identifier, dotted_name, walk

ScopeNode = Union[
    cst.Module, cst.FunctionDef, cst.ClassDef, cst.Lambda,
    cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp,
]
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
#: The node types ``ScopeTracker.visit`` does anything for besides Name/Attribute.
_BINDING_KINDS = frozenset({
    cst.Arg, cst.FunctionDef, cst.ClassDef, cst.Lambda, *COMPREHENSIONS, cst.Import,
    cst.ImportFrom, cst.Global, cst.Nonlocal, cst.AssignTarget, cst.AnnAssign,
    cst.AugAssign, cst.For, cst.CompFor, cst.WithItem, cst.ExceptHandler, cst.NamedExpr,
})


@dataclass(frozen=True)
class Binding:
    """One thing that binds a name in a scope: ``node`` is what LibCST calls the
    assignment's node (the target ``Name``, the ``Param``, the ``def``/``class``, the
    import statement); ``qualified`` the dotted name it gives the identifier."""

    node: cst.CSTNode
    qualified: str
    is_import: bool = False


@dataclass(eq=False)
class LightScope:
    """A scope: what is bound in it, and where lookups go next."""

    kind: str  # "module" | "class" | "function" | "comprehension"
    parent: Optional["LightScope"]
    prefix: str
    assignments: Dict[str, List[Binding]] = field(default_factory=dict)
    globals: Set[str] = field(default_factory=set)
    nonlocals: Set[str] = field(default_factory=set)

    def bind(self, name: str, binding: Binding) -> None:
        self.assignments.setdefault(name, []).append(binding)

    def module(self) -> "LightScope":
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def owner_of(self, name: str) -> Optional["LightScope"]:
        """The scope whose binding of ``name`` a use in this scope sees (None: a
        builtin or unbound)."""
        if name in self.globals:
            module = self.module()
            return module if name in module.assignments else None
        if name in self.assignments and name not in self.nonlocals:
            return self
        scope = self.parent
        while scope is not None:
            if scope.kind != "class" and name in scope.assignments and (
                name not in scope.nonlocals and name not in scope.globals
            ):
                return scope
            if scope.kind != "class" and name in scope.globals:
                module = self.module()
                return module if name in module.assignments else None
            scope = scope.parent
        return None

    def lookup(self, name: str) -> List[Binding]:
        owner = self.owner_of(name)
        return owner.assignments[name] if owner is not None else []


class ScopeTracker:
    """Fed by the indexer's ``on_visit``/``on_leave``; answers questions afterwards."""

    def __init__(self, module: cst.Module) -> None:
        self.module_scope = LightScope("module", None, "")
        #: The scope every identifier (``Name``) is used or bound in.
        self.scope_of: Dict[cst.Name, LightScope] = {}
        #: Identifiers read (not bound), by spelling: for ``references``.
        self.accesses: Dict[str, List[cst.Name]] = {}
        self._stack: List[LightScope] = [self.module_scope]
        #: Scopes entered at a child node: a def's body, not its decorators.
        self.entered_at: Dict[cst.CSTNode, LightScope] = {}
        #: Names that are not identifiers in an expression (``x.attr``'s ``attr``,
        #: keyword names, imported module paths) or are bindings already recorded.
        self._not_reads: Set[cst.Name] = set()
        self._references: Dict[Tuple[int, str], List[cst.Name]] = {}
        self.entered_at[module] = self.module_scope

    # -- the walk ---------------------------------------------------------------------

    def visit(self, node: cst.CSTNode) -> None:
        entered = self.entered_at.get(node)
        if entered is not None and entered is not self._stack[-1]:
            self._stack.append(entered)
        scope = self._stack[-1]
        # By exact type (LibCST's node classes are never subclassed): ``isinstance``
        # against them runs ``ABCMeta``'s Python-level check, once per test per node.
        kind = type(node)
        if kind is cst.Name:
            self._name(node, scope)  # type: ignore[arg-type]
        elif kind is cst.Attribute:
            self._not_reads.add(node.attr)  # type: ignore[attr-defined]
        elif kind not in _BINDING_KINDS:
            return
        elif isinstance(node, cst.Arg):
            if node.keyword is not None:
                self._not_reads.add(node.keyword)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self._definition(node, scope)
        elif isinstance(node, cst.Lambda):
            inner = LightScope("function", scope, scope.prefix + "<locals>.")
            self._parameters(node.params, inner)
            self.entered_at[node.body] = inner
        elif isinstance(node, COMPREHENSIONS):
            inner = LightScope("comprehension", scope, scope.prefix + "<comprehension>.")
            self.entered_at[node] = inner
            self._stack.append(inner)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            self._import(node, scope)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            names = {item.name.value for item in node.names}
            (scope.globals if isinstance(node, cst.Global) else scope.nonlocals).update(names)
            self._not_reads.update(item.name for item in node.names)
        else:
            self._targets(node, scope)

    def leave(self, node: cst.CSTNode) -> None:
        entered = self.entered_at.get(node)
        if entered is not None and entered is self._stack[-1] and len(self._stack) > 1:
            self._stack.pop()

    # -- bindings ---------------------------------------------------------------------

    def _definition(self, node: Union[cst.FunctionDef, cst.ClassDef], scope: LightScope) -> None:
        name = node.name.value
        scope = _binding_scope(scope, name)
        scope.bind(name, Binding(node, scope.prefix + name))
        self._not_reads.add(node.name)
        self.scope_of[node.name] = scope
        if isinstance(node, cst.FunctionDef):
            inner = LightScope("function", scope, f"{scope.prefix}{name}.<locals>.")
            self._parameters(node.params, inner)
        else:
            inner = LightScope("class", scope, f"{scope.prefix}{name}.")
        self.entered_at[node.body] = inner

    def _parameters(self, params: cst.Parameters, inner: LightScope) -> None:
        every = [
            *params.posonly_params, *params.params, *params.kwonly_params,
            *([params.star_arg] if isinstance(params.star_arg, cst.Param) else []),
            *([params.star_kwarg] if params.star_kwarg is not None else []),
        ]
        for param in every:
            inner.bind(param.name.value, Binding(param, inner.prefix + param.name.value))
            self._not_reads.add(param.name)
            self.scope_of[param.name] = inner

    def _import(self, node: Union[cst.Import, cst.ImportFrom], scope: LightScope) -> None:
        for name in _import_names(node):
            self._not_reads.add(name)
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name)
                if not full:
                    continue
                local = alias_identifier(alias)
                top = full.split(".")[0]
                bound, qualified = (local, full) if local else (top, top)
                _binding_scope(scope, bound).bind(bound, Binding(node, qualified, True))
            return
        if isinstance(node.names, cst.ImportStar):
            return  # star imports: ``names.ModuleIndex.star_names``
        base = "." * len(node.relative) + ((dotted_name(node.module) or "") if node.module else "")
        for alias in node.names:
            imported = dotted_name(alias.name)
            if not imported:
                continue
            bound = alias_identifier(alias) or imported
            qualified = f"{base}.{imported}" if base and not base.endswith(".") else base + imported
            _binding_scope(scope, bound).bind(bound, Binding(node, qualified, True))

    def _targets(self, node: cst.CSTNode, scope: LightScope) -> None:
        """Record the identifiers a statement or expression binds."""
        targets: List[cst.BaseExpression] = []
        where = scope
        if isinstance(node, cst.AssignTarget):
            targets = [node.target]
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (cst.For, cst.CompFor)):
            targets = [node.target]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            targets = [node.asname.name]
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            targets = [node.name.name]
        elif isinstance(node, cst.NamedExpr):
            targets = [node.target]
            while where.kind == "comprehension" and where.parent is not None:
                where = where.parent  # ``:=`` binds in the enclosing function
        for target in targets:
            for name in _bound_names(target):
                owner = _binding_scope(where, name.value)
                owner.bind(name.value, Binding(name, owner.prefix + name.value))
                self._not_reads.add(name)
                self.scope_of[name] = owner

    def _name(self, node: cst.Name, scope: LightScope) -> None:
        if node in self._not_reads:
            return
        self.scope_of[node] = scope
        self.accesses.setdefault(node.value, []).append(node)

    # -- questions --------------------------------------------------------------------

    def bindings_of(self, name: cst.Name) -> Optional[List[Binding]]:
        """What binds ``name`` where it is used or bound (None: not an identifier)."""
        scope = self.scope_of.get(name)
        return None if scope is None else scope.lookup(name.value)

    def qualified_names(self, name: cst.Name) -> Set[str]:
        """The dotted names ``name`` may stand for; a binding target stands for what it
        binds there, a use for every binding it may see."""
        found = self.bindings_of(name)
        if not found:
            return set()
        own = [b.qualified for b in found if b.node is name]
        return set(own) if own else {b.qualified for b in found}

    def defined_here(self, name: cst.Name) -> bool:
        """Whether every binding ``name`` may see is made in this module (a ``def``,
        ``class`` or assignment; not an import)."""
        found = self.bindings_of(name) or []
        return bool(found) and not any(b.is_import for b in found)

    def references(self, target: cst.Name) -> Optional[List[cst.Name]]:
        """The identifiers that read the variable bound at ``target``: None unless it
        is the only binding of the name in its scope."""
        scope = self.scope_of.get(target)
        if scope is None:
            return None
        bound = scope.assignments.get(target.value, [])
        if len(bound) != 1 or bound[0].node is not target:
            return None
        key = (id(scope), target.value)
        found = self._references.get(key)
        if found is None:
            found = [
                use for use in self.accesses.get(target.value, [])
                if self.scope_of[use].owner_of(target.value) is scope
            ]
            self._references[key] = found
        return found


def _binding_scope(scope: LightScope, name: str) -> LightScope:
    """Where an assignment in ``scope`` binds ``name``: ``global``/``nonlocal`` move it."""
    if name in scope.globals:
        return scope.module()
    if name in scope.nonlocals:
        outer = scope.parent
        while outer is not None:
            if outer.kind == "function" and name in outer.assignments:
                return outer
            outer = outer.parent
    return scope


def _bound_names(target: cst.BaseExpression) -> List[cst.Name]:
    """The identifiers an assignment target binds (``a, (b, *c) = ...``)."""
    found: List[cst.Name] = []
    stack: List[cst.BaseExpression] = [target]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            found.append(current)
        elif isinstance(current, (cst.Tuple, cst.List)):
            for element in current.elements:
                stack.append(element.value)
        elif isinstance(current, cst.StarredElement):
            stack.append(current.value)
    return found


def _import_names(node: Union[cst.Import, cst.ImportFrom]) -> List[cst.Name]:
    """Every identifier an import statement spells (module paths, names, aliases)."""
    return [n for n in walk(node) if isinstance(n, cst.Name)]
