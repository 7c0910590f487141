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
    nodes = walk_shallow(method.body)
    returns = [node for node in nodes if isinstance(node, cst.Return)]
    first = [*method.params.posonly_params, *method.params.params][:1]
    own = {owner.name.value} | {p.name.value for p in first if is_classmethod(method)}
    for returned in returns:
        if returned.value is None:
            return False
        if not (
            _own_query(resolver, returned.value, own)
            or _own_collection(resolver, returned.value, own, nodes)
        ):
            return False
    return bool(returns)


def _own_query(resolver: "Resolver", value: cst.BaseExpression, own: Set[str]) -> bool:
    """``cls.query.filter(...)``, or a name bound only to such queries."""
    if isinstance(value, cst.Name):
        bound = resolver.index.bindings(value)
        return bool(bound) and all(
            isinstance(b, cst.BaseExpression) and _query_of(b, own) for b in bound
        )
    return _query_of(value, own)


def _query_of(value: cst.BaseExpression, own: Set[str]) -> bool:
    root, through_query = query_root(value)
    return through_query and isinstance(root, cst.Name) and root.value in own


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
