"""Parameters a call sets to a falsy literal: the guard ``if notify:`` in the callee then
keeps what it guards from running (``emit_flash=False``).  Shared by the body scanner (the
edges it records) and reach (the dispatched call itself)."""

from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Set

import libcst as cst


def parameters(params: cst.Parameters) -> List[cst.Param]:
    return list(params.posonly_params) + list(params.params) + list(params.kwonly_params)


#: Literals that are false: ``emit_flash=False``, ``notify=None``, ``retries=0``...
_FALSY_NAMES = frozenset({"False", "None"})


def _is_falsy_literal(value: Optional[cst.BaseExpression]) -> bool:
    if isinstance(value, cst.Name):
        return value.value in _FALSY_NAMES
    if isinstance(value, (cst.Integer, cst.Float)):
        return value.value.replace("_", "").strip("0.") == ""
    if isinstance(value, cst.SimpleString):
        return len(value.evaluated_value or "") == 0
    if isinstance(value, (cst.List, cst.Tuple, cst.Dict, cst.Set)):
        return not value.elements
    return False


def falsy_parameters(call: cst.Call, callee: cst.CSTNode, bound: bool) -> FrozenSet[str]:
    """The callee's parameters that ``call`` sets to a falsy literal: passed one, or
    left at a falsy literal default (unknown when ``*args``/``**kwargs`` are passed).
    ``bound``: ``obj.method(...)``, whose first parameter is ``self``."""
    if not isinstance(callee, (cst.FunctionDef, cst.Lambda)):
        return frozenset()
    positional = list(callee.params.posonly_params) + list(callee.params.params)
    if bound and positional and positional[0].name.value in ("self", "cls"):
        positional = positional[1:]
    passed: Dict[str, cst.BaseExpression] = {}
    spread = False
    for position, arg in enumerate(call.args):
        if arg.star:
            spread = True
        elif arg.keyword is not None:
            passed[arg.keyword.value] = arg.value
        elif not spread and position < len(positional):
            passed[positional[position].name.value] = arg.value
    found: Set[str] = set()
    for param in parameters(callee.params):
        name = param.name.value
        value = passed.get(name)
        if value is None and not spread:
            value = param.default
        if _is_falsy_literal(value):
            found.add(name)
    return frozenset(found)
