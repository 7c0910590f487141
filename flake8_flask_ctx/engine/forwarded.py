"""The arguments a dispatch call forwards to its callable, as the call the worker makes.

``pool.submit(sync, account, notify=False)`` runs ``sync(account, notify=False)``;
``Thread(target=sync, args=(account,), kwargs={"notify": False})`` too.  The
constant-argument guard (SPEC section 3) needs that call: a read under ``if notify:`` is
not reached when the dispatch passes a falsy literal for ``notify``.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from ..knowledge.dispatchers import DISPATCH_OPTIONS, Forwards
from .sites import DispatchSite


def worker_call(site: DispatchSite) -> Optional[cst.Call]:
    """The call of the dispatched callable that ``site`` amounts to, with the forwarded
    values as its arguments; None when they cannot be told (``*args``, a container
    built elsewhere, ``functools.partial`` arguments, a task body)."""
    if site.call is None or site.bound_arguments:
        return None
    return forwarded_call(site.call, site.report_at, site.forwards)


def forwarded_call(
    call: cst.Call, dispatched: cst.CSTNode, forwards: Forwards
) -> Optional[cst.Call]:
    """The call ``call`` makes of its argument ``dispatched`` elsewhere, by
    ``forwards`` (``Thread(target=f, args=(a,))`` -> ``f(a)``); None when the values
    cannot be told."""
    positional_values: List[cst.BaseExpression] = []
    keyword_values: Dict[str, cst.BaseExpression] = {}
    position = 0
    for arg in call.args:
        if arg.value is dispatched:
            position += 1 if arg.keyword is None else 0
            continue
        if arg.star:
            return None
        keyword = arg.keyword.value if arg.keyword is not None else None
        container = next(
            (name for at, name in forwards.containers
             if (keyword is None and at == position) or name == keyword),
            None,
        )
        if container is not None:
            if not _unpack(arg.value, positional_values, keyword_values):
                return None
        elif keyword is not None:
            if forwards.other_keywords and keyword not in DISPATCH_OPTIONS:
                keyword_values[keyword] = arg.value
        elif forwards.rest_from is not None and position >= forwards.rest_from:
            positional_values.append(arg.value)
        position += 1 if keyword is None else 0
    args = [cst.Arg(value) for value in positional_values] + [
        cst.Arg(value, keyword=cst.Name(name)) for name, value in keyword_values.items()
    ]
    return cst.Call(func=cst.Name("worker"), args=args)


def _unpack(
    value: cst.BaseExpression,
    positional: List[cst.BaseExpression],
    keywords: Dict[str, cst.BaseExpression],
) -> bool:
    """``args=(a, b)`` / ``kwargs={"k": v}`` literals; False for anything else."""
    if isinstance(value, (cst.Tuple, cst.List)):
        for element in value.elements:
            if isinstance(element, cst.StarredElement):
                return False
            positional.append(element.value)
        return True
    if isinstance(value, cst.Dict):
        for item in value.elements:
            if not isinstance(item, cst.DictElement):
                return False
            key = item.key
            if not isinstance(key, cst.SimpleString) or not isinstance(key.evaluated_value, str):
                return False
            keywords[key.evaluated_value] = item.value
        return True
    return False
