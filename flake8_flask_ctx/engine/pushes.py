"""Where code pushes a Flask context for what follows it (SPEC section 6, "a context is
pushed by every Flask API that pushes one").

``with <ctx>:`` covers its body; ``ctx.push()``, ``ctx.__enter__()`` and
``stack.enter_context(ctx)`` cover the rest of their block.  A context object is
``app.app_context()`` / ``app.request_context(environ)`` / ``app.test_request_context()``,
a name bound to one, a parameter (a context passed in: which one cannot be seen, so any),
or a call of a project function or class that makes one and enters it
(``@contextmanager def app_scope(): with app.app_context(): yield``; a class whose
``__enter__`` pushes one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, FrozenSet, Set

import libcst as cst

from ..knowledge.contexts import (
    CONTEXT_ENTER_METHODS,
    CONTEXT_ENTERING_CALLS,
    CONTEXT_MANAGER_METHODS,
    FAKE_REQUEST_METHODS,
    Tier,
)
from .names import child_nodes, walk

if TYPE_CHECKING:  # pragma: no cover
    from .reach import Reach

Tiers = FrozenSet[Tier]
NO_TIERS: Tiers = frozenset()


def context_of(
    reach: "Reach", expr: cst.BaseExpression, parameters: FrozenSet[str], depth: int = 0
) -> Tiers:
    """Tiers the context object ``expr`` pushes when entered."""
    if depth > 3:
        return NO_TIERS
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        known = CONTEXT_MANAGER_METHODS.get(expr.func.attr.value)
        if known is not None:
            return frozenset(known)
    if isinstance(expr, cst.Call):
        return _made_by_project(reach, expr)
    if not isinstance(expr, cst.Name):
        return NO_TIERS
    values = reach.index.bindings(expr)
    if not values and expr.value in parameters:
        return frozenset(Tier)
    found: Set[Tier] = set()
    for value in values:
        if isinstance(value, cst.BaseExpression):
            found |= context_of(reach, value, parameters, depth + 1)
    return frozenset(found)


def pushes_of(reach: "Reach", statement: cst.CSTNode, parameters: FrozenSet[str]) -> Tiers:
    """Tiers a simple statement enters for the rest of its block."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return NO_TIERS
    found: Set[Tier] = set()
    for small in statement.body:
        call = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            continue
        method = call.func.attr.value
        if method in CONTEXT_ENTER_METHODS:
            found |= context_of(reach, call.func.value, parameters)
        elif method in CONTEXT_ENTERING_CALLS and call.args:
            found |= context_of(reach, call.args[0].value, parameters)
    return frozenset(found)


def _made_by_project(reach: "Reach", call: cst.Call) -> Tiers:
    """``app_scope()`` / ``AppScope()``: a project function (a context manager) or a
    class whose ``__enter__`` makes a context and enters it."""
    if not isinstance(call.func, (cst.Name, cst.Attribute)):
        return NO_TIERS
    functions = [t.node for t in reach.callees_of(call.func)]
    if isinstance(call.func, cst.Name):
        cls = reach.resolver.local_class(call.func)
        if cls is not None:
            enter = reach.resolver.find_method(cls, "__enter__")
            functions = [enter] if enter is not None else []
    found: Set[Tier] = set()
    for function in functions:
        if isinstance(function, cst.FunctionDef):
            found |= entered_in(function)
    return frozenset(found)


def entered_in(function: cst.CSTNode, lasting: bool = False) -> Set[Tier]:
    """Tiers ``function`` makes (``x.app_context()``...) and enters (``with``,
    ``.push()``, ``.__enter__()``, ``enter_context``).  ``lasting``: only a context left
    pushed when it returns counts (a pool ``initializer=``: no ``with``)."""
    made: Set[Tier] = set()
    entered = False
    stack = [function]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            name = node.func.attr.value
            made |= CONTEXT_MANAGER_METHODS.get(name, frozenset())
            entered = entered or name in CONTEXT_ENTER_METHODS or name in CONTEXT_ENTERING_CALLS
        if not lasting and isinstance(node, cst.WithItem) and isinstance(node.item, cst.Call):
            func = node.item.func
            if isinstance(func, cst.Attribute) and func.attr.value in CONTEXT_MANAGER_METHODS:
                entered = True
        stack.extend(child_nodes(node))
    return made if entered else set()


#: Context methods that push a real context (not a fake request's).
PUSH_WORDS = tuple(sorted(set(CONTEXT_MANAGER_METHODS) - FAKE_REQUEST_METHODS))


def pushed_around_parameter(decorator: cst.FunctionDef) -> FrozenSet[Tier]:
    """The tiers ``decorator`` pushes around calls of its first parameter: a ``with
    <x>.app_context():`` block (not a fake request's) that calls it, or a context it
    makes and enters (``.push()``, ``__enter__``) in a body that calls it."""
    params = [*decorator.params.posonly_params, *decorator.params.params]
    if not params:
        return frozenset()
    wrapped = params[0].name.value
    tiers: Set[Tier] = set()
    for node in walk(decorator.body):
        if not isinstance(node, cst.With):
            continue
        for item in node.items:
            call = item.item
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
                continue
            method = call.func.attr.value
            if method not in PUSH_WORDS:
                continue
            if any(
                isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name)
                and inner.func.value == wrapped
                for inner in walk(node.body)
            ):
                tiers |= CONTEXT_MANAGER_METHODS[method]
    if not tiers and any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
        and node.func.value == wrapped
        for node in walk(decorator.body)
    ):
        # ``ctx = app.app_context(); ctx.push(); try: return fn() finally: ctx.pop()``
        tiers |= entered_in(decorator)
    return frozenset(tiers)
