"""Small questions about LibCST nodes, shared by the engine's walk (``names.py``) and its
scope tracking (``scopes.py``): a node's children in source order, read from its fields,
and the dotted name an expression or an import alias spells.  Nothing here knows Flask.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

import libcst as cst

#: Nodes no question of the engine is about (layout and punctuation): not walked.
_TRIVIA = frozenset({
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.Newline, cst.TrailingWhitespace,
    cst.EmptyLine, cst.Comment, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket,
    cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Comma, cst.Dot,
    cst.Colon, cst.Semicolon, cst.AssignEqual, cst.Asynchronous, cst.ParamSlash,
    cst.ParamStar, cst.ImportStar,
})
#: Node fields in source order where the dataclass declares them in another order.
_SOURCE_ORDER: Dict[type, Tuple[str, ...]] = {
    cst.Arg: ("keyword", "value"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Parameters: (
        "posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params",
        "star_kwarg",
    ),
    cst.With: ("items", "body"),
    cst.MatchCase: ("pattern", "guard", "body"),
}
_FIELDS: Dict[type, Tuple[str, ...]] = {}
_LEAF_TYPES = frozenset({str, bool, int, type(None)})
#: Per type of a field's value: whether it is a node the walk enters.  LibCST's
#: classes are ABCs, so ``isinstance(x, cst.CSTNode)`` runs ``ABCMeta``'s Python-level
#: check: a dict lookup per value was a tenth of the engine's own time.
_WALKED: Dict[type, bool] = {}


def _walked(kind: type) -> bool:
    known = _WALKED.get(kind)
    if known is None:
        known = _WALKED[kind] = issubclass(kind, cst.CSTNode) and kind not in _TRIVIA
    return known


#: Nodes whose fields hold only text and punctuation (a third of a module's nodes).
CHILDLESS = frozenset({
    cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis,
    cst.Pass, cst.Break, cst.Continue,
})


def child_nodes(node: cst.CSTNode) -> List[cst.CSTNode]:
    """``node.children`` in source order, without layout and punctuation, read from
    the node's fields: LibCST's ``children`` (and its visitors) rebuild every node they
    pass, which cost more than all the engine's own work on a module."""
    kind = type(node)
    if kind in CHILDLESS:
        return []
    names = _FIELDS.get(kind)
    if names is None:
        names = _SOURCE_ORDER.get(kind) or tuple(
            f.name for f in dataclasses.fields(kind)
        )
        names = _FIELDS[kind] = tuple(n for n in names if hasattr(node, n))
    found: List[cst.CSTNode] = []
    walked = _WALKED
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if walked.get(kind) or (kind not in walked and _walked(kind)):
            found.append(value)
        elif kind is list or kind is tuple or (
            kind not in _LEAF_TYPES and isinstance(value, (list, tuple))
        ):
            found.extend(
                item for item in value
                if walked.get(type(item)) or (type(item) not in walked and _walked(type(item)))
            )
    return found


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, ``None`` for anything else."""
    parts: List[str] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Attribute):
        parts.append(current.attr.value)
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    parts.append(current.value)
    return ".".join(reversed(parts))


def last_name(node: cst.BaseExpression) -> Optional[str]:
    """``c`` in ``a.b.c``, ``f`` in ``f``; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def root_name(node: cst.BaseExpression) -> Optional[cst.Name]:
    """The leftmost Name of an attribute chain (``a`` in ``a.b.c``)."""
    current = node
    while isinstance(current, cst.Attribute):
        current = current.value
    return current if isinstance(current, cst.Name) else None


def alias_identifier(alias: cst.ImportAlias) -> Optional[str]:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return None


def walk(node: cst.CSTNode) -> List[cst.CSTNode]:
    """All nodes under ``node``, itself included (iterative: no recursion limit)."""
    out: List[cst.CSTNode] = []
    stack: List[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(child_nodes(current))
    return out


def argument_at(
    call: cst.Call, position: Optional[int], keyword: str
) -> Optional[cst.BaseExpression]:
    """The argument passed as ``keyword=`` or at ``position`` (0-based), if any."""
    positional = 0
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return arg.value
        elif arg.star:
            return None  # *args: positions beyond this point are unknown
        else:
            if positional == position:
                return arg.value
            positional += 1
    return None


def decorated_by_method(function: cst.FunctionDef, methods: "frozenset[str]") -> bool:
    """Whether a decorator of ``function`` is ``@<x>.<method>`` or ``@<x>.<method>(...)``
    with ``method`` in ``methods`` (``@app.route(...)``, ``@app.cli.command()``)."""
    for decorator in function.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        if isinstance(expr, cst.Attribute) and expr.attr.value in methods:
            return True
    return False
