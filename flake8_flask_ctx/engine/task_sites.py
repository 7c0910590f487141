"""Task bodies: functions registered with a task queue, which only ever run in a worker.

A task body is a dispatch site of its own (reported at the read inside it, SPEC
section 4).  What context it runs with is a fact about the whole project, not about
its module: the Celery app's task base (installed anywhere, ``project_index.py``), a
``base=`` class named on the decorator, the queue's middleware or job class, the Flask
CLI command that starts the queue's workers.  The library named in the message is the
one that really registers the task: a ``.task``/``.periodic_task`` decorator is Celery's
or huey's by its receiver (its type, or the project's Celery app objects).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, FrozenSet, List, Optional, Tuple

import libcst as cst

from ..knowledge.contexts import Tier
from ..knowledge.dispatchers import (
    CELERY_TASK_BASES,
    NOT_TASK_PACKAGES,
    QUEUE_LABELS,
    TASK_DECORATORS,
    ReceiverType,
    TaskDecorator,
)
from .names import ModuleIndex, last_name, walk
from .resolution import Resolver
from .targets import is_name_like

from .sites import DispatchSite

if TYPE_CHECKING:  # pragma: no cover
    from ..index.project_index import ProjectFacts
    from ..index.pushed import PushedContext

Tiers = FrozenSet[Tier]
NO_TIERS: Tiers = frozenset()

#: What runs a task of a project that builds no Celery app (``_context``).
UNKNOWN_CELERY_BASE = (
    "the project builds no Celery app: its worker's task base may push an app context, "
    "never a request"
)

LIBRARY_CELERY_BASE = (
    "the project's Celery app is {library}'s: its task base may push an app context, "
    "never a request"
)
UNKNOWN_BASE_WORDS = ("the project builds no Celery app", "the project's Celery app is ")

#: Receiver type keys that are task apps, by queue.
_RECEIVER_QUEUES = {"celery": "celery", "huey": "huey"}


class TaskSites:
    """The task bodies of one module."""

    def __init__(self, index: ModuleIndex, resolver: Resolver) -> None:
        self.index = index
        self.resolver = resolver
        self._local_celery: Optional[Tiers] = None

    def sites(self) -> List[DispatchSite]:
        sites: List[DispatchSite] = []
        for function in self.index.functions:
            for decorator in function.decorators:
                found = self._task_decorator(decorator.decorator)
                if found is None:
                    continue
                task, library = found
                carried, pushed_by = self._context(library, decorator.decorator)
                mechanism = f"as {QUEUE_LABELS.get(library, 'a')} {task.kind} in a worker"
                if carried and pushed_by.startswith(UNKNOWN_BASE_WORDS):
                    mechanism += f" ({pushed_by})"
                elif carried:
                    mechanism += f" ({pushed_by} pushes an app context, not a request)"
                target = self.resolver.target(function, self.resolver.label(function))
                sites.append(
                    DispatchSite(function, (target,), mechanism, carried, report_inside=True)
                )
                break
        return sites

    # -- what the task runs with ------------------------------------------------------

    def _context(self, library: str, decorator: cst.BaseExpression) -> Tuple[Tiers, str]:
        """Tiers the task body gets from the project, and what pushes them."""
        facts = self._facts()
        if library in ("celery", ""):
            options, base = _declared_options(decorator)
            pushed = facts.celery_context(options, base) if facts is not None else None
            if pushed is not None and pushed.tiers(options):
                return pushed.tiers(options), f"its task base {pushed.name}"
            local = self._local_celery_base()
            if local:
                return local, "its task base"
            if facts is not None and facts.complete and not facts.creates_celery_app:
                # No Celery app of its own: the worker's app is built elsewhere (a
                # framework, the deployment) and its task base is unknown.  Silent on
                # the app tier; a request is never there, whatever the base.
                return frozenset({Tier.APP}), UNKNOWN_CELERY_BASE
            if facts is not None and facts.library_celery_app is not None:
                # ``from flask_celery import Celery``: that library's task base.
                return frozenset({Tier.APP}), LIBRARY_CELERY_BASE.format(
                    library=facts.library_celery_app
                )
            return NO_TIERS, ""
        queued = facts.queue_contexts.get(library) if facts is not None else None
        return _pushed(queued)

    def _facts(self) -> Optional["ProjectFacts"]:
        unit = self.resolver.unit
        if unit is None or unit.project is None:
            return None
        return unit.project.facts(unit.name)

    def _local_celery_base(self) -> Tiers:
        """A task base in this module's own text (single-module analysis, or an
        unsaved editor buffer the project index has not read)."""
        if self._local_celery is None:
            self._local_celery = celery_base_carries(self.index, self.resolver)
        return self._local_celery

    # -- which decorators register tasks ----------------------------------------------

    def _task_decorator(
        self, expr: cst.BaseExpression
    ) -> Optional[Tuple[TaskDecorator, str]]:
        """The task decorator ``expr`` is, and the library that registers the task."""
        if isinstance(expr, cst.Call):
            expr = expr.func
        if not is_name_like(expr):
            return None
        last = last_name(expr)
        candidates = [
            t for t in TASK_DECORATORS
            if t.method == last or any(n.endswith("." + str(last)) for n in t.qualified_names)
        ]
        if not candidates:
            return None
        qualified = self.index.qualified_names_any(expr)
        for task in candidates:
            if qualified & task.qualified_names:
                return task, task.library
        if not isinstance(expr, cst.Attribute):
            return None
        kind = self.resolver.receiver_kind(expr.value)
        for task in candidates:
            if not task.method:
                continue
            if isinstance(kind, ReceiverType) and kind.key in task.receivers:
                return task, task.library or _RECEIVER_QUEUES.get(kind.key, "")
            if kind is None and task.on_unknown_receiver and self._plain_receiver(expr.value):
                return task, task.library or self._project_app_library(expr.value)
        return None

    def _project_app_library(self, receiver: cst.BaseExpression) -> str:
        """``celery`` imported from the module that builds the project's Celery app
        (``celery = IndicoCelery("indico")``): Celery; else unknown."""
        facts = self._facts()
        unit = self.resolver.unit
        if facts is None or unit is None or not facts.celery_apps:
            return ""
        for qualified in self.index.qualified_names_any(receiver):
            if unit.absolute(qualified) in facts.celery_apps:  # ``.extensions.celery``
                return "celery"
        return ""

    def _plain_receiver(self, expr: cst.BaseExpression) -> bool:
        """A receiver that may be a task app: any name (``celery`` from the project's
        ``extensions`` module, ``huey = RedisHuey()``...) except one imported from a
        library whose ``.task`` is not a worker task (``invoke``, ``pytest.mark``)."""
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return False
        qualified = self.index.qualified_names_any(expr)
        return not any(name.split(".")[0] in NOT_TASK_PACKAGES for name in qualified)


def _pushed(pushed: Optional["PushedContext"]) -> Tuple[Tiers, str]:
    if pushed is None or not pushed.always:
        return NO_TIERS, ""
    return pushed.always, pushed.name


def _declared_options(decorator: cst.BaseExpression) -> Tuple[FrozenSet[str], Optional[str]]:
    """Options a task decorator sets to ``True`` (``request_context=True``) and the
    class its ``base=`` names."""
    if not isinstance(decorator, cst.Call):
        return frozenset(), None
    options: List[str] = []
    base: Optional[str] = None
    for arg in decorator.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value == "base":
            base = last_name(arg.value)
        elif isinstance(arg.value, cst.Name) and arg.value.value == "True":
            options.append(arg.keyword.value)
    return frozenset(options), base


def celery_base_carries(index: ModuleIndex, resolver: Resolver) -> Tiers:
    """Tiers a Flask-aware Celery ``Task`` base class of this module pushes: one whose
    ``__call__`` enters ``app.app_context()`` (or ``test_request_context()``)."""
    installed = _installed_task_bases(index)
    for cls in index.classes:
        if cls.name.value not in installed:
            continue  # defined, never installed: the tasks keep Celery's own base
        if not any(_is_celery_task_base(index, b.value) for b in cls.bases):
            continue
        call = resolver.find_method(cls, "__call__")
        if call is None:
            continue
        methods = {
            node.attr.value for node in walk(call.body) if isinstance(node, cst.Attribute)
        }
        if "test_request_context" in methods:
            return frozenset({Tier.APP, Tier.REQUEST})
        if "app_context" in methods:
            return frozenset({Tier.APP})
    return NO_TIERS


def _installed_task_bases(index: ModuleIndex) -> FrozenSet[str]:
    """Class names this module installs as a task base: ``celery.Task = X``,
    ``Celery(..., task_cls=X)`` (or ``"module:X"``), ``@app.task(base=X)``."""
    found: List[str] = []
    for assign in index.assigns:
        for target in assign.targets:
            if isinstance(target.target, cst.Attribute) and target.target.attr.value == "Task":
                name = last_name(assign.value)
                if name:
                    found.append(name)
    for call in index.calls:
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value not in ("task_cls", "base"):
                continue
            value = arg.value
            if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
                found.append(value.evaluated_value.replace(":", ".").rsplit(".", 1)[-1])
            elif is_name_like(value):
                name = last_name(value)
                if name:
                    found.append(name)
    return frozenset(found)


def _is_celery_task_base(index: ModuleIndex, base: cst.BaseExpression, depth: int = 0) -> bool:
    """``celery.Task``, ``Task`` imported from celery, ``celery_app.Task``, or a name
    bound to one of those (``TaskBase = celery.Task``)."""
    if not is_name_like(base) or depth > 3:
        return False
    if index.qualified_names_any(base) & CELERY_TASK_BASES:
        return True
    if not isinstance(base, cst.Name):
        return isinstance(base, cst.Attribute) and base.attr.value == "Task"
    return any(
        isinstance(value, cst.BaseExpression) and _is_celery_task_base(index, value, depth + 1)
        for value in index.bindings(base)
    )
