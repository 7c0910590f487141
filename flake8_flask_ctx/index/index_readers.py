"""Small readers of Python's ``ast`` for the project index (``project_index.py``):
what a method pushes, which ``if`` tests a task option, where ``SERVER_NAME`` is set,
which functions are Flask CLI commands and which workers they start.  Each answers one
question about one node, by names only (the index never resolves imports).
"""

from __future__ import annotations

import ast
from typing import FrozenSet, List, Optional, Set, Tuple

from .ast_walk import children, walk
from ..knowledge.contexts import Tier
from ..knowledge.queues import (
    CLI_COMMAND_GROUP_CLASSES,
    CLI_CONTEXT_DECORATORS,
    CONTEXT_PUSH_METHODS,
    QUEUE_WORKER_STARTS,
)
from .pushed import PushedContext


def last_name(node: Optional[ast.AST]) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def string_class(node: ast.expr) -> Optional[str]:
    """``task_cls="pkg.tasks:ContextTask"`` (Celery's string form)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace(":", ".").rsplit(".", 1)[-1] or None
    return None


def decorator_method(decorator: ast.expr) -> Optional[str]:
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return last_name(func)


def pushes(
    function: "ast.FunctionDef | ast.AsyncFunctionDef", owner: str, where: str
) -> Optional[PushedContext]:
    """The contexts ``function``'s body pushes: ``x.app_context()`` anywhere (with,
    ``enter_context``, ``.push()``) is an app context; ``x.test_request_context()`` a
    request context, for every task unless it sits under ``if`` on a task option
    (``if getattr(task, "request_context", False):``)."""
    always: Set[Tier] = set()
    option: Optional[str] = None
    with_option: Set[Tier] = set()
    stack: List[Tuple[ast.AST, Optional[str], bool]] = [(function, None, False)]
    while stack:
        node, condition, conditional = stack.pop()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            tiers = CONTEXT_PUSH_METHODS.get(node.func.attr)
            if tiers and Tier.REQUEST in tiers and conditional:
                # Pushed for some tasks only: those declared with the option tested
                # (an unrecognised condition: counted for none).
                if condition is not None:
                    option, with_option = condition, with_option | set(tiers)
            elif tiers:
                always |= set(tiers)
        if isinstance(node, ast.If):
            name = _option_name(node.test)
            stack.extend((child, name, True) for child in node.body)
            stack.extend((child, None, True) for child in node.orelse)
            stack.append((node.test, condition, conditional))
            continue
        stack.extend((child, condition, conditional) for child in children(node))
    if not always and not with_option:
        return None
    pushed_always = frozenset(always)
    return PushedContext(owner, where, pushed_always, option, frozenset(with_option))


def _option_name(test: ast.expr) -> Optional[str]:
    """The task option an ``if`` tests: ``getattr(task, "request_context", False)``,
    ``task.request_context``."""
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "getattr"
        and len(test.args) >= 2
        and isinstance(test.args[1], ast.Constant)
        and isinstance(test.args[1].value, str)
    ):
        return test.args[1].value
    if isinstance(test, ast.Attribute):
        return test.attr
    return None


def merge(first: PushedContext, second: PushedContext) -> PushedContext:
    return PushedContext(
        first.name, first.where, first.always | second.always,
        first.option or second.option, first.with_option | second.with_option,
    )


def sets_server_name(target: ast.expr, value: Optional[ast.expr]) -> bool:
    """``SERVER_NAME = "..."`` (config module or class), ``app.config["SERVER_NAME"] =
    ...``; an explicit ``None`` sets nothing."""
    if value is None or (isinstance(value, ast.Constant) and value.value in (None, "")):
        return False
    if isinstance(target, ast.Name):
        return target.id == "SERVER_NAME"
    if isinstance(target, ast.Subscript):
        key = target.slice
        return isinstance(key, ast.Constant) and key.value == "SERVER_NAME"
    return False


def call_sets_server_name(call: ast.Call) -> bool:
    """``config.update(SERVER_NAME=...)``, ``config.update({"SERVER_NAME": ...})``,
    ``config.setdefault("SERVER_NAME", ...)``."""
    for keyword in call.keywords:
        if keyword.arg == "SERVER_NAME":
            return not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None)
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            for key, value in zip(arg.keys, arg.values):
                if isinstance(key, ast.Constant) and key.value == "SERVER_NAME":
                    return not (isinstance(value, ast.Constant) and value.value is None)
    first = call.args[0] if call.args else None
    return (
        last_name(call.func) == "setdefault"
        and isinstance(first, ast.Constant)
        and first.value == "SERVER_NAME"
        and len(call.args) > 1
    )


def cli_groups(tree: ast.Module) -> FrozenSet[str]:
    """Module-level names bound to a Flask CLI group (``manager = AppGroup("rq")``)."""
    found: Set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            if last_name(statement.value.func) in CLI_COMMAND_GROUP_CLASSES:
                found.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return frozenset(found)


def is_cli_command(
    node: "ast.FunctionDef | ast.AsyncFunctionDef", groups: FrozenSet[str]
) -> bool:
    """``@app.cli.command()``, ``@bp.cli.command``, ``@manager.command()`` on a Flask
    ``AppGroup``, or any command with ``@with_appcontext``: Flask runs it inside an app
    context."""
    for decorator in node.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        if last_name(func) in CLI_CONTEXT_DECORATORS:
            return True
        if isinstance(func, ast.Attribute) and func.attr == "command":
            owner = func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "cli":
                return True
            if isinstance(owner, ast.Name) and owner.id in groups:
                return True
    return False


def called_names(function: ast.AST) -> List[str]:
    return sorted({
        node.func.id for node in walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    })


def started_workers(function: ast.AST, imported: FrozenSet[str]) -> Set[str]:
    """Queues whose worker the body starts in this process (``worker.work()``: RQ)."""
    found: Set[str] = set()
    for node in walk(function):
        if isinstance(node, ast.Call):
            called = last_name(node.func)
            for queue, start in QUEUE_WORKER_STARTS.items():
                if called in start.words and (not start.needs_import or queue in imported):
                    found.add(queue)
    return found


def imported_packages(tree: ast.Module) -> FrozenSet[str]:
    """Top-level packages the module imports (anywhere in it)."""
    found: Set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return frozenset(found)
