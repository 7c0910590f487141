"""Small syntactic shapes the body scanner recognises: a ``try`` that expects the
context error, a Flask registration call, ``bool(x)``, a block that always leaves."""

from __future__ import annotations

import libcst as cst

from ..knowledge.contexts import CONTEXT_REGISTRATION_METHODS


def catches_runtime_error(node: cst.Try) -> bool:
    """A handler names ``RuntimeError`` (alone or in a tuple): the context error."""
    for handler in node.handlers:
        kind = handler.type
        names = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
        if any(isinstance(n, cst.Name) and n.value == "RuntimeError" for n in names):
            return True
    return False


def registers_for_flask(call: cst.Call) -> bool:
    return (
        isinstance(call.func, cst.Attribute)
        and call.func.attr.value in CONTEXT_REGISTRATION_METHODS
    )


def is_bool_call(call: cst.Call) -> bool:
    return (
        isinstance(call.func, cst.Name)
        and call.func.value == "bool"
        and len(call.args) == 1
        and not call.args[0].star
    )


def always_exits(body: cst.BaseSuite) -> bool:
    """Whether a block ends in ``return``/``raise``/``continue``/``break``."""
    exits = (cst.Return, cst.Raise, cst.Continue, cst.Break)
    if isinstance(body, cst.SimpleStatementSuite):
        return bool(body.body) and isinstance(body.body[-1], exits)
    if isinstance(body, cst.IndentedBlock) and body.body:
        last = body.body[-1]
        return (
            isinstance(last, cst.SimpleStatementLine)
            and bool(last.body)
            and isinstance(last.body[-1], exits)
        )
    return False
