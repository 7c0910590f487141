"""Flask facts about contexts a project pushes outside its requests, as data.

Read by the project index (``project_index.py``): which methods push a context, which
classes and hooks of the task queues run code around every task or job, which Flask CLI
decorators give a command an app context, and which calls start a queue's worker in the
command's process.  Names are matched by their last component: the index reads every
module of the project cheaply, without resolving imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .contexts import CONTEXT_MANAGER_METHODS, Tier

#: ``x.app_context()`` / ``x.test_request_context()`` / ``x.request_context(environ)``
#: inside a task base's ``__call__``: the tiers the task then has.
CONTEXT_PUSH_METHODS: Mapping[str, frozenset[Tier]] = {
    **CONTEXT_MANAGER_METHODS,
    "request_context": frozenset({Tier.REQUEST, Tier.APP}),
}

#: Methods of a Celery ``Task`` subclass that run around the task body.
TASK_BASE_METHODS = frozenset({"__call__", "run"})

#: Classes whose instances are Celery apps (a project subclass of one is too).
CELERY_APP_CLASS_NAMES = ("Celery",)

#: Library calls that build or configure the Celery app with a task base that pushes an
#: app context around every task: flask-celeryext's ``create_celery_app(app)`` and
#: ``FlaskCeleryExt(app)`` (its ``AppContextTask``; Invenio builds its worker this way).
#: Matched by last name in a module that imports the package (the key).
LIBRARY_TASK_BASES: Mapping[str, Mapping[str, str]] = {
    "flask_celeryext": {
        "create_celery_app": "flask-celeryext's AppContextTask",
        "FlaskCeleryExt": "flask-celeryext's AppContextTask",
    },
}


@dataclass(frozen=True)
class QueueHook:
    """How a task queue lets a project run code around every job.

    ``bases``/``methods``: a class derived from one of ``bases`` whose ``methods`` push
    a context, installed when its name is passed to ``install_methods`` or given as one
    of ``keywords`` (``broker.add_middleware(AppContextMiddleware(app))``,
    ``Worker(..., job_class=FlaskJob)``); ``decorators``: a function registered with
    one of these decorator methods that pushes a context (huey's
    ``@huey.pre_execute()``)."""

    bases: frozenset[str] = frozenset()
    methods: frozenset[str] = frozenset()
    install_methods: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()
    decorators: frozenset[str] = frozenset()


QUEUE_CONTEXT_HOOKS: Mapping[str, QueueHook] = {
    "dramatiq": QueueHook(
        bases=frozenset({"Middleware"}),
        methods=frozenset({"before_process_message", "before_worker_thread_boot"}),
        install_methods=frozenset({"add_middleware"}),
        keywords=frozenset({"middleware"}),
    ),
    "rq": QueueHook(
        bases=frozenset({"Job", "Worker", "SimpleWorker", "HerokuWorker", "SpawnWorker"}),
        methods=frozenset({"perform", "_execute", "execute_job", "perform_job", "work"}),
        keywords=frozenset({"job_class", "worker_class"}),
    ),
    "huey": QueueHook(decorators=frozenset({"pre_execute", "on_startup"})),
}

#: Flask CLI: decorators that run a command inside an app context, and the group
#: classes whose ``.command()`` does so (``app.cli`` is an ``AppGroup``).
CLI_CONTEXT_DECORATORS = frozenset({"with_appcontext"})
CLI_COMMAND_GROUP_CLASSES = frozenset({"AppGroup", "FlaskGroup"})


@dataclass(frozen=True)
class WorkerStart:
    """A call counts when its last name is one of ``words`` and, for words other
    libraries use too (``needs_import``), the module imports the queue's package."""

    words: frozenset[str]
    needs_import: bool = False


#: Calls that run a queue's jobs in the calling process (or in children forked from
#: it, which inherit its context): ``worker.work()``, huey's consumer, dramatiq's
#: ``Worker(broker).start()``.
QUEUE_WORKER_STARTS: Mapping[str, WorkerStart] = {
    "rq": WorkerStart(frozenset({"work"})),
    "huey": WorkerStart(frozenset({"create_consumer", "Consumer"}), needs_import=True),
    "dramatiq": WorkerStart(frozenset({"Worker"}), needs_import=True),
}
