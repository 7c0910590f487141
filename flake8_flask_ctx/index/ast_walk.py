"""Walking Python's ``ast`` cheaply: the gates and the project index walk every module
flake8 lets through, so their walk is most of what the plugin costs a file it rejects.

``ast.walk`` goes through ``iter_child_nodes`` and ``iter_fields`` (two generators and a
``getattr`` per field of every node) and yields the ``Load``/``Store`` context node under
every name: about a third of all nodes, none of them interesting.  Reading each node
class's fields once, without ``ctx``, walks the same tree in half the time.  Nothing
here knows Flask.
"""

from __future__ import annotations

import ast
import itertools
from typing import Dict, Iterator, List, Optional, Tuple

#: The fields of each node class that can hold child nodes (``ctx`` never matters).
_FIELDS: Dict[type, Tuple[str, ...]] = {}
_AST = ast.AST


def _fields(kind: type) -> Tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(
            name for name in getattr(kind, "_fields", ()) if name != "ctx"
        )
    return names


def children(node: ast.AST) -> List[ast.AST]:
    """The child nodes of ``node`` (no expression contexts), in field order."""
    found: List[ast.AST] = []
    for name in _FIELDS.get(node.__class__) or _fields(node.__class__):
        value = getattr(node, name, None)
        if value.__class__ is list:
            found.extend(item for item in value if isinstance(item, _AST))
        elif isinstance(value, _AST):
            found.append(value)
    return found


def walk(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``tree`` (itself included, no expression contexts), depth first,
    iteratively: generated modules can be deeper than Python's stack."""
    stack: List[ast.AST] = [tree]
    pop, push = stack.pop, stack.append
    fields = _FIELDS
    while stack:
        node = pop()
        yield node
        kind = node.__class__
        for name in fields.get(kind) or _fields(kind):
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, _AST):
                        push(item)
            elif isinstance(value, _AST):
                push(value)


#: Statement fields: imports (and ``def``/``class``) are statements, and a walk over
#: statements alone skips the expressions, most of a module's nodes.
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def statements(tree: ast.AST) -> Iterator[ast.AST]:
    """Every statement under ``tree`` at any depth (in functions, classes, blocks,
    handlers and match cases), without walking into expressions."""
    stack: List[ast.AST] = [tree]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        yield node
        for name in _BODIES:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    push(item)


def dotted_name(node: ast.AST) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def more_nodes_than(tree: ast.AST, limit: int) -> bool:
    """Whether ``tree`` has more than ``limit`` nodes as ``ast.walk`` counts them
    (contexts included): the measure of what a LibCST parse of the module would cost
    (2-4 KB of memory per node).  Stops counting at the limit."""
    return sum(1 for _ in itertools.islice(ast.walk(tree), limit + 1)) > limit
