"""The checked file with its big constant tables collapsed to one line each.

Why: generated modules (lookup tables, translations, fixtures, schema dumps) are mostly
top-level assignments of literals -- 20,000 lines of them with one threaded view
cost LibCST a parse and a concrete syntax tree several times what flake8 spends on the
whole file.  A pure literal (constants and containers of constants, nothing else) can
hold no dispatch site, no context-local and no callable, so the analysis needs only its
binding and its truthiness (a guard may test it): ``TABLE = {...}`` over 50 lines
becomes ``TABLE = {0: 0}`` on one, and the lines after it are mapped back to the
file's (``ModuleIndex.line``), as for the other modules (``outline.py``).

Found with Python's ``ast`` (flake8 has parsed the file already); nothing here knows
Flask or loads LibCST.
"""

from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from .outline import split_lines

#: A statement shorter than this is left alone: collapsing it saves nothing worth a
#: line map.
MIN_COLLAPSED_LINES = 4

_CONTAINERS = (ast.Tuple, ast.List, ast.Set)


def is_pure_literal(node: ast.AST) -> bool:
    """Constants, and tuples/lists/sets/dicts (and signs) of pure literals only."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Constant):
            continue
        if isinstance(current, _CONTAINERS):
            stack.extend(current.elts)
        elif isinstance(current, ast.Dict):
            if any(key is None for key in current.keys):  # ``{**other}``
                return False
            stack.extend(key for key in current.keys if key is not None)
            stack.extend(current.values)
        elif isinstance(current, ast.UnaryOp) and isinstance(
            current.op, (ast.USub, ast.UAdd, ast.Invert)
        ):
            stack.append(current.operand)
        else:
            return False
    return True


def stub(value: ast.expr) -> Optional[str]:
    """A one-line literal of the same type and truthiness, or None (keep the text)."""
    if isinstance(value, ast.Dict):
        return "{0: 0}" if value.keys else "{}"
    if isinstance(value, ast.List):
        return "[0]" if value.elts else "[]"
    if isinstance(value, ast.Tuple):
        return "(0,)" if value.elts else "()"
    if isinstance(value, ast.Set):
        return "{0}"
    if isinstance(value, ast.Constant):
        if isinstance(value.value, str):
            return "'x'" if value.value else "''"
        if isinstance(value.value, bytes):
            return "b'x'" if value.value else "b''"
    return None


def collapse_literal_tables(
    tree: ast.Module, text: str
) -> Optional[Tuple[str, List[int]]]:
    """The text with every long top-level ``NAME = <pure literal>`` on one line, and
    the file's line of each of its lines; None: nothing to collapse."""
    lines = split_lines(text)
    replaced: List[Tuple[int, int, str]] = []
    for statement in tree.body:
        collapsed = _collapsed(statement, lines)
        if collapsed is not None:
            replaced.append(collapsed)
    if not replaced:
        return None
    out: List[str] = []
    numbers: List[int] = []
    line = 1
    for first, last, new_text in replaced:
        out.extend(lines[line - 1:first - 1])
        numbers.extend(range(line, first))
        out.append(new_text)
        numbers.append(first)
        line = last + 1
    out.extend(lines[line - 1:])
    numbers.extend(range(line, len(lines) + 1))
    return "".join(out), numbers


def _collapsed(statement: ast.stmt, lines: List[str]) -> Optional[Tuple[int, int, str]]:
    """(first line, last line, its one-line replacement) for a collapsible statement."""
    if isinstance(statement, ast.Assign):
        targets, value = statement.targets, statement.value
        if not all(isinstance(target, ast.Name) for target in targets):
            return None
        names = " = ".join(target.id for target in targets if isinstance(target, ast.Name))
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        if not isinstance(statement.target, ast.Name):
            return None
        value, names = statement.value, statement.target.id
    else:
        return None
    first, last = statement.lineno, statement.end_lineno or statement.lineno
    if last - first + 1 < MIN_COLLAPSED_LINES or last > len(lines):
        return None
    tail = lines[last - 1]
    # ``ast`` columns count UTF-8 bytes.  Alone on its lines: nothing after it but a
    # comment (no ``B = {...}; c = 1``); a top-level statement starts its line.
    after = tail.encode("utf-8")[statement.end_col_offset or 0:].decode("utf-8", "replace")
    if statement.col_offset != 0 or after.strip()[:1] not in ("", "#"):
        return None
    replacement = stub(value)
    if replacement is None or not is_pure_literal(value):
        return None
    ending = "\r\n" if tail.endswith("\r\n") else "\r" if tail.endswith("\r") else "\n"
    return first, last, f"{names} = {replacement}{ending}"
