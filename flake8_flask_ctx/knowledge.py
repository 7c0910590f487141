"""Everything the linter knows about Flask, as data.

The engine (``analysis.py``) never spells a Flask name: it asks this module.  Keeping
the facts here means a new dispatcher, context-local or safe wrapper is one table row,
reviewed against Flask's behaviour, instead of a branch hidden in the traversal.

All names are *qualified* names, i.e. what an identifier resolves to through the
module's imports (``from flask import request as rq`` makes ``rq`` resolve to
``flask.request``).  Flask re-exports most helpers from submodules, so every public
spelling that resolves to the same object is listed and mapped to one canonical name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Dict, Iterable, Mapping, Optional, Tuple

from .settings import Settings


class Tier(enum.Enum):
    """Which context a context-local needs.

    A request context always carries an application context, so anything that makes
    the request tier safe makes the app tier safe too (see ``GUARD_IMPLIES``).
    """

    REQUEST = "request"
    APP = "app"


#: Canonical qualified name -> tier (SPEC section 1).  ``flask.url_for`` is request
#: tier: outside a request it also needs ``SERVER_NAME``.
CONTEXT_LOCALS: Mapping[str, Tier] = {
    "flask.request": Tier.REQUEST,
    "flask.session": Tier.REQUEST,
    "flask.globals.request_ctx": Tier.REQUEST,
    "flask.flash": Tier.REQUEST,
    "flask.get_flashed_messages": Tier.REQUEST,
    "flask.send_file": Tier.REQUEST,
    "flask.send_from_directory": Tier.REQUEST,
    "flask.after_this_request": Tier.REQUEST,
    "flask.stream_with_context": Tier.REQUEST,
    "flask.copy_current_request_context": Tier.REQUEST,
    "flask.url_for": Tier.REQUEST,
    "flask_login.current_user": Tier.REQUEST,
    "flask_login.login_user": Tier.REQUEST,
    "flask_login.logout_user": Tier.REQUEST,
    "flask.current_app": Tier.APP,
    "flask.g": Tier.APP,
    "flask.globals.app_ctx": Tier.APP,
    "flask.render_template": Tier.APP,
    "flask.render_template_string": Tier.APP,
    "flask.stream_template": Tier.APP,
    "flask.stream_template_string": Tier.APP,
    "flask.get_template_attribute": Tier.APP,
    "flask.jsonify": Tier.APP,
    "flask.make_response": Tier.APP,
}

#: Other qualified spellings of the same objects (Flask's own submodules).
NAME_ALIASES: Mapping[str, str] = {
    "flask.globals.request": "flask.request",
    "flask.globals.session": "flask.session",
    "flask.globals.current_app": "flask.current_app",
    "flask.globals.g": "flask.g",
    "flask.request_ctx": "flask.globals.request_ctx",
    "flask.app_ctx": "flask.globals.app_ctx",
    "flask.helpers.flash": "flask.flash",
    "flask.helpers.get_flashed_messages": "flask.get_flashed_messages",
    "flask.helpers.send_file": "flask.send_file",
    "flask.helpers.send_from_directory": "flask.send_from_directory",
    "flask.helpers.stream_with_context": "flask.stream_with_context",
    "flask.helpers.url_for": "flask.url_for",
    "flask.helpers.make_response": "flask.make_response",
    "flask.helpers.get_template_attribute": "flask.get_template_attribute",
    "flask.ctx.after_this_request": "flask.after_this_request",
    "flask.ctx.copy_current_request_context": "flask.copy_current_request_context",
    "flask.templating.render_template": "flask.render_template",
    "flask.templating.render_template_string": "flask.render_template_string",
    "flask.templating.stream_template": "flask.stream_template",
    "flask.templating.stream_template_string": "flask.stream_template_string",
    "flask.json.jsonify": "flask.jsonify",
    "flask_login.utils.current_user": "flask_login.current_user",
    "flask_login.utils.login_user": "flask_login.login_user",
    "flask_login.utils.logout_user": "flask_login.logout_user",
}

#: Top-level packages whose imports can bind a context-local.  Only identifiers bound
#: by importing from these are ever resolved, which keeps name resolution cheap.
CONTEXT_LOCAL_PACKAGES: Tuple[str, ...] = ("flask", "flask_login")


def canonical_name(qualified_name: str) -> str:
    """Map any public spelling of a Flask object (or an attribute path under it, such
    as ``flask.globals.request.files``) to the one used in messages and tables."""
    if qualified_name in NAME_ALIASES:
        return NAME_ALIASES[qualified_name]
    head, _, rest = qualified_name.rpartition(".")
    while head:
        if head in NAME_ALIASES:
            return NAME_ALIASES[head] + qualified_name[len(head):]
        head, _, _ = head.rpartition(".")
    return qualified_name


#: Context-locals that are *objects* (proxies): their truth value is ``False`` when no
#: context is bound, which makes ``if request:`` a guard.  Functions are not proxies.
PROXY_OBJECTS = frozenset(
    {
        "flask.request",
        "flask.session",
        "flask.globals.request_ctx",
        "flask_login.current_user",
        "flask.current_app",
        "flask.g",
        "flask.globals.app_ctx",
    }
)

#: Calls whose truth says a context is bound (``if has_request_context():``).
GUARD_CALLS: Mapping[str, Tier] = {
    "flask.has_request_context": Tier.REQUEST,
    "flask.ctx.has_request_context": Tier.REQUEST,
    "flask.has_app_context": Tier.APP,
    "flask.ctx.has_app_context": Tier.APP,
}

#: A guard on one tier makes which tiers safe: a request context implies an app one.
GUARD_IMPLIES: Mapping[Tier, frozenset[Tier]] = {
    Tier.REQUEST: frozenset({Tier.REQUEST, Tier.APP}),
    Tier.APP: frozenset({Tier.APP}),
}

#: ``with <anything>.<method>(...):`` pushes these tiers for the body.  The receiver is
#: not checked: any Flask app object has these methods, and nothing else commonly does.
CONTEXT_MANAGER_METHODS: Mapping[str, frozenset[Tier]] = {
    "app_context": frozenset({Tier.APP}),
    "test_request_context": frozenset({Tier.REQUEST, Tier.APP}),
}

#: ``with app.test_request_context(...):`` builds a fake request (FCX420).
FAKE_REQUEST_METHODS = frozenset({"test_request_context"})

#: Wrappers that carry the request context into the callable (decorator or call).
SAFE_WRAPPERS = frozenset(
    {"flask.copy_current_request_context", "flask.ctx.copy_current_request_context"}
)

#: ``copy_context().run`` as the dispatched callable: the contextvars travel with it.
CONTEXT_COPIERS = frozenset({"contextvars.copy_context"})

#: ``functools.partial(fn, ...)`` dispatches ``fn``.
PARTIAL_FACTORIES = frozenset({"functools.partial"})


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


@dataclass(frozen=True)
class Forwards:
    """Which arguments of a dispatch call travel to the callable (FCX200/FCX210).

    ``rest_from``: every positional argument from this index on (``submit(fn, *a)``);
    ``containers``: (position, keyword) of ``args=``/``kwargs=``-style arguments;
    ``other_keywords``: every keyword argument not otherwise named (``submit(fn, x=1)``).
    Literal tuples, lists, sets and dict values are looked into.
    """

    rest_from: Optional[int] = None
    containers: Tuple[Tuple[Optional[int], str], ...] = ()
    other_keywords: bool = False


#: Keyword arguments of dispatch calls that configure the dispatch (``daemon=``,
#: ``job_timeout=``...), not values for the callable.
DISPATCH_OPTIONS = frozenset({
    "daemon", "name", "group", "job_timeout", "result_ttl", "ttl", "timeout", "description",
    "job_id", "depends_on", "at_front", "retry", "id", "trigger", "seconds", "minutes",
    "hours", "run_date", "replace_existing", "misfire_grace_time", "coalesce",
    "max_instances", "jobstore", "executor", "chunksize", "callback", "error_callback",
})

_THREAD_ARGS = Forwards(containers=((3, "args"), (4, "kwargs")))
_REST_1 = Forwards(rest_from=1, other_keywords=True)
_REST_2 = Forwards(rest_from=2, other_keywords=True)


@dataclass(frozen=True)
class CallDispatcher:
    """A function or class that runs the callable it is given somewhere else.

    ``position``/``keyword`` say where the dispatched callable is passed.
    ``mechanism`` completes the sentence "``worker()`` runs ...".  ``needs_start``:
    the call builds an object that runs nothing until ``.start()`` (a Thread whose
    ``.run()`` is called directly runs synchronously, in the request).  ``carries``:
    tiers the dispatcher itself provides to the callable (Flask-Threads).
    """

    qualified_names: frozenset[str]
    position: Optional[int]
    keyword: str
    mechanism: str
    needs_start: bool = False
    carries: frozenset[Tier] = frozenset()
    forwards: Forwards = Forwards()


CALL_DISPATCHERS: Tuple[CallDispatcher, ...] = (
    CallDispatcher(
        _names("threading.Thread"), 1, "target", "in a new threading.Thread", True,
        forwards=_THREAD_ARGS,
    ),
    CallDispatcher(
        _names("threading.Timer"), 1, "function", "in a threading.Timer thread", True,
        forwards=Forwards(containers=((2, "args"), (3, "kwargs"))),
    ),
    CallDispatcher(
        _names("_thread.start_new_thread", "_thread.start_new"),
        0,
        "function",
        "in a _thread.start_new_thread thread",
        forwards=Forwards(containers=((1, "args"), (2, "kwargs"))),
    ),
    CallDispatcher(
        _names(
            "multiprocessing.Process",
            "multiprocessing.context.Process",
            "multiprocessing.context.SpawnProcess",
            "multiprocessing.context.ForkProcess",
            "multiprocessing.context.ForkServerProcess",
            "multiprocessing.process.BaseProcess",
        ),
        1,
        "target",
        "in a new multiprocessing.Process",
        True,
        forwards=_THREAD_ARGS,
    ),
    CallDispatcher(
        _names("gevent.spawn", "gevent.spawn_raw", "gevent.Greenlet.spawn",
               "gevent.greenlet.Greenlet.spawn"),
        0,
        "run",
        "in a gevent greenlet",
        forwards=_REST_1,
    ),
    CallDispatcher(
        _names("gevent.spawn_later", "gevent.Greenlet.spawn_later",
               "gevent.greenlet.Greenlet.spawn_later"),
        1,
        "run",
        "in a gevent greenlet",
        forwards=_REST_2,
    ),
    CallDispatcher(
        _names("gevent.Greenlet", "gevent.greenlet.Greenlet"), 0, "run",
        "in a gevent greenlet", True, forwards=_REST_1,
    ),
    CallDispatcher(
        _names("eventlet.spawn", "eventlet.spawn_n", "eventlet.greenthread.spawn",
               "eventlet.greenthread.spawn_n"),
        0,
        "func",
        "in an eventlet greenthread",
        forwards=_REST_1,
    ),
    CallDispatcher(
        _names("eventlet.spawn_after", "eventlet.greenthread.spawn_after"),
        1,
        "func",
        "in an eventlet greenthread",
        forwards=_REST_2,
    ),
    CallDispatcher(
        _names("flaskthreads.AppContextThread", "flaskthreads.thread_helpers.AppContextThread"),
        1,
        "target",
        "in a Flask-Threads AppContextThread (an app context, no request)",
        True,
        frozenset({Tier.APP}),
        _THREAD_ARGS,
    ),
)


@dataclass(frozen=True)
class ThreadBase:
    """A class whose subclasses run ``run_method`` elsewhere once started."""

    qualified_names: frozenset[str]
    run_method: str
    label: str
    carries: frozenset[Tier] = frozenset()


THREAD_BASES: Tuple[ThreadBase, ...] = (
    ThreadBase(_names("threading.Thread"), "run", "thread"),
    ThreadBase(
        _names("multiprocessing.Process", "multiprocessing.context.Process",
               "multiprocessing.process.BaseProcess"),
        "run",
        "process",
    ),
    ThreadBase(_names("gevent.Greenlet", "gevent.greenlet.Greenlet"), "_run", "greenlet"),
    ThreadBase(
        _names("flaskthreads.AppContextThread", "flaskthreads.thread_helpers.AppContextThread"),
        "run",
        "AppContextThread (an app context, no request)",
        frozenset({Tier.APP}),
    ),
)


@dataclass(frozen=True)
class ReceiverType:
    """Objects built by ``qualified_names`` (classes or factory functions).

    ``dispatches`` is False for receivers that carry the request context themselves
    (Flask-Executor wraps every job in ``copy_current_request_context``); ``carries``
    lists tiers the receiver provides (Flask-Threads' executor pushes an app context).
    """

    key: str
    qualified_names: frozenset[str]
    label: str
    dispatches: bool = True
    carries: frozenset[Tier] = frozenset()


RECEIVER_TYPES: Tuple[ReceiverType, ...] = (
    ReceiverType(
        "thread-executor",
        _names("concurrent.futures.ThreadPoolExecutor",
               "concurrent.futures.thread.ThreadPoolExecutor"),
        "ThreadPoolExecutor",
    ),
    ReceiverType(
        "process-executor",
        _names("concurrent.futures.ProcessPoolExecutor",
               "concurrent.futures.process.ProcessPoolExecutor"),
        "ProcessPoolExecutor",
    ),
    ReceiverType("flask-executor", _names("flask_executor.Executor"), "Flask-Executor", False),
    ReceiverType(
        "flask-threads-executor",
        _names("flaskthreads.ThreadPoolWithAppContextExecutor",
               "flaskthreads.thread_helpers.ThreadPoolWithAppContextExecutor"),
        "Flask-Threads ThreadPoolWithAppContextExecutor (an app context, no request)",
        True,
        frozenset({Tier.APP}),
    ),
    ReceiverType(
        "mp-pool",
        _names("multiprocessing.Pool", "multiprocessing.pool.Pool",
               "multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool",
               "multiprocessing.context.BaseContext.Pool"),
        "multiprocessing pool",
    ),
    ReceiverType("mp-context", _names("multiprocessing.get_context"), "multiprocessing context"),
    ReceiverType(
        "event-loop",
        _names("asyncio.get_event_loop", "asyncio.get_running_loop", "asyncio.new_event_loop",
               "asyncio.events.get_event_loop", "asyncio.events.get_running_loop",
               "asyncio.events.new_event_loop"),
        "event loop",
    ),
    ReceiverType("socketio", _names("flask_socketio.SocketIO"), "Flask-SocketIO"),
    ReceiverType(
        "scheduler",
        _names(
            "apscheduler.schedulers.background.BackgroundScheduler",
            "apscheduler.schedulers.blocking.BlockingScheduler",
            "apscheduler.schedulers.asyncio.AsyncIOScheduler",
            "apscheduler.schedulers.gevent.GeventScheduler",
            "apscheduler.schedulers.base.BaseScheduler",
            "flask_apscheduler.APScheduler",
        ),
        "APScheduler",
    ),
    ReceiverType("rq-queue", _names("rq.Queue", "rq.queue.Queue"), "RQ"),
    ReceiverType("gevent-pool", _names("gevent.pool.Pool", "gevent.pool.Group"), "gevent pool"),
    ReceiverType(
        "eventlet-pool", _names("eventlet.GreenPool", "eventlet.greenpool.GreenPool"),
        "eventlet GreenPool",
    ),
    ReceiverType("celery", _names("celery.Celery"), "Celery"),
    ReceiverType(
        "huey",
        _names("huey.Huey", "huey.RedisHuey", "huey.SqliteHuey", "huey.MemoryHuey",
               "huey.FileHuey", "huey.PriorityRedisHuey", "huey.api.Huey"),
        "huey",
    ),
)

#: ``ctx.Pool(...)`` on a multiprocessing context builds a pool.
RECEIVER_FACTORIES: Mapping[Tuple[str, str], str] = {("mp-context", "Pool"): "mp-pool"}
RECEIVERS_BY_KEY: Mapping[str, ReceiverType] = {r.key: r for r in RECEIVER_TYPES}
#: What a project module's text must contain to be parsed in search of an executor or
#: task app built there (``pool = ThreadPoolExecutor()`` in ``extensions.py``).
RECEIVER_WORDS: Tuple[str, ...] = tuple(sorted(
    {name.rsplit(".", 1)[-1] for r in RECEIVER_TYPES for name in r.qualified_names}
    | {"get_context"}
))


@dataclass(frozen=True)
class MethodDispatcher:
    """``receiver.<method>(...)`` on a receiver of one of ``receivers`` (keys).

    ``on_unknown_receiver``: also a dispatch when the receiver cannot be resolved
    (``submit`` nearly always means "run elsewhere"; ``map`` and ``apply`` do not:
    pandas).  ``mechanism`` may use ``{label}`` (the receiver type's label).
    """

    method: str
    receivers: frozenset[str]
    position: Optional[int]
    keyword: str
    on_unknown_receiver: bool
    mechanism: str = "in a {label} worker"
    needs_start: bool = False
    forwards: Forwards = _REST_1
    #: The task queue whose worker runs it (a key of ``QUEUE_LABELS``), if any: the
    #: project may push a context around that queue's jobs (``project_index.py``).
    queue: str = ""


_POOL_ARGS = Forwards(containers=((1, "args"), (2, "kwds")))
#: Methods that run one callable many times, possibly concurrently (FCX400).
MANY_INVOCATION_METHODS = _names(
    "map", "imap", "imap_unordered", "map_async", "starmap", "starmap_async"
)
_EXECUTORS = _names("thread-executor", "process-executor", "flask-threads-executor")
_POOLS = _names("mp-pool")

METHOD_DISPATCHERS: Tuple[MethodDispatcher, ...] = (
    MethodDispatcher("submit", _EXECUTORS, 0, "fn", True),
    MethodDispatcher("map", _EXECUTORS | _POOLS, 0, "func", False),
    MethodDispatcher("apply", _POOLS, 0, "func", False, forwards=_POOL_ARGS),
    MethodDispatcher("starmap", _POOLS, 0, "func", False),
    MethodDispatcher("apply_async", _POOLS | _names("gevent-pool"), 0, "func", True,
                     forwards=_POOL_ARGS),
    MethodDispatcher("map_async", _POOLS, 0, "func", True),
    MethodDispatcher("starmap_async", _POOLS, 0, "func", True),
    MethodDispatcher("imap", _POOLS | _names("gevent-pool"), 0, "func", True),
    MethodDispatcher("imap_unordered", _POOLS | _names("gevent-pool"), 0, "func", True),
    MethodDispatcher("Process", _names("mp-context"), 1, "target", False,
                     "in a new process", True, _THREAD_ARGS),
    MethodDispatcher("run_in_executor", _names("event-loop"), 1, "func", True,
                     "in the event loop's executor thread", forwards=_REST_2),
    MethodDispatcher("start_background_task", _names("socketio"), 0, "target", True,
                     "in a Flask-SocketIO background task"),
    MethodDispatcher("add_job", _names("scheduler"), 0, "func", True,
                     "as an APScheduler job",
                     forwards=Forwards(containers=((2, "args"), (3, "kwargs")))),
    MethodDispatcher("enqueue", _names("rq-queue"), 0, "f", True, "in an RQ worker",
                     queue="rq"),
    MethodDispatcher("enqueue_call", _names("rq-queue"), 0, "func", True, "in an RQ worker",
                     queue="rq", forwards=Forwards(containers=((1, "args"), (2, "kwargs")))),
    MethodDispatcher("enqueue_at", _names("rq-queue"), 1, "f", True, "in an RQ worker",
                     queue="rq", forwards=_REST_2),
    MethodDispatcher("enqueue_in", _names("rq-queue"), 1, "f", True, "in an RQ worker",
                     queue="rq", forwards=_REST_2),
    MethodDispatcher("spawn", _names("gevent-pool", "eventlet-pool"), 0, "func", False),
    MethodDispatcher("spawn_n", _names("eventlet-pool"), 0, "func", False),
    MethodDispatcher("call_on_close", frozenset(), 0, "func", True,
                     "after the response is closed, when the request context is gone",
                     forwards=Forwards()),
)


@dataclass(frozen=True)
class TaskDecorator:
    """A decorator that registers its function to run in a worker, never in a request.

    Matched by qualified name (``celery.shared_task``) or as ``<receiver>.<method>``
    on receivers of ``receivers`` (or of unknown type when ``on_unknown_receiver``).
    ``library``: the task queue (a key of ``QUEUE_LABELS``); empty when the receiver
    says which (``@celery.task`` and ``@huey.task`` share the method name).
    """

    kind: str
    library: str = ""
    qualified_names: frozenset[str] = frozenset()
    method: str = ""
    receivers: frozenset[str] = frozenset()
    on_unknown_receiver: bool = False


TASK_DECORATORS: Tuple[TaskDecorator, ...] = (
    TaskDecorator("task", "celery", _names("celery.shared_task")),
    TaskDecorator("task", method="task", receivers=_names("celery", "huey"),
                  on_unknown_receiver=True),
    TaskDecorator("periodic task", method="periodic_task", receivers=_names("celery", "huey"),
                  on_unknown_receiver=True),
    TaskDecorator("task", "huey", method="db_task", receivers=_names("huey")),
    TaskDecorator("actor", "dramatiq", _names("dramatiq.actor", "dramatiq.actor.actor")),
    TaskDecorator("job", "rq", _names("rq.decorators.job", "rq.job")),
    TaskDecorator("job", "apscheduler", method="scheduled_job", receivers=_names("scheduler"),
                  on_unknown_receiver=True),
)

#: Task queues by key (``TaskDecorator.library``, ``MethodDispatcher.queue``, receiver
#: type keys that are task apps), with the article and name messages use.
QUEUE_LABELS: Mapping[str, str] = {
    "celery": "a Celery", "huey": "a huey", "dramatiq": "a dramatiq", "rq": "an RQ",
    "apscheduler": "an APScheduler", "": "a",
}

#: Libraries whose ``.task`` decorator registers something that is not a worker task.
NOT_TASK_PACKAGES = frozenset({"pytest", "invoke", "fabric", "nox", "doit", "luigi"})

#: Celery task base classes.  A subclass whose ``__call__`` pushes ``app_context()``
#: (the Flask documentation's ``FlaskTask`` pattern) gives the module's task bodies
#: an app context.
CELERY_TASK_BASES = _names("celery.Task", "celery.app.task.Task")

#: Streaming responses (FCX300): classes whose first argument is the body.
RESPONSE_CLASSES = _names(
    "flask.Response", "flask.wrappers.Response", "werkzeug.Response",
    "werkzeug.wrappers.Response", "werkzeug.wrappers.response.Response",
    "werkzeug.sansio.response.Response",
)
#: ``app.response_class(...)`` / ``current_app.response_class(...)``.
RESPONSE_CLASS_ATTRIBUTE = "response_class"
#: Wrapping the generator (or decorating its function) keeps the request context.
STREAM_WRAPPERS = _names("flask.stream_with_context", "flask.helpers.stream_with_context")
#: Decorator methods that register a view (the view's return value is the response).
VIEW_DECORATOR_METHODS = _names("route", "get", "post", "put", "patch", "delete")

#: Methods of a Flask app or blueprint that register a callable Flask calls later,
#: inside a request or app context (``app.before_request(load_user)``,
#: ``app.add_url_rule("/", view_func=index)``): passing the function there is not a
#: call, so the analysis does not follow it from the registering body.
CONTEXT_REGISTRATION_METHODS = _names(
    "add_url_rule", "before_request", "after_request", "teardown_request",
    "teardown_appcontext", "context_processor", "url_value_preprocessor", "url_defaults",
    "errorhandler", "register_error_handler", "before_app_request", "after_app_request",
    "teardown_app_request", "app_context_processor", "app_errorhandler",
    "app_url_value_preprocessor", "app_url_defaults", "template_filter",
    "add_template_filter", "template_global", "add_template_global", "template_test",
    "add_template_test", "app_template_filter", "add_app_template_filter",
    "app_template_global", "add_app_template_global", "app_template_test",
    "add_app_template_test", "shell_context_processor",
)

#: Words one of which a file must contain to hold anything reportable: a dispatch
#: site, a task decorator or a streamed response.  Checked before parsing.
DISPATCH_WORDS: Tuple[str, ...] = (
    "submit", "Thread", "Timer", "start_new", "Executor", "Process", "Pool", "map",
    "apply", "run_in_executor", "spawn", "Greenlet", "start_background_task", "add_job",
    "scheduled_job", "enqueue", "call_on_close", "task", "actor", "job", "Response",
    "response_class", "yield",
)


#: Extension objects whose attributes are context-locals, by the class that builds the
#: object (``db = SQLAlchemy()``; the object itself is a plain module global).
#: Flask-SQLAlchemy 3: ``db.session`` is a ``scoped_session`` keyed by the current app
#: context (using it -- ``db.session.add(...)`` -- raises "Working outside of application
#: context"), and ``db.engine`` looks up ``current_app``.
_SQLALCHEMY_LOCALS: Mapping[str, Tier] = {"session": Tier.APP, "engine": Tier.APP}
EXTENSION_OBJECTS: Mapping[str, Mapping[str, Tier]] = {
    "flask_sqlalchemy.SQLAlchemy": _SQLALCHEMY_LOCALS,
    "flask_sqlalchemy.extension.SQLAlchemy": _SQLALCHEMY_LOCALS,
}
#: Attributes of those objects that are model base classes, and the class attributes
#: their subclasses get: ``class User(db.Model)`` makes ``User.query`` open
#: ``db.session()``, which needs an app context.
EXTENSION_MODEL_BASES: Mapping[str, Tuple[str, Mapping[str, Tier]]] = {
    "flask_sqlalchemy.SQLAlchemy": ("Model", {"query": Tier.APP}),
    "flask_sqlalchemy.extension.SQLAlchemy": ("Model", {"query": Tier.APP}),
}
#: ``name = LocalProxy(...)``: a project's own context-local, found at its definition.
#: Its tier is what the wrapped callable reads (request tier when that cannot be told:
#: the common case is a per-request object).
LOCAL_PROXY_CLASSES = _names("werkzeug.local.LocalProxy", "werkzeug.LocalProxy")
#: Last words of the calls above: a cheap text gate before resolving a binding.
EXTENSION_FACTORY_WORDS = frozenset({"SQLAlchemy", "LocalProxy"})
#: What a project module's text must contain to be parsed in search of an extension
#: object (or a model deriving from its ``Model``), of a ``LocalProxy``.
EXTENSION_WORDS: Tuple[str, ...] = ("SQLAlchemy", "Model")
LOCAL_PROXY_WORDS: Tuple[str, ...] = ("LocalProxy",)
#: Attribute names that can be an extension context-local (``db.session``, ``.query``).
EXTENSION_ATTRIBUTES = frozenset(
    {a for table in EXTENSION_OBJECTS.values() for a in table}
    | {a for _, table in EXTENSION_MODEL_BASES.values() for a in table}
)


#: ``--fix``: the dispatches where wrapping the callable in copy_current_request_context
#: is safe -- another thread of this process (a process or task queue would have to
#: pickle the copied context).  Calls by qualified name; ``.submit`` by receiver type.
FIXABLE_THREAD_CALLS = _names("threading.Thread", "threading.Timer")
FIXABLE_EXECUTOR_KEYS = frozenset({"thread-executor"})
#: Request attributes that read the body: a worker that reads them may run after the
#: response was sent, when a real server has already consumed or closed the body, so
#: ``--fix`` does not wrap it (the data must be read in the view).
REQUEST_BODY_ATTRIBUTES = frozenset(
    {"json", "get_json", "data", "get_data", "form", "files", "values", "stream",
     "input_stream"}
)

#: Request-lifetime objects (FCX210): closed or consumed when the request ends.
#: Subscripting ``flask.request.files``; calling these; reading these attributes.
LIFETIME_SUBSCRIPTS = _names("flask.request.files")
LIFETIME_CALLS = _names(
    "flask.request.files.get", "flask.request.files.getlist",
    "flask.request._get_current_object",
)
LIFETIME_ATTRIBUTES = _names("flask.request.stream", "flask.request.input_stream")
#: ``for f in request.files.values():`` -- each ``f`` is an uploaded file.
LIFETIME_ITERABLES = _names(
    "flask.request.files.values", "flask.request.files.getlist",
    "flask.request.files.listvalues",
)
#: The correct way to hand the app to a worker (never FCX200).
REAL_OBJECT_METHOD = "_get_current_object"


def _rest_after(position: Optional[int]) -> Forwards:
    return Forwards(rest_from=None if position is None else position + 1, other_keywords=True)


def _top_packages(names: Iterable[str]) -> Tuple[str, ...]:
    return tuple(sorted({name.split(".")[0] for name in names}))


#: Pool methods whose names are everyday words (``map``): a module containing them is
#: not, for that alone, worth parsing in search of a wrapper (``map_async``... still are).
_GENERIC_METHOD_WORDS = frozenset({"map", "apply", "imap", "starmap"})


@dataclass(frozen=True)
class Knowledge:
    """Everything the engine consults: the defaults above plus the user's options."""

    context_locals: Mapping[str, Tier]
    proxy_objects: frozenset[str]
    safe_wrappers: frozenset[str]
    call_dispatchers: Tuple[CallDispatcher, ...]
    method_dispatchers: Tuple[MethodDispatcher, ...]
    watched_packages: Tuple[str, ...]
    dispatch_packages: Tuple[str, ...]
    prefilter_words: Tuple[str, ...]
    #: Words a module that defines a dispatching wrapper must contain (the names of
    #: the dispatch calls and methods): other modules are not parsed to look for one.
    wrapper_words: Tuple[str, ...] = ()

    def tier_of(self, qualified_name: str) -> Optional[Tier]:
        """The tier a qualified name needs, or ``None`` if it is not a context-local."""
        return self.context_locals.get(canonical_name(qualified_name))

    def star_exports(self, package: str) -> frozenset[str]:
        """Names of ours that ``from <package> import *`` binds (Flask has no
        ``__all__``, so every public name; Flask-Login's ``__all__`` has its three)."""
        known = [*self.context_locals, *NAME_ALIASES, *GUARD_CALLS, *self.safe_wrappers]
        prefix = package + "."
        return frozenset(
            name[len(prefix):]
            for name in known
            if name.startswith(prefix) and "." not in name[len(prefix):]
        )

    def with_server_name(self) -> "Knowledge":
        """The same knowledge for an app that sets ``SERVER_NAME``: ``url_for`` then
        needs only an application context (SPEC section 1).  Memoised, so the units
        cached per knowledge are shared by every file of the project."""
        if self.context_locals.get("flask.url_for") is Tier.APP:
            return self
        cached = _SERVER_NAME_VARIANTS.get(id(self))
        if cached is None or cached[0] is not self:
            locals_ = dict(self.context_locals)
            locals_["flask.url_for"] = Tier.APP
            cached = _SERVER_NAME_VARIANTS[id(self)] = (self, replace(self, context_locals=locals_))
        return cached[1]

    @classmethod
    def build(cls, settings: Settings) -> "Knowledge":
        locals_ = dict(CONTEXT_LOCALS)
        if settings.server_name:
            locals_["flask.url_for"] = Tier.APP  # with SERVER_NAME an app context suffices
        locals_.update({name: Tier.REQUEST for name in settings.request_locals})
        locals_.update({name: Tier.APP for name in settings.app_locals})
        user_proxies = frozenset(settings.request_locals) | frozenset(settings.app_locals)
        calls = CALL_DISPATCHERS + tuple(
            CallDispatcher(frozenset({d.name}), d.position, d.keyword,
                           f"through {d.name} (configured dispatcher)",
                           forwards=_rest_after(d.position))
            for d in settings.dispatchers if not d.is_method
        )
        methods = METHOD_DISPATCHERS + tuple(
            MethodDispatcher(d.name[2:], frozenset(), d.position, d.keyword, True,
                             f"through .{d.name[2:]}() (configured dispatcher)",
                             forwards=_rest_after(d.position))
            for d in settings.dispatchers if d.is_method
        )
        user_names = [*settings.request_locals, *settings.app_locals]
        dispatch_names = [n for d in calls for n in d.qualified_names]
        last_words = [
            name.rsplit(".", 1)[-1]
            for name in [*dispatch_names, *(m.method for m in methods), *settings.safe_wrappers]
        ]
        return cls(
            context_locals=locals_,
            proxy_objects=PROXY_OBJECTS | user_proxies,
            safe_wrappers=SAFE_WRAPPERS | frozenset(settings.safe_wrappers),
            call_dispatchers=calls,
            method_dispatchers=methods,
            watched_packages=tuple(
                sorted(set(CONTEXT_LOCAL_PACKAGES) | set(_top_packages(user_names)))
            ),
            dispatch_packages=_top_packages(dispatch_names),
            prefilter_words=tuple(sorted(set(DISPATCH_WORDS) | set(last_words))),
            wrapper_words=tuple(sorted(
                (
                    {n.rsplit(".", 1)[-1] for n in dispatch_names}
                    | {m.method for m in methods}
                    | {b.rsplit(".", 1)[-1] for t in THREAD_BASES for b in t.qualified_names}
                )
                - _GENERIC_METHOD_WORDS
            )),
        )


_SERVER_NAME_VARIANTS: Dict[int, Tuple[Knowledge, Knowledge]] = {}
DEFAULT_KNOWLEDGE = Knowledge.build(Settings())
