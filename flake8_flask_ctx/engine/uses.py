"""Where code certainly calls a callable or reads a context-local (SPEC section 6).

The body scanner asks these of every reference it meets.  A callable is *called* where it
is the function of a call, or handed to a library function known to call it on the spot
(``knowledge.calls``); a property is called by reading it.  A context-local is *read*
where it is dereferenced: an attribute, a subscript, a call, iteration, comparison,
formatting, or a library function known to read its argument.  Everything else --
naming, binding, storing, returning, registering, handing to unknown code -- is not
certain, and certainty is what a finding needs.
"""

from __future__ import annotations

from typing import Optional, Set

import libcst as cst

from ..knowledge.calls import (
    BUILTINS_PREFIX,
    CALLS_ON_THE_SPOT,
    METHODS_CALLING_KEYWORD,
    METHODS_READING_ARGUMENTS,
    READS_ITS_ARGUMENTS,
)
from .names import ModuleIndex
from .targets import is_name_like


def certainly_called(index: ModuleIndex, expr: cst.BaseExpression) -> bool:
    """Called here: ``expr(...)``, or handed to a library function (or a ``.sort``)
    that calls it on the spot (``knowledge.calls``)."""
    parent = index.parent(expr)
    if isinstance(parent, cst.Call):
        return parent.func is expr
    if not isinstance(parent, cst.Arg) or parent.value is not expr or parent.star:
        return False
    call = index.parent(parent)
    if not isinstance(call, cst.Call):
        return False
    keyword = parent.keyword.value if parent.keyword is not None else None
    if isinstance(call.func, cst.Attribute):
        wanted = METHODS_CALLING_KEYWORD.get(call.func.attr.value)
        if wanted is not None and keyword == wanted:
            return True
    for name in library_names(index, call.func):
        spot = CALLS_ON_THE_SPOT.get(name)
        if spot is None:
            continue
        position, by_keyword = spot
        if keyword is not None:
            if keyword == by_keyword:
                return True
        elif position is not None and position_of(call, parent) == position:
            return True
    return False


def library_names(index: ModuleIndex, func: cst.BaseExpression) -> Set[str]:
    """Qualified names of a called library function; ``builtins.<name>`` for a name
    nothing in the module binds."""
    if not is_name_like(func):
        return set()
    names = index.qualified_names_any(func)
    if not names and isinstance(func, cst.Name) and not index.binding_nodes(func):
        return {BUILTINS_PREFIX + func.value}
    return names


def dereferenced(index: ModuleIndex, node: cst.BaseExpression) -> bool:
    """Whether the code at ``node`` uses the context-local itself, not just its name."""
    parent = index.parent(node)
    if isinstance(parent, (cst.Attribute, cst.Subscript)):
        return parent.value is node
    if isinstance(parent, cst.Call):
        return parent.func is node
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.iter is node
    if isinstance(parent, cst.FormattedStringExpression):
        return parent.conversion != "r"  # ``f"{g!r}"``: the proxy's own repr, no context
    if isinstance(parent, cst.BinaryOperation):
        return True
    if isinstance(parent, cst.Comparison) and parent.comparisons:
        # ``request == x`` asks the proxy; ``request is None`` only the name.
        return not isinstance(parent.comparisons[0].operator, (cst.Is, cst.IsNot))
    if isinstance(parent, cst.ComparisonTarget):
        return not isinstance(parent.operator, (cst.Is, cst.IsNot))
    if isinstance(parent, cst.Arg) and parent.value is node:
        call = index.parent(parent)
        if not isinstance(call, cst.Call):
            return False
        if parent.star:  # ``f(*request.args)`` iterates it
            return True
        if (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value in METHODS_READING_ARGUMENTS
        ):
            return True
        names = library_names(index, call.func)
        return bool(names & READS_ITS_ARGUMENTS) or certainly_called(index, node)
    return False


def position_of(call: cst.Call, arg: cst.Arg) -> Optional[int]:
    """``arg``'s position among ``call``'s positional arguments (None after a ``*``)."""
    position = 0
    for current in call.args:
        if current.star or current.keyword is not None:
            if current is arg:
                return None
            if current.star:
                return None
            continue
        if current is arg:
            return position
        position += 1
    return None


#: Decorators that make a method a property: reading the attribute calls it.
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "hybrid_property"})


def is_property(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.FunctionDef):
        return False
    for decorator in node.decorators:
        expr = decorator.decorator
        name = expr.attr.value if isinstance(expr, cst.Attribute) else (
            expr.value if isinstance(expr, cst.Name) else None
        )
        if name in _PROPERTY_DECORATORS:
            return True
    return False
