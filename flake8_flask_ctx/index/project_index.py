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
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from .ast_walk import walk
from .index_readers import (
    call_sets_server_name,
    called_names,
    cli_groups,
    decorator_method,
    imported_packages,
    is_cli_command,
    last_name,
    merge,
    pushes,
    sets_server_name,
    started_workers,
    string_class,
)
from ..knowledge.contexts import Tier
from .pushed import PushedContext
from ..knowledge.queues import (
    CELERY_APP_CLASS_NAMES,
    LIBRARY_TASK_BASES,
    CLI_CONTEXT_DECORATORS,
    QUEUE_CONTEXT_HOOKS,
    QUEUE_WORKER_STARTS,
    TASK_BASE_METHODS,
)
from .sources import source_text, source_tree


#: Work the index may do before it stops and answers with what it found (seconds).
MAX_INDEX_SECONDS = 5.0

#: Words that make a module worth parsing on their own: where apps, task bases and
#: queue hooks are installed, and where ``SERVER_NAME`` is set.
_INSTALL_WORDS = tuple(sorted({
    "SERVER_NAME", "Celery", ".Task", "task_cls",
    *(name for names in LIBRARY_TASK_BASES.values() for name in names),
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
    #: Whether the project builds a Celery app anywhere (``Celery(...)``, a subclass, a
    #: library factory).  If not, its tasks run on an app built elsewhere, whose task base
    #: is unknown: their app-tier reads are not reported (SPEC section 6).
    creates_celery_app: bool = False
    #: The library whose ``Celery`` class builds the project's app (``from flask_celery
    #: import Celery``): that library decides the task base, unknown to the engine.
    library_celery_app: Optional[str] = None
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
        tree = source_tree(path)
        if tree is None:
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
        #: Last names of everything called anywhere (a Celery app built in a factory).
        self.called: Set[str] = set()
        #: The module being read: names bound to a list/tuple/set literal in it.
        self.sequences: Dict[str, List[ast.expr]] = {}

    def module(self, tree: ast.Module, display: str, module: Optional[str]) -> None:
        self._library_bases(tree, display)
        self.sequences = {}
        for node in walk(tree):  # before the hooks that name them, wherever they are
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                self._sequence(node)
        groups = cli_groups(tree)
        functions = {
            node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        for node in walk(tree):
            if isinstance(node, ast.ClassDef):
                self._class(node, display)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                self._assignment(node, display)
            elif isinstance(node, ast.Call):
                self._call(node, display)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(node, display, groups, functions, tree)
        if module:
            for statement in tree.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
                    called = last_name(statement.value.func)
                    for target in statement.targets:
                        if isinstance(target, ast.Name) and called:
                            self.constructed.append((f"{module}.{target.id}", called))

    def _library_bases(self, tree: ast.Module, display: str) -> None:
        """A library call that installs a context-pushing task base (``LIBRARY_TASK_BASES``)
        in a module that imports that library; a Celery app class imported from a
        library other than Celery itself (its task base is that library's business)."""
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        for statement in imports:
            if (
                isinstance(statement, ast.ImportFrom)
                and statement.module
                and not statement.level
            ):
                top = statement.module.split(".")[0]
                if top == "celery":
                    continue
                if any(alias.name in CELERY_APP_CLASS_NAMES for alias in statement.names):
                    self.facts.library_celery_app = self.facts.library_celery_app or top
                    self.facts.creates_celery_app = True
        top_imports = ast.Module(body=list(imports), type_ignores=[])
        packages = imported_packages(top_imports) & set(LIBRARY_TASK_BASES)
        if not packages:
            return
        for node in walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = last_name(node.func)
            for package in packages:
                name = LIBRARY_TASK_BASES[package].get(called or "")
                if name is not None:
                    self.facts.celery_bases.append(
                        PushedContext(name, f"{display}:{node.lineno}", frozenset({Tier.APP}))
                    )
                    self.facts.creates_celery_app = True

    def _class(self, node: ast.ClassDef, display: str) -> None:
        bases = tuple(name for name in (last_name(b) for b in node.bases) if name)
        pushed: Optional[PushedContext] = None
        methods = [
            m for m in node.body
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
            and m.name in TASK_BASE_METHODS
        ]
        where = f"{display}:{node.lineno}"
        for method in methods:
            found = pushes(method, node.name, where)
            if found is not None:
                pushed = found if pushed is None else merge(pushed, found)
        self.classes[node.name] = (where, bases, pushed)
        for queue, hook in QUEUE_CONTEXT_HOOKS.items():
            if any(base in hook.bases for base in bases):
                hooks = [
                    m for m in node.body
                    if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and m.name in hook.methods
                ]
                for method in hooks:
                    found = pushes(method, node.name, where)
                    if found is not None and found.always:
                        self.queue_classes[node.name] = (queue, found)

    def _assignment(self, node: "ast.Assign | ast.AnnAssign", display: str) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "Task" and value is not None:
                name = last_name(value)
                if name:
                    self.installed.add(name)
            if isinstance(target, ast.Attribute) and value is not None:
                for queue, hook in QUEUE_CONTEXT_HOOKS.items():
                    if target.attr in hook.keywords:
                        self._hook(queue, value)
            if sets_server_name(target, value):
                self.facts.server_name = self.facts.server_name or f"{display}:{node.lineno}"

    def _sequence(self, node: "ast.Assign | ast.AnnAssign") -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if isinstance(node.value, (ast.List, ast.Tuple, ast.Set)):
            for target in targets:
                if isinstance(target, ast.Name):
                    self.sequences.setdefault(target.id, []).append(node.value)

    def _call(self, node: ast.Call, display: str) -> None:
        called = last_name(node.func)
        if called is not None:
            self.called.add(called)
        for keyword in node.keywords:
            if keyword.arg == "task_cls":
                name = last_name(keyword.value) or string_class(keyword.value)
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
        if method in ("update", "setdefault") and call_sets_server_name(node):
            self.facts.server_name = self.facts.server_name or f"{display}:{node.lineno}"

    def _hook(self, queue: str, value: ast.expr) -> None:
        if isinstance(value, ast.Name) and value.id in self.sequences:
            # ``middlewares = [AppContextMiddleware(app), ...]``; ``Broker(middleware=middlewares)``
            for bound in self.sequences[value.id]:
                self._hook(queue, bound)
            return
        for item in value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else [value]:
            if isinstance(item, ast.Call):
                item = item.func
            name = last_name(item)
            if name:
                self.hooked.setdefault(queue, set()).add(name)

    def _function(
        self,
        node: "ast.FunctionDef | ast.AsyncFunctionDef",
        display: str,
        groups: FrozenSet[str],
        functions: Dict[str, "ast.FunctionDef | ast.AsyncFunctionDef"],
        tree: ast.Module,
    ) -> None:
        where = f"{display}:{node.lineno}"
        for queue, hook in QUEUE_CONTEXT_HOOKS.items():
            if any(decorator_method(d) in hook.decorators for d in node.decorator_list):
                found = pushes(node, node.name, where)
                if found is not None and found.always:
                    self._set_queue(queue, found)
        if not is_cli_command(node, groups):
            return
        bodies = [node] + [
            functions[name] for name in called_names(node) if name in functions
        ]
        imported = imported_packages(tree)  # only for a CLI command: a walk of its own
        started = {q for body in bodies for q in started_workers(body, imported)}
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
        facts.creates_celery_app = facts.creates_celery_app or bool(app_classes & self.called)
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
