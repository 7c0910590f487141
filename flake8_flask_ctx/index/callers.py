"""Calls of a function from the *other* modules of the project, on ``ast``: does any
of them pass a given parameter?

A parameter default that is a function (``def consume(handler=on_message)``) is what
runs only when no caller passes that parameter.  The engine checks the callers in the
defining module on its LibCST tree; the callers elsewhere are found here, by name, in
the modules whose text mentions the function and its module -- without a LibCST
parse.  Matching by
name is generous on purpose: any module that might pass the parameter makes the
default uncertain, and an uncertain default is not followed (no false positive).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ..knowledge.dispatchers import DISPATCH_OPTIONS
from .sources import source_text, source_tree

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project


def passed_elsewhere(
    project: "Project",
    defining: Optional[str],
    function: str,
    parameter: str,
    position: Optional[int],
) -> bool:
    """Whether a module other than ``defining`` (dotted name) may pass ``parameter``
    (a keyword, or the ``position``-th positional argument, 0-based, counting a bound
    ``self`` out) to ``function``: by calling it with enough arguments, ``*``/``**``,
    that keyword, or by handing ``function`` to another call along with other
    arguments (``Thread(target=consume, kwargs={...})``, ``partial(consume, h)``)."""
    # A module that can call it names the defining module in an import (``from
    # .consumers import consume``, ``from feeds import consumers``).
    home = defining.rsplit(".", 1)[-1] if defining else None
    for path, dotted in project.modules_mentioning(function):
        if dotted is not None and dotted == defining:
            continue
        text = source_text(path)
        if text is not None and home is not None and home not in text:
            continue
        tree = module_tree(path)
        if tree is None:
            return True  # unreadable or unparsable: it may
        if _passes_in(tree, function, parameter, position):
            return True
    return False


def _passes_in(
    tree: ast.Module, function: str, parameter: str, position: Optional[int]
) -> bool:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _names(node.func, function):
            if any(k.arg is None or k.arg == parameter for k in node.keywords):
                return True
            positional = 0
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    return True
                positional += 1
            if position is not None and positional > position:
                return True
        elif any(_names(arg, function) for arg in node.args) or any(
            _names(k.value, function) for k in node.keywords
        ):
            others = sum(1 for arg in node.args if not _names(arg, function)) + sum(
                1 for k in node.keywords
                if not _names(k.value, function) and k.arg not in DISPATCH_OPTIONS
            )
            if others > 0:
                return True
    return False


def _names(node: ast.AST, function: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == function) or (
        isinstance(node, ast.Attribute) and node.attr == function
    )


def module_tree(path: Path) -> Optional[ast.Module]:
    """The module's ``ast``, shared with the other readers (``sources.source_tree``)."""
    return source_tree(path)
