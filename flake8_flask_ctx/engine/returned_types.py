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

from typing import TYPE_CHECKING, List, Optional, Tuple

import libcst as cst

from ..knowledge.contexts import QUERY_ATTRIBUTES
from .helpers import walk_shallow
from .targets import is_name_like
from .uses import is_property

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver


def returns_own_query(owner: cst.ClassDef, method: Optional[cst.FunctionDef]) -> bool:
    """Whether ``method`` of ``owner`` is a classmethod/staticmethod whose every return
    is a query of ``owner`` (``cls.query...`` or ``Owner.query...``)."""
    if method is None or not is_class_factory(method):
        return False
    returns = [node for node in walk_shallow(method.body) if isinstance(node, cst.Return)]
    first = [*method.params.posonly_params, *method.params.params][:1]
    own = {owner.name.value} | {p.name.value for p in first if is_classmethod(method)}
    for returned in returns:
        if returned.value is None:
            return False
        root, through_query = query_root(returned.value)
        if not through_query or not isinstance(root, cst.Name) or root.value not in own:
            return False
    return bool(returns)


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
    return named if returns_own_query(symbol.node, there.find_method(symbol.node, method)) else None


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
