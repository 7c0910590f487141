"""Project-wide facts: the contexts a project pushes outside its requests.

Whether a task body runs with an app context is not a fact about the task's module:
FlaskBB installs its Celery task base inside its app factory, indico two imports away
(a ``Celery`` subclass patching ``self.Task``), the Flask documentation in a
``celery_init_app`` module the tasks never import; redash starts its RQ workers from a
Flask CLI command; indico sets ``SERVER_NAME`` in its app factory.  So these facts are
gathered once per process per project, by a cheap pass over every module of the project
(a word test on the text, then Python's ``ast`` for the few modules that pass; nothing
is imported or executed), and the engine asks them about every task and job, whatever
the checked file imports.

The pass is bounded: at most ``MAX_SCANNED_FILES`` files (those of ``project.py``) and
``MAX_INDEX_SECONDS`` of work; what it found by then is used.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from .knowledge import Tier
from .queue_knowledge import (
    CELERY_APP_CLASS_NAMES,
    CLI_COMMAND_GROUP_CLASSES,
    CLI_CONTEXT_DECORATORS,
    CONTEXT_PUSH_METHODS,
    QUEUE_CONTEXT_HOOKS,
    QUEUE_WORKER_STARTS,
    TASK_BASE_METHODS,
)

Tiers = FrozenSet[Tier]
NO_TIERS: Tiers = frozenset()

#: Work the index may do before it stops and answers with what it found (seconds).
MAX_INDEX_SECONDS = 5.0

#: Words that make a module worth parsing on their own: where apps, task bases and
#: queue hooks are installed, and where ``SERVER_NAME`` is set.
_INSTALL_WORDS = tuple(sorted({
    "SERVER_NAME", "Celery", ".Task", "task_cls",
    *(word for hook in QUEUE_CONTEXT_HOOKS.values()
      for word in (*hook.install_methods, *hook.keywords)),
}))
#: A class or hook that pushes a context: a push call and a method that runs it.
_PUSH_WORDS = ("app_context(", "request_context(")
_RUNNER_WORDS = tuple(sorted({
    *(f"def {m}" for m in TASK_BASE_METHODS),
    *(f"def {m}" for hook in QUEUE_CONTEXT_HOOKS.values() for m in hook.methods),
    *(d for hook in QUEUE_CONTEXT_HOOKS.values() for d in hook.decorators),
}))
#: A Flask CLI command that starts a worker: a command decorator and a worker start.
_COMMAND_WORDS = (".command", *CLI_CONTEXT_DECORATORS)
_START_WORDS = tuple(sorted({
    f"{word}(" for start in QUEUE_WORKER_STARTS.values() for word in start.words
}))
#: Test code is not the application: its ``SERVER_NAME`` or task base is a test's
#: (pgadmin4 sets ``SERVER_NAME`` in a test module inside its package, FlaskBB in its
#: ``configs/testing.py``).
_TEST_DIRECTORIES = frozenset({"test", "tests", "testing"})
_TEST_MODULES = frozenset({"test.py", "tests.py", "testing.py", "conftest.py"})


def worth_parsing(text: str) -> bool:
    """Whether a module's text may hold one of the facts (most modules do not: only
    those are parsed)."""
    if any(word in text for word in _INSTALL_WORDS):
        return True
    if any(w in text for w in _PUSH_WORDS) and any(w in text for w in _RUNNER_WORDS):
        return True
    return any(w in text for w in _COMMAND_WORDS) and any(w in text for w in _START_WORDS)


def is_test_module(display: str) -> bool:
    """``tests/…``, ``…/test/…``, ``test_x.py``, ``x_test.py``, ``conftest.py``,
    ``testing.py``."""
    parts = display.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        any(part in _TEST_DIRECTORIES for part in parts[:-1])
        or name in _TEST_MODULES or name.startswith("test_") or name.endswith("_test.py")
    )


@dataclass(frozen=True)
class PushedContext:
    """What a task base, middleware or worker pushes around the code it runs.

    ``always``: tiers pushed for every task; ``option``/``with_option``: tiers pushed
    only for tasks declared with that option set (indico's ``request_context=True``).
    ``where``: ``path:line`` of the class or command, for messages and triage."""

    name: str
    where: str
    always: Tiers
    option: Optional[str] = None
    with_option: Tiers = NO_TIERS

    def tiers(self, options: FrozenSet[str]) -> Tiers:
        if self.option is not None and self.option in options:
            return self.always | self.with_option
        return self.always


@dataclass
class ProjectFacts:
    """The answers.  Built by ``index_project``; read by the engine."""

    #: Celery task bases installed on an app anywhere in the project.
    celery_bases: List[PushedContext] = field(default_factory=list)
    #: Every project class whose ``__call__``/``run`` pushes a context, by class name
    #: (``@app.task(base=ContextTask)`` names one of them).
    task_classes: Dict[str, PushedContext] = field(default_factory=dict)
    #: Qualified names of the project's Celery app objects (``pkg.extensions.celery``).
    celery_apps: Set[str] = field(default_factory=set)
    #: ``rq``/``huey``/``dramatiq`` -> what its middleware, job class or the Flask CLI
    #: command that starts its workers pushes around every job.
    queue_contexts: Dict[str, PushedContext] = field(default_factory=dict)
    #: ``path:line`` where the configuration sets ``SERVER_NAME`` (None: nowhere).
    server_name: Optional[str] = None
    files: int = 0
    parsed: int = 0
    complete: bool = True

    def celery_context(
        self, options: FrozenSet[str] = frozenset(), base: Optional[str] = None
    ) -> Optional[PushedContext]:
        """What a Celery task gets: its own ``base=`` class if the project's, else the
        app's installed base (several installed: the one pushing the most)."""
        if base is not None and base in self.task_classes:
            return self.task_classes[base]
        best: Optional[PushedContext] = None
        for candidate in self.celery_bases:
            if best is None or len(candidate.tiers(options)) > len(best.tiers(options)):
                best = candidate
        return best


def index_project(files: Iterable[Tuple[Path, str, Optional[str]]]) -> ProjectFacts:
    """The facts of the project whose modules are ``files``: ``(path, display,
    dotted module name)``.  Never raises for a module it cannot read or parse."""
    from .project import source_text

    collector = _Collector()
    started = time.monotonic()
    for path, display, module in files:
        collector.facts.files += 1
        if time.monotonic() - started > MAX_INDEX_SECONDS:
            collector.facts.complete = False
            break
        if is_test_module(display):
            continue
        text = source_text(path)
        if text is None or not worth_parsing(text):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        collector.facts.parsed += 1
        try:
            collector.module(tree, display, module)
        except RecursionError:  # a pathologically deep module: skip it, keep the rest
            continue
    return collector.finish()


# -- the pass over one module -----------------------------------------------------------

class _Collector:
    """Facts of one project, module by module; relations between modules (a class
    defined in one, installed in another) are settled in ``finish``."""

    def __init__(self) -> None:
        self.facts = ProjectFacts()
        #: Class name -> (where, its base names, what its own methods push).
        self.classes: Dict[str, Tuple[str, Tuple[str, ...], Optional[PushedContext]]] = {}
        #: Names installed as a Celery task base (``X.Task = N``, ``task_cls=N``).
        self.installed: Set[str] = set()
        #: Names handed to a queue's middleware/job-class hook, by queue.
        self.hooked: Dict[str, Set[str]] = {}
        #: Module-level ``name = Cls(...)``: (qualified name, class name).
        self.constructed: List[Tuple[str, str]] = []
        #: Middleware/job classes that push a context: class name -> (queue, pushed).
        self.queue_classes: Dict[str, Tuple[str, PushedContext]] = {}

    def module(self, tree: ast.Module, display: str, module: Optional[str]) -> None:
        groups = _cli_groups(tree)
        imported = _imported_packages(tree)
        functions = {
            node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        for node in _walk(tree):
            if isinstance(node, ast.ClassDef):
                self._class(node, display)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                self._assignment(node, display)
            elif isinstance(node, ast.Call):
                self._call(node, display)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(node, display, groups, functions, imported)
        if module:
            for statement in tree.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
                    called = _last_name(statement.value.func)
                    for target in statement.targets:
                        if isinstance(target, ast.Name) and called:
                            self.constructed.append((f"{module}.{target.id}", called))

    def _class(self, node: ast.ClassDef, display: str) -> None:
        bases = tuple(name for name in (_last_name(b) for b in node.bases) if name)
        pushed: Optional[PushedContext] = None
        methods = [
            m for m in node.body
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
            and m.name in TASK_BASE_METHODS
        ]
        where = f"{display}:{node.lineno}"
        for method in methods:
            found = _pushes(method, node.name, where)
            if found is not None:
                pushed = found if pushed is None else _merge(pushed, found)
        self.classes[node.name] = (where, bases, pushed)
        for queue, hook in QUEUE_CONTEXT_HOOKS.items():
            if any(base in hook.bases for base in bases):
                hooks = [
                    m for m in node.body
                    if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and m.name in hook.methods
                ]
                for method in hooks:
                    found = _pushes(method, node.name, where)
                    if found is not None and found.always:
                        self.queue_classes[node.name] = (queue, found)

    def _assignment(self, node: "ast.Assign | ast.AnnAssign", display: str) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "Task" and value is not None:
                name = _last_name(value)
                if name:
                    self.installed.add(name)
            if isinstance(target, ast.Attribute) and value is not None:
                for queue, hook in QUEUE_CONTEXT_HOOKS.items():
                    if target.attr in hook.keywords:
                        self._hook(queue, value)
            if _sets_server_name(target, value):
                self.facts.server_name = self.facts.server_name or f"{display}:{node.lineno}"

    def _call(self, node: ast.Call, display: str) -> None:
        for keyword in node.keywords:
            if keyword.arg == "task_cls":
                name = _last_name(keyword.value) or _string_class(keyword.value)
                if name:
                    self.installed.add(name)
            for queue, hook in QUEUE_CONTEXT_HOOKS.items():
                if keyword.arg in hook.keywords:
                    self._hook(queue, keyword.value)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        for queue, hook in QUEUE_CONTEXT_HOOKS.items():
            if method is not None and method in hook.install_methods:
                for arg in node.args:
                    self._hook(queue, arg)
        if method in ("update", "setdefault") and _call_sets_server_name(node):
            self.facts.server_name = self.facts.server_name or f"{display}:{node.lineno}"

    def _hook(self, queue: str, value: ast.expr) -> None:
        for item in value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else [value]:
            if isinstance(item, ast.Call):
                item = item.func
            name = _last_name(item)
            if name:
                self.hooked.setdefault(queue, set()).add(name)

    def _function(
        self,
        node: "ast.FunctionDef | ast.AsyncFunctionDef",
        display: str,
        groups: FrozenSet[str],
        functions: Dict[str, "ast.FunctionDef | ast.AsyncFunctionDef"],
        imported: FrozenSet[str],
    ) -> None:
        where = f"{display}:{node.lineno}"
        for queue, hook in QUEUE_CONTEXT_HOOKS.items():
            if any(_decorator_method(d) in hook.decorators for d in node.decorator_list):
                found = _pushes(node, node.name, where)
                if found is not None and found.always:
                    self._set_queue(queue, found)
        if not _is_cli_command(node, groups):
            return
        bodies = [node] + [
            functions[name] for name in _called_names(node) if name in functions
        ]
        started = {q for body in bodies for q in _started_workers(body, imported)}
        for queue in sorted(started):
            command = PushedContext(f"the Flask CLI command {node.name}()", where,
                                    frozenset({Tier.APP}))
            self._set_queue(queue, command)

    def _set_queue(self, queue: str, found: PushedContext) -> None:
        known = self.facts.queue_contexts.get(queue)
        if known is None or len(found.always) > len(known.always):
            self.facts.queue_contexts[queue] = found

    def finish(self) -> ProjectFacts:
        facts = self.facts
        for name in sorted(self.classes):
            pushed = self._inherited(name, set())
            if pushed is not None:
                facts.task_classes[name] = pushed
        for name in sorted(self.installed):
            pushed = facts.task_classes.get(name)
            if pushed is not None:
                facts.celery_bases.append(pushed)
        for name, (queue, pushed) in sorted(self.queue_classes.items()):
            if name in self.hooked.get(queue, set()):
                self._set_queue(queue, pushed)
        app_classes = set(CELERY_APP_CLASS_NAMES) | {
            name for name in self.classes if self._derives(name, CELERY_APP_CLASS_NAMES, set())
        }
        facts.celery_apps = {q for q, called in self.constructed if called in app_classes}
        return facts

    def _inherited(self, name: str, seen: Set[str]) -> Optional[PushedContext]:
        """What class ``name`` pushes, its own methods first, then its project bases'."""
        if name in seen or name not in self.classes:
            return None
        seen.add(name)
        where, bases, pushed = self.classes[name]
        if pushed is not None:
            return pushed
        for base in bases:
            found = self._inherited(base, seen)
            if found is not None:
                return PushedContext(name, where, found.always, found.option, found.with_option)
        return None

    def _derives(self, name: str, roots: Sequence[str], seen: Set[str]) -> bool:
        if name in seen or name not in self.classes:
            return False
        seen.add(name)
        bases = self.classes[name][1]
        return any(b in roots or self._derives(b, roots, seen) for b in bases)


# -- small readers of ast ---------------------------------------------------------------

def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, iteratively (generated modules can be deeper than the stack)."""
    stack: List[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _last_name(node: Optional[ast.AST]) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _string_class(node: ast.expr) -> Optional[str]:
    """``task_cls="pkg.tasks:ContextTask"`` (Celery's string form)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace(":", ".").rsplit(".", 1)[-1] or None
    return None


def _decorator_method(decorator: ast.expr) -> Optional[str]:
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return _last_name(func)


def _pushes(
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
        stack.extend((child, condition, conditional) for child in ast.iter_child_nodes(node))
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


def _merge(first: PushedContext, second: PushedContext) -> PushedContext:
    return PushedContext(
        first.name, first.where, first.always | second.always,
        first.option or second.option, first.with_option | second.with_option,
    )


def _sets_server_name(target: ast.expr, value: Optional[ast.expr]) -> bool:
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


def _call_sets_server_name(call: ast.Call) -> bool:
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
        _last_name(call.func) == "setdefault"
        and isinstance(first, ast.Constant)
        and first.value == "SERVER_NAME"
        and len(call.args) > 1
    )


def _cli_groups(tree: ast.Module) -> FrozenSet[str]:
    """Module-level names bound to a Flask CLI group (``manager = AppGroup("rq")``)."""
    found: Set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            if _last_name(statement.value.func) in CLI_COMMAND_GROUP_CLASSES:
                found.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return frozenset(found)


def _is_cli_command(
    node: "ast.FunctionDef | ast.AsyncFunctionDef", groups: FrozenSet[str]
) -> bool:
    """``@app.cli.command()``, ``@bp.cli.command``, ``@manager.command()`` on a Flask
    ``AppGroup``, or any command with ``@with_appcontext``: Flask runs it inside an app
    context."""
    for decorator in node.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        if _last_name(func) in CLI_CONTEXT_DECORATORS:
            return True
        if isinstance(func, ast.Attribute) and func.attr == "command":
            owner = func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "cli":
                return True
            if isinstance(owner, ast.Name) and owner.id in groups:
                return True
    return False


def _called_names(function: ast.AST) -> List[str]:
    return sorted({
        node.func.id for node in _walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    })


def _started_workers(function: ast.AST, imported: FrozenSet[str]) -> Set[str]:
    """Queues whose worker the body starts in this process (``worker.work()``: RQ)."""
    found: Set[str] = set()
    for node in _walk(function):
        if isinstance(node, ast.Call):
            called = _last_name(node.func)
            for queue, start in QUEUE_WORKER_STARTS.items():
                if called in start.words and (not start.needs_import or queue in imported):
                    found.add(queue)
    return found


def _imported_packages(tree: ast.Module) -> FrozenSet[str]:
    """Top-level packages the module imports (anywhere in it)."""
    found: Set[str] = set()
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return frozenset(found)
