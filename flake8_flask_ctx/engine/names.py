"""LibCST plumbing: parse once, walk once, answer questions about names.

Every rule asks the same few questions -- what does this identifier resolve to, where
was it bound and to what, which class or function encloses this node, on which line
is it -- so they are answered here, from one parse and one indexing pass that also
tracks Python's scopes (``scopes.py``: LibCST's ``ScopeProvider`` cost four times the
parse), and the engine never touches LibCST's metadata API directly.  Positions are the
one piece of metadata left: resolved only when a finding is reported.
"""

from __future__ import annotations

from typing import (
    Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Type, TypeVar,
)

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ..index.imports import resolve_relative

from ..knowledge import Knowledge
from .node_names import (
    CHILDLESS,
    alias_identifier,
    child_nodes,
    dotted_name,
    last_name,
    root_name,
    walk,
)
from .scopes import ScopeTracker

#: Re-exported: the engine asks ``names`` for everything about names and nodes.
__all__ = [
    "FunctionLike", "ModuleIndex", "child_nodes", "dotted_name", "last_name",
    "project_import_identifiers", "root_name", "walk",
]

NodeT = TypeVar("NodeT", bound=cst.CSTNode)
FunctionLike = (cst.FunctionDef, cst.Lambda)


class _Indexer:
    """One pass that records each node's parent and the nodes the engine starts from,
    and tracks the scopes (iterative: generated code nests deeper than the stack)."""

    def __init__(self, module: cst.Module) -> None:
        self.scopes = ScopeTracker(module)
        self.parents: Dict[cst.CSTNode, cst.CSTNode] = {}
        #: Pre-order number of every node: source order, without computing positions.
        self.order: Dict[cst.CSTNode, int] = {}
        self.calls: List[cst.Call] = []
        self.functions: List[cst.FunctionDef] = []
        self.classes: List[cst.ClassDef] = []
        self.imports: List[cst.CSTNode] = []
        self.assigns: List[cst.Assign] = []
        self._lists: Dict[type, List[cst.CSTNode]] = {
            cst.Call: self.calls,  # type: ignore[dict-item]
            cst.FunctionDef: self.functions,  # type: ignore[dict-item]
            cst.ClassDef: self.classes,  # type: ignore[dict-item]
            cst.Import: self.imports,
            cst.ImportFrom: self.imports,
            cst.Assign: self.assigns,  # type: ignore[dict-item]
        }
        self._walk(module)

    def _walk(self, module: cst.Module) -> None:
        order, parents, scopes, lists = self.order, self.parents, self.scopes, self._lists
        enter_at = scopes.entered_at
        #: (node, its parent, whether this entry is the node's leaving)
        stack: List[Tuple[cst.CSTNode, Optional[cst.CSTNode], bool]] = [(module, None, False)]
        while stack:
            node, parent, leaving = stack.pop()
            if leaving:
                scopes.leave(node)
                continue
            order[node] = len(order)
            if parent is not None:
                parents[node] = parent
            scopes.visit(node)
            kind = type(node)
            if kind in CHILDLESS:
                if node in enter_at:  # ``lambda: x``: the lambda's scope ends here
                    scopes.leave(node)
                continue
            found = lists.get(kind)
            if found is not None:
                found.append(node)
            if node in enter_at:  # only a scope's node is left again
                stack.append((node, parent, True))
            children = child_nodes(node)
            if children:
                stack.extend((child, node, False) for child in reversed(children))


#: Attribute/call chains (``q.filter().order_by().limit()``) longer than this are not
#: resolved: LibCST's lookup is quadratic in the chain, and no hand-written chain is
#: this long.
MAX_RESOLVED_CHAIN = 64


def _longer_than(node: cst.BaseExpression, limit: int) -> bool:
    current: cst.BaseExpression = node
    for _ in range(limit):
        if isinstance(current, (cst.Attribute, cst.Subscript)):
            current = current.value
        elif isinstance(current, cst.Call):
            current = current.func
        else:
            return False
    return True


class ModuleIndex:
    """A parsed module with what the engine needs to know about it, from one pass.

    Scopes are tracked by the indexing pass itself (``scopes.ScopeTracker``); qualified
    names are looked up on demand (and only for identifiers that an import of a watched
    package bound).  Positions (``PositionProvider``: a full code generation pass) are
    resolved on the first ``line()``/``column()`` call, which only a finding makes:
    source order, which the engine needs everywhere, is ``order()``.
    """

    def __init__(
        self,
        module: cst.Module,
        knowledge: Knowledge,
        line_map: Optional[Sequence[int]] = None,
        module_name: Optional[str] = None,
        is_package: bool = False,
    ) -> None:
        self.module = module
        self.knowledge = knowledge
        #: The module's dotted name in its project, if known: qualified names then
        #: also come absolute (``.jobs.defer`` -> ``app.jobs.defer``, a function
        #: ``defer`` of ``app.jobs`` -> ``app.jobs.defer``), so a configured name
        #: matches what the name resolves to however it is imported.
        self.module_name = module_name
        self.is_package = is_package
        #: For a module cut to some of its statements (``outline.py``): the line in
        #: the file of each line of the parsed text.
        self._line_map = line_map
        self._positions: Optional[Mapping[cst.CSTNode, CodeRange]] = None
        self._root_names: Dict[cst.Name, Set[str]] = {}
        self._bindings: Dict[Tuple[int, str], List[cst.CSTNode]] = {}
        indexer = _Indexer(module)
        self._scopes = indexer.scopes
        self._parents = indexer.parents
        self._order = indexer.order
        self.calls = indexer.calls
        self.functions = indexer.functions
        self.classes = indexer.classes
        self.assigns = indexer.assigns
        self.imports = indexer.imports
        self.watched_identifiers, star_packages = _identifiers_bound_by(
            indexer.imports, knowledge.watched_packages, module_name, is_package
        )
        #: Configured context-locals defined in this very module (``current_tenant``
        #: of ``app.tenancy``, configured as ``app.tenancy.current_tenant``).
        self._own_locals: Set[str] = set()
        if module_name:
            prefix = module_name + "."
            self._own_locals = {
                name[len(prefix):] for name in knowledge.context_locals
                if name.startswith(prefix) and "." not in name[len(prefix):]
            }
        #: ``from flask import *`` binds names LibCST's scopes do not record.
        self.star_names: Dict[str, str] = {
            name: package
            for package in star_packages
            for name in knowledge.star_exports(package)
        }
        self.dispatch_identifiers, _ = _identifiers_bound_by(
            indexer.imports, knowledge.dispatch_packages, module_name, is_package
        )

    # -- positions and text -------------------------------------------------------

    def order(self, node: cst.CSTNode) -> int:
        """Where ``node`` starts in source order (pre-order number; cheap)."""
        return self._order.get(node, -1)

    def line(self, node: cst.CSTNode) -> int:
        line = self._position(node).start.line
        if self._line_map is not None and 0 < line <= len(self._line_map):
            return self._line_map[line - 1]
        return line

    def column(self, node: cst.CSTNode) -> int:
        return self._position(node).start.column

    def _position(self, node: cst.CSTNode) -> CodeRange:
        if self._positions is None:
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        return self._positions[node]

    def code(self, node: cst.CSTNode, limit: int = 60) -> str:
        """Source text of ``node`` on one line, shortened for messages."""
        text = " ".join(self.module.code_for_node(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    # -- tree navigation ----------------------------------------------------------

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self._parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self._parents.get(node)
        while current is not None:
            yield current
            current = self._parents.get(current)

    def enclosing(
        self, node: cst.CSTNode, kind: Tuple[Type[NodeT], ...]
    ) -> Optional[NodeT]:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, kind):
                return ancestor
        return None

    def enclosing_class_of_function(
        self, function: cst.FunctionDef
    ) -> Optional[cst.ClassDef]:
        """The class whose body defines ``function`` directly (a method), else None."""
        for ancestor in self.ancestors(function):
            if isinstance(ancestor, cst.ClassDef):
                return ancestor
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                return None
        return None

    # -- names --------------------------------------------------------------------

    def qualified_names(self, node: cst.BaseExpression) -> Set[str]:
        """What a Name/Attribute resolves to through imports (empty if unknown).

        Identifiers no watched import bound are skipped without touching the scope
        unless ``always`` names them (see ``qualified_names_any``).
        """
        root = root_name(node)
        if root is None:
            return set()
        if root.value in self.watched_identifiers:
            return self.qualified_names_any(node)
        if root.value in self._own_locals and self._scopes.defined_here(root):
            return self.qualified_names_any(node)
        package = self.star_names.get(root.value)
        if package is not None and not self._is_bound(root):
            return {f"{package}.{dotted_name(node)}"}
        return set()

    def _is_bound(self, name: cst.Name) -> bool:
        """Whether any assignment (not a star import) binds ``name`` where it is used."""
        return bool(self._scopes.bindings_of(name))

    def qualified_names_any(self, node: cst.BaseExpression) -> Set[str]:
        """Qualified names of any Name/Attribute, whatever bound it.

        An attribute chain is its root Name's qualified names plus the attributes:
        LibCST's own lookup re-derives the whole dotted text for every prefix of a
        chain, which made a 1,000-link chain (generated code) cost seconds."""
        if isinstance(node, cst.Attribute):
            root = root_name(node)
            dotted = dotted_name(node)
            if root is not None and dotted is not None:
                suffix = dotted[len(root.value):]
                roots = self._root_qualified_names(root)
                if roots:  # else e.g. ``import a.b``: only ``a.b...`` resolves
                    return {f"{name}{suffix}" for name in roots}
        if _longer_than(node, MAX_RESOLVED_CHAIN):
            return set()  # ``x.f().g().h()...`` hundreds deep: generated, unknown
        return self._qualified_names_of(node)

    def _root_qualified_names(self, root: cst.Name) -> Set[str]:
        found = self._root_names.get(root)
        if found is None:
            found = self._root_names[root] = self._qualified_names_of(root)
        return found

    def _qualified_names_of(self, node: cst.BaseExpression) -> Set[str]:
        if isinstance(node, cst.Name):
            names = self._scopes.qualified_names(node)
            if self.module_name and names:
                names = names | self._absolute(node, names)
            return names
        return set()

    def _absolute(self, node: cst.Name, names: Set[str]) -> Set[str]:
        """The absolute forms of a relative import's names, and of a name defined in
        this module (not in a function: ``<locals>``)."""
        assert self.module_name is not None
        found: Set[str] = set()
        local: Optional[bool] = None
        for name in names:
            if name.startswith("."):
                rest = name.lstrip(".")
                absolute = resolve_relative(
                    self.module_name, self.is_package, len(name) - len(rest), rest
                )
                if absolute:
                    found.add(absolute)
            elif "<locals>" not in name:
                if local is None:
                    local = self._scopes.defined_here(node)
                if local:
                    found.add(f"{self.module_name}.{name}")
        return found

    def bindings(self, name: cst.Name) -> List[cst.CSTNode]:
        """The nodes that bind ``name`` where it is used.

        A ``def``/``class`` gives its definition; ``x = value``, ``x: T = value`` and
        ``with value as x`` give ``value``; imports, parameters and loop targets give
        nothing (their value is unknown here).  Resolution is flow-insensitive, except
        that a rebinding which wraps the old value (``fn = wrap(fn)``) replaces it.
        """
        found: List[cst.CSTNode] = []
        for node in self.binding_nodes(name):
            if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                found.append(node)
            elif isinstance(node, cst.Name):
                value = self.bound_value(node)
                if value is not None:
                    found.append(value)
        return found

    def value_before_rewrap(
        self, expr: cst.BaseExpression, rewrap: cst.BaseExpression
    ) -> cst.BaseExpression:
        """``query`` for the ``products`` in ``products = _product_stream(products)``
        when ``rewrap`` is that right-hand side: the name there still holds its earlier
        value (the one binding before it in the scope); ``expr`` itself otherwise."""
        if not isinstance(expr, cst.Name) or self.bindings(expr) != [rewrap]:
            return expr
        scope = self._scopes.scope_of.get(expr)
        if scope is None:
            return expr
        values = [
            self.bound_value(b.node) for b in scope.lookup(expr.value)
            if isinstance(b.node, cst.Name) and 0 <= self.order(b.node) < self.order(rewrap)
        ]
        values = [value for value in values if value is not rewrap]
        if len(values) != 1 or values[0] is None:
            return expr
        return values[0]

    def bound_value(self, target: cst.CSTNode) -> Optional[cst.BaseExpression]:
        """The expression assigned to an assignment target node, if it is simple."""
        parent = self._parents.get(target)
        if isinstance(parent, cst.AssignTarget):
            assign = self._parents.get(parent)
            if isinstance(assign, cst.Assign):
                return assign.value
        elif isinstance(parent, cst.AnnAssign) and parent.target is target:
            return parent.value
        elif isinstance(parent, cst.AsName):
            item = self._parents.get(parent)
            if isinstance(item, cst.WithItem):
                return item.item
        elif isinstance(parent, cst.NamedExpr) and parent.target is target:
            return parent.value
        return None

    def binding_nodes(self, name: cst.Name) -> List[cst.CSTNode]:
        """The nodes LibCST records as binding ``name`` where it is used (the target
        Name of an assignment or loop, a Param, a def...); empty when unknown.
        Memoised per scope and identifier: every use of a name in a scope sees the same
        bindings (2,000 rebindings of one name used to cost seconds)."""
        scope = self._scopes.scope_of.get(name)
        if scope is None:
            return []
        key = (id(scope), name.value)
        cached = self._bindings.get(key)
        if cached is not None:
            return cached
        nodes = [b.node for b in scope.lookup(name.value)]
        latest_rewrap = self._latest_rewrap(nodes, name.value)
        found = [node for node in nodes if self.order(node) >= latest_rewrap]
        self._bindings[key] = found
        return found

    def _latest_rewrap(self, nodes: List[cst.CSTNode], identifier: str) -> int:
        """Where the last ``x = wrap(x)`` (``fn = copy_current_request_context(fn)``,
        ``gen = stream_with_context(gen)``) binds ``x``: it supersedes every earlier
        binding of ``x`` (-1: there is none)."""
        latest = -1
        for node in nodes:
            if not isinstance(node, cst.Name):
                continue
            value = self.bound_value(node)
            if value is not None and any(
                isinstance(n, cst.Name) and n.value == identifier for n in walk(value)
            ):
                latest = max(latest, self.order(node))
        return latest

    def parameter_binding(
        self, name: cst.Name
    ) -> Optional[Tuple[cst.FunctionDef, cst.Param]]:
        """The function and parameter that bind ``name``, if a parameter does."""
        assignments = self._scopes.bindings_of(name) or []
        params = [a.node for a in assignments if isinstance(a.node, cst.Param)]
        if len(params) != 1 or len(assignments) != 1:
            return None
        function = self.enclosing(params[0], (cst.FunctionDef,))
        if function is None:
            return None
        return function, params[0]

    def uses_of_target(self, target: cst.Name) -> Optional[List[cst.CSTNode]]:
        """The Name nodes that read the variable bound by assignment target ``target``.

        ``None`` when it cannot be told (the variable is bound more than once).
        """
        found = self._scopes.references(target)
        return None if found is None else list(found)

    def first_parameter(self, function: cst.FunctionDef) -> Optional[str]:
        params = function.params
        positional = list(params.posonly_params) + list(params.params)
        return positional[0].name.value if positional else None


def _identifiers_bound_by(
    imports: Iterable[cst.CSTNode],
    packages: Tuple[str, ...],
    module: Optional[str] = None,
    is_package: bool = False,
) -> Tuple[Set[str], Set[str]]:
    """Local identifiers that an import of one of ``packages`` binds, and the modules
    star-imported from them.

    ``import flask`` binds ``flask``; ``from flask import request as rq`` binds ``rq``;
    in module ``app.views`` (``module``), ``from .ext import tenant`` imports from
    ``app.ext``, watched when ``app`` is (a configured ``app.ext.tenant``).
    """
    bound: Set[str] = set()
    stars: Set[str] = set()

    def watched(module_name: Optional[str]) -> bool:
        return module_name is not None and module_name.split(".")[0] in packages

    for node in imports:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name)
                if watched(full):
                    bound.add(alias_identifier(alias) or (full or "").split(".")[0])
        elif isinstance(node, cst.ImportFrom):
            module_name = dotted_name(node.module) if node.module is not None else None
            if node.relative:
                if not module:
                    continue
                module_name = resolve_relative(
                    module, is_package, len(node.relative), module_name or ""
                )
            if not watched(module_name):
                continue
            if isinstance(node.names, cst.ImportStar):
                stars.add(module_name or "")
                continue
            for alias in node.names:
                identifier = alias_identifier(alias) or dotted_name(alias.name)
                if identifier:
                    bound.add(identifier)
    return bound, stars


def project_import_identifiers(
    imports: Iterable[cst.CSTNode], top_level_names: frozenset[str]
) -> Set[str]:
    """Local identifiers bound by imports of the project's own modules: relative
    imports, and absolute ones whose top-level package is one of ``top_level_names``."""
    bound: Set[str] = set()
    for node in imports:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if full.split(".")[0] in top_level_names:
                    bound.add(alias_identifier(alias) or full.split(".")[0])
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            module_name = dotted_name(node.module) if node.module is not None else ""
            if not node.relative and (module_name or "").split(".")[0] not in top_level_names:
                continue
            for alias in node.names:
                identifier = alias_identifier(alias) or dotted_name(alias.name)
                if identifier:
                    bound.add(identifier)
    return bound
