"""What a class-level factory or a property hands back, when the code says so plainly.

``for query in Query.outdated_queries():`` -- the classmethod returns only queries of its
own class (``cls.query.filter(...)``), so ``query`` is a ``Query``;
``query.parameterized.apply(...)`` -- the property returns ``ParameterizedQuery(...)``, so
``apply`` is that class's method.  Both in the module that defines the class or in
another module of the project (``models.Query.outdated_queries()``, a property whose
class is imported where it is defined).  Anything less plain (a return that is not a
query of the class, a property returning something else) types nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, List, Optional, Set, Tuple

import libcst as cst

from ..knowledge.contexts import QUERY_ATTRIBUTES
from .helpers import walk_shallow
from .targets import is_name_like
from .uses import is_property

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver


def returns_own_query(
    resolver: "Resolver", owner: cst.ClassDef, method: Optional[cst.FunctionDef]
) -> bool:
    """Whether ``method`` of ``owner`` is a classmethod/staticmethod whose every return
    is a query of ``owner`` (``cls.query...`` or ``Owner.query...``), or a collection
    filled only with the items of such a query (``found[key] = query`` in ``for query
    in queries``, then ``return found.values()``)."""
    if method is None or not is_class_factory(method):
        return False
    declared = annotated_items(method)
    if declared is not None:
        return isinstance(declared, cst.Name) and declared.value == owner.name.value
    first = [*method.params.posonly_params, *method.params.params][:1]
    own = {owner.name.value} | {p.name.value for p in first if is_classmethod(method)}
    return _every_return_queries(resolver, walk_shallow(method.body), own)


def _own_query(resolver: "Resolver", value: cst.BaseExpression, own: Set[str]) -> bool:
    """``cls.query.filter(...)``, or a name bound only to such queries."""
    if isinstance(value, cst.Name):
        bound = resolver.index.bindings(value)
        return bool(bound) and all(
            isinstance(b, cst.BaseExpression) and _query_of(b, own) for b in bound
        )
    return _query_of(value, own)


def _query_of(value: cst.BaseExpression, own: Set[str]) -> bool:
    queried = queried_class(value)
    return isinstance(queried, cst.Name) and queried.value in own


#: Query methods after which the items are no longer instances of the queried model
#: (columns, counts, a subquery), so the loop variable's class is not known.
_ENTITY_CHANGERS = frozenset({
    "with_entities", "add_columns", "add_entity", "values", "value", "count", "scalar",
    "exists", "subquery", "cte", "statement", "as_scalar", "scalar_subquery",
})
#: Attributes of a query's result that still hold its items (``.paginate(...).items``).
_ITEM_ATTRIBUTES = frozenset({"items"})
#: Callables that build a query of one entity: ``db.session.query(Order)``,
#: ``select(Order)`` (executed by ``db.session.scalars(...)``).
_ENTITY_QUERIES = frozenset({"query", "select"})


def queried_class(expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The expression naming the model whose instances iterating ``expr`` yields, when
    the code says so plainly: ``Order.query.filter(...)`` and ``models.Order.query``
    (``Order``, ``models.Order``), ``db.session.query(Order).join(...)`` (one entity),
    ``db.session.scalars(select(Order).where(...))``.  None for anything else, and for a
    chain that changes what it yields (``with_entities``, ``count``...)."""
    node = expr
    while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
        if isinstance(node, cst.Call):
            method = _called_name(node.func)
            if method in _ENTITY_CHANGERS:
                return None
            if method == "scalars" and len(node.args) == 1 and not node.args[0].keyword:
                return _select_entity(node.args[0].value)
            if method in _ENTITY_QUERIES:
                return _single_entity(node)
            if not isinstance(node.func, cst.Attribute):
                return None
            node = node.func.value  # past the method: ``.filter(...)``, ``.all()``
        elif isinstance(node, cst.Attribute):
            if node.attr.value in QUERY_ATTRIBUTES:
                return node.value if is_name_like(node.value) else None
            if node.attr.value not in _ITEM_ATTRIBUTES:
                return None  # ``Order.query.get(i).lines``: another class's items
            node = node.value
        else:
            node = node.value
    return None


def _called_name(func: cst.BaseExpression) -> Optional[str]:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def _single_entity(call: cst.Call) -> Optional[cst.BaseExpression]:
    """``Order`` in ``query(Order)`` / ``select(Order)``: exactly one positional entity."""
    if len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
        return None
    entity = call.args[0].value
    return entity if is_name_like(entity) else None


def _select_entity(statement: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The entity of ``select(Order).where(...)`` handed to ``scalars``."""
    node = statement
    while isinstance(node, cst.Call):
        method = _called_name(node.func)
        if method == "select":
            return _single_entity(node)
        if method in _ENTITY_CHANGERS or not isinstance(node.func, cst.Attribute):
            return None
        node = node.func.value
    return None


#: Return annotations whose single argument is what iterating the result yields.
_ITERABLE_ANNOTATIONS = frozenset({
    "List", "list", "Iterable", "Iterator", "Sequence", "Collection", "Set", "set",
    "FrozenSet", "frozenset", "Generator", "MutableSequence", "AbstractSet",
})


def annotated_items(function: cst.FunctionDef) -> Optional[cst.BaseExpression]:
    """``Order`` for ``def f() -> List[Order]`` (or ``Iterable["Order"]``,
    ``"list[Order]"``, ``Generator[Order, None, None]``): what iterating its result
    yields, as the code declares it."""
    if function.returns is None:
        return None
    annotation = _unquoted(function.returns.annotation)
    if not isinstance(annotation, cst.Subscript) or not annotation.slice:
        return None
    container = annotation.value
    name = container.attr.value if isinstance(container, cst.Attribute) else (
        container.value if isinstance(container, cst.Name) else None
    )
    if name not in _ITERABLE_ANNOTATIONS:
        return None
    first = annotation.slice[0].slice
    if not isinstance(first, cst.Index):
        return None
    item = _unquoted(first.value)
    return item if item is not None and is_name_like(item) else None


def _unquoted(annotation: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """A string annotation parsed (``"List[Order]"``); others as they are."""
    if not isinstance(annotation, cst.SimpleString):
        return annotation
    text = annotation.evaluated_value
    if not isinstance(text, str) or len(text) > 200:
        return None
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None


def function_items(
    resolver: "Resolver", function: cst.FunctionDef
) -> Optional[cst.BaseExpression]:
    """What iterating the result of a module-level ``function`` of this module yields:
    its declared item type (``-> List[Order]``), or the model whose queries (or a
    collection filled with their items) every return hands back; the expression names
    the class in this module.  None when the returns disagree or are anything else."""
    declared = annotated_items(function)
    if declared is not None:
        return declared
    nodes = walk_shallow(function.body)
    candidates = [
        found for node in nodes
        if isinstance(node, (cst.Call, cst.Attribute))
        for found in (queried_class(node),) if isinstance(found, cst.Name)
    ]
    tried: Set[str] = set()
    for candidate in candidates:
        assert isinstance(candidate, cst.Name)
        if candidate.value in tried:
            continue
        tried.add(candidate.value)
        if _every_return_queries(resolver, nodes, {candidate.value}):
            return candidate
    return None


def _every_return_queries(
    resolver: "Resolver", nodes: List[cst.CSTNode], own: Set[str]
) -> bool:
    returns = [node for node in nodes if isinstance(node, cst.Return)]
    for returned in returns:
        if returned.value is None:
            return False
        if not (
            _own_query(resolver, returned.value, own)
            or _own_collection(resolver, returned.value, own, nodes)
        ):
            return False
    return bool(returns)


#: Calls that hand back a collection's items as they are.
_ITEM_VIEWS = frozenset({"values", "copy"})
_ITEM_COPIES = frozenset({"list", "tuple", "set", "sorted"})
_STORES = frozenset({"append", "add"})


def _own_collection(
    resolver: "Resolver", value: cst.BaseExpression, own: Set[str], nodes: List[cst.CSTNode]
) -> bool:
    """``found.values()`` / ``list(found)`` / ``found`` where ``found`` starts empty and
    every store into it (``found[k] = item``, ``found.append(item)``) stores the loop
    variable of a loop over a query of the class."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        if value.func.attr.value in _ITEM_VIEWS and not value.args:
            value = value.func.value
    elif (
        isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
        and value.func.value in _ITEM_COPIES and len(value.args) == 1
    ):
        value = value.args[0].value
    if not isinstance(value, cst.Name):
        return False
    bound = resolver.index.bindings(value)
    if not bound or not all(_empty_container(b) for b in bound):
        return False
    stored = list(_stored_into(nodes, value.value))
    return bool(stored) and all(_own_item(resolver, item, own) for item in stored)


def _empty_container(node: cst.CSTNode) -> bool:
    if isinstance(node, (cst.Dict, cst.List, cst.Set)):
        return not node.elements
    return (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
        and node.func.value in ("dict", "list", "set") and not node.args
    )


def _stored_into(nodes: List[cst.CSTNode], name: str) -> Iterator[cst.BaseExpression]:
    for node in nodes:
        if isinstance(node, cst.Assign) and any(
            isinstance(t.target, cst.Subscript) and isinstance(t.target.value, cst.Name)
            and t.target.value.value == name for t in node.targets
        ):
            yield node.value
        elif (
            isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _STORES and isinstance(node.func.value, cst.Name)
            and node.func.value.value == name and len(node.args) == 1
        ):
            yield node.args[0].value


def _own_item(resolver: "Resolver", item: cst.BaseExpression, own: Set[str]) -> bool:
    """``item`` is the loop variable of ``for item in <a query of the class>``."""
    if not isinstance(item, cst.Name):
        return False
    nodes = resolver.index.binding_nodes(item)
    if not nodes:
        return False
    for node in nodes:
        loop = resolver.index.parent(node)
        if not (isinstance(loop, (cst.For, cst.CompFor)) and loop.target is node):
            return False
        if not _own_query(resolver, loop.iter, own):
            return False
    return True


def imported_factory_class(
    resolver: "Resolver", iterated: cst.BaseExpression
) -> Optional[cst.BaseExpression]:
    """``models.Query`` for ``models.Query.outdated_queries()`` when that class, imported
    from another module of the project, has a classmethod returning its own queries."""
    if not isinstance(iterated, cst.Call) or not isinstance(iterated.func, cst.Attribute):
        return None
    named, method = iterated.func.value, iterated.func.attr.value
    if not is_name_like(named):
        return None
    symbol = resolver.foreign(named, (f"def {method}",))
    if symbol is None or not isinstance(symbol.node, cst.ClassDef):
        return None
    there = symbol.unit.resolver
    found = returns_own_query(there, symbol.node, there.find_method(symbol.node, method))
    return named if found else None


def property_result_method(
    resolver: "Resolver", expr: cst.Attribute
) -> Optional[Tuple["Resolver", cst.FunctionDef]]:
    """``query.parameterized.apply``: the method ``apply`` of the class the property
    ``parameterized`` returns an instance of (``return ParameterizedQuery(...)``)."""
    inner = expr.value
    if not isinstance(inner, cst.Attribute):
        return None
    there: Optional["Resolver"] = resolver
    getter = resolver.method_of(inner)
    if getter is None:
        found = resolver.foreign_method(inner)
        there, getter = found if found is not None else (None, None)
    if there is None or getter is None or not is_property(getter):
        return None
    for owner, cls in _returned_classes(there, getter):
        method = owner.find_method(cls, expr.attr.value)
        if method is not None:
            return owner, method
    return None


def _returned_classes(
    resolver: "Resolver", function: cst.FunctionDef
) -> List[Tuple["Resolver", cst.ClassDef]]:
    """The classes ``function`` returns instances of, built where it returns them."""
    found: List[Tuple["Resolver", cst.ClassDef]] = []
    for node in walk_shallow(function.body):
        if not isinstance(node, cst.Return) or not isinstance(node.value, cst.Call):
            continue
        func = node.value.func
        local = resolver.local_class(func)
        if local is not None:
            found.append((resolver, local))
        elif is_name_like(func):
            symbol = resolver.foreign(func)
            if symbol is not None and isinstance(symbol.node, cst.ClassDef):
                found.append((symbol.unit.resolver, symbol.node))
    return found


def is_classmethod(function: cst.FunctionDef) -> bool:
    return _decorated(function, "classmethod")


def is_class_factory(function: cst.FunctionDef) -> bool:
    """A ``@classmethod`` or ``@staticmethod`` (a query of the class, not of ``self``)."""
    return is_classmethod(function) or _decorated(function, "staticmethod")


def _decorated(function: cst.FunctionDef, name: str) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == name
        for d in function.decorators
    )


def query_root(expr: cst.BaseExpression) -> Tuple[cst.BaseExpression, bool]:
    """The root of ``Order.query.filter(...).all()`` (``Order``), and whether the chain
    goes through a query attribute (then the items are instances of the root)."""
    root = expr
    through_query = False
    while isinstance(root, (cst.Attribute, cst.Call, cst.Subscript)):
        if isinstance(root, cst.Attribute):
            through_query = through_query or root.attr.value in QUERY_ATTRIBUTES
        root = root.func if isinstance(root, cst.Call) else root.value
    return root, through_query


def items_of_imported_function(
    resolver: "Resolver", name: cst.Name
) -> Optional[Tuple["Resolver", cst.ClassDef]]:
    """For ``report`` in ``for report in scheduled_reports():``, where the function is
    imported from another module of the project: the class, in its own module, whose
    instances the function's result yields (``function_items`` there)."""
    nodes = resolver.index.binding_nodes(name)
    if len(nodes) != 1:
        return None
    loop = resolver.index.parent(nodes[0])
    if not (isinstance(loop, (cst.For, cst.CompFor)) and loop.target is nodes[0]):
        return None
    call = loop.iter
    if not isinstance(call, cst.Call) or not is_name_like(call.func):
        return None
    called = call.func.attr.value if isinstance(call.func, cst.Attribute) else (
        call.func.value if isinstance(call.func, cst.Name) else ""
    )
    symbol = resolver.foreign(call.func, (f"def {called}",))
    if symbol is None or not isinstance(symbol.node, cst.FunctionDef):
        return None
    there = symbol.unit.resolver
    if there.index.parent(symbol.node) is not there.index.module:
        return None  # a method, or a function nested in another
    return _class_there(there, function_items(there, symbol.node))


def _class_there(
    there: "Resolver", item: Optional[cst.BaseExpression]
) -> Optional[Tuple["Resolver", cst.ClassDef]]:
    """The class ``item`` names in ``there``'s module: defined there, or imported
    there from another module of the project."""
    if item is None:
        return None
    if there.index.parent(item) is None:  # parsed from a string annotation
        named = there._class_named(item.value) if isinstance(item, cst.Name) else None
        return (there, named) if named is not None else None
    local = there.local_class(item)
    if local is not None:
        return there, local
    symbol = there.foreign(item) if is_name_like(item) else None
    if symbol is not None and isinstance(symbol.node, cst.ClassDef):
        return symbol.unit.resolver, symbol.node
    return None
