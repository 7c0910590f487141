"""The calls that run a callable somewhere else, as data: threads, executors, pools,
greenlets, schedulers and task queues (SPEC section 3), with where each takes the
callable and which of its arguments travel with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from .contexts import Tier, frozen


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
    ``in_process``: it runs in another process (messages note the ``fork`` start method).
    """

    qualified_names: frozenset[str]
    position: Optional[int]
    keyword: str
    mechanism: str
    needs_start: bool = False
    carries: frozenset[Tier] = frozenset()
    forwards: Forwards = Forwards()
    in_process: bool = False
    #: A dispatch only when the callable is given (a pool's ``initializer``): the
    #: ``ast`` gate does not count a bare ``ThreadPoolExecutor()``.
    optional: bool = False
    #: Its own name is too common to look for (``register``): the gates look for its
    #: module's (``atexit``) instead.
    by_module: bool = False
    #: Where an object whose collection runs the callable is (``weakref.finalize``):
    #: a dispatch only when it is kept in ``flask.g`` (``knowledge/later.py``).
    object_in_g: Optional[int] = None


CALL_DISPATCHERS: Tuple[CallDispatcher, ...] = (
    CallDispatcher(
        frozen("threading.Thread"), 1, "target", "in a new threading.Thread", True,
        forwards=_THREAD_ARGS,
    ),
    CallDispatcher(
        frozen("threading.Timer"), 1, "function", "in a threading.Timer thread", True,
        forwards=Forwards(containers=((2, "args"), (3, "kwargs"))),
    ),
    CallDispatcher(
        frozen("_thread.start_new_thread", "_thread.start_new"),
        0,
        "function",
        "in a _thread.start_new_thread thread",
        forwards=Forwards(containers=((1, "args"), (2, "kwargs"))),
    ),
    CallDispatcher(
        frozen(
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
        in_process=True,
    ),
    CallDispatcher(
        frozen("gevent.spawn", "gevent.spawn_raw", "gevent.Greenlet.spawn",
               "gevent.greenlet.Greenlet.spawn"),
        0,
        "run",
        "in a gevent greenlet",
        forwards=_REST_1,
    ),
    CallDispatcher(
        frozen("gevent.spawn_later", "gevent.Greenlet.spawn_later",
               "gevent.greenlet.Greenlet.spawn_later"),
        1,
        "run",
        "in a gevent greenlet",
        forwards=_REST_2,
    ),
    CallDispatcher(
        frozen("gevent.Greenlet", "gevent.greenlet.Greenlet"), 0, "run",
        "in a gevent greenlet", True, forwards=_REST_1,
    ),
    CallDispatcher(
        frozen("eventlet.spawn", "eventlet.spawn_n", "eventlet.greenthread.spawn",
               "eventlet.greenthread.spawn_n"),
        0,
        "func",
        "in an eventlet greenthread",
        forwards=_REST_1,
    ),
    CallDispatcher(
        frozen("eventlet.spawn_after", "eventlet.greenthread.spawn_after"),
        1,
        "func",
        "in an eventlet greenthread",
        forwards=_REST_2,
    ),
    CallDispatcher(
        frozen("flaskthreads.AppContextThread", "flaskthreads.thread_helpers.AppContextThread"),
        1,
        "target",
        "in a Flask-Threads AppContextThread (an app context, no request)",
        True,
        frozenset({Tier.APP}),
        _THREAD_ARGS,
    ),
    # A pool's ``initializer`` runs in each worker it starts (at the first submit,
    # often from a view): no context there.
    CallDispatcher(
        frozen("concurrent.futures.ThreadPoolExecutor",
               "concurrent.futures.thread.ThreadPoolExecutor"),
        2, "initializer", "in each new ThreadPoolExecutor worker (its initializer)",
        forwards=Forwards(containers=((3, "initargs"),)), optional=True,
    ),
    CallDispatcher(
        frozen("concurrent.futures.ProcessPoolExecutor",
               "concurrent.futures.process.ProcessPoolExecutor"),
        2, "initializer", "in each new ProcessPoolExecutor worker (its initializer)",
        forwards=Forwards(containers=((3, "initargs"),)), in_process=True, optional=True,
    ),
    CallDispatcher(
        frozen("multiprocessing.Pool", "multiprocessing.pool.Pool"),
        1, "initializer", "in each new multiprocessing pool worker (its initializer)",
        forwards=Forwards(containers=((2, "initargs"),)), in_process=True, optional=True,
    ),
    CallDispatcher(
        frozen("multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool"),
        1, "initializer", "in each new thread pool worker (its initializer)",
        forwards=Forwards(containers=((2, "initargs"),)), optional=True,
    ),
)


@dataclass(frozen=True)
class ThreadBase:
    """A class whose subclasses run ``run_method`` elsewhere once started."""

    qualified_names: frozenset[str]
    run_method: str
    label: str
    carries: frozenset[Tier] = frozenset()
    in_process: bool = False


THREAD_BASES: Tuple[ThreadBase, ...] = (
    ThreadBase(frozen("threading.Thread"), "run", "thread"),
    ThreadBase(
        frozen("multiprocessing.Process", "multiprocessing.context.Process",
               "multiprocessing.process.BaseProcess"),
        "run",
        "process",
        in_process=True,
    ),
    ThreadBase(frozen("gevent.Greenlet", "gevent.greenlet.Greenlet"), "_run", "greenlet"),
    ThreadBase(
        frozen("flaskthreads.AppContextThread", "flaskthreads.thread_helpers.AppContextThread"),
        "run",
        "AppContextThread (an app context, no request)",
        frozenset({Tier.APP}),
    ),
)


#: Text a module must contain to define a thread-like class (an imported one started).
THREAD_BASE_WORDS = tuple(sorted({n.rsplit(".", 1)[-1] for b in THREAD_BASES for n in b.qualified_names}))  # noqa: E501


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
    in_process: bool = False
    #: Methods that dispatch although ``dispatches`` is False, because the receiver's
    #: own context copy is shared by every item (Flask-Executor's ``map``: FCX400).
    shared_copy_methods: frozenset[str] = frozenset()


RECEIVER_TYPES: Tuple[ReceiverType, ...] = (
    ReceiverType(
        "thread-executor",
        frozen("concurrent.futures.ThreadPoolExecutor",
               "concurrent.futures.thread.ThreadPoolExecutor"),
        "ThreadPoolExecutor",
    ),
    ReceiverType(
        "process-executor",
        frozen("concurrent.futures.ProcessPoolExecutor",
               "concurrent.futures.process.ProcessPoolExecutor"),
        "ProcessPoolExecutor",
        in_process=True,
    ),
    ReceiverType("flask-executor", frozen("flask_executor.Executor"), "Flask-Executor", False,
                 shared_copy_methods=frozen("map")),
    ReceiverType(
        "flask-threads-executor",
        frozen("flaskthreads.ThreadPoolWithAppContextExecutor",
               "flaskthreads.thread_helpers.ThreadPoolWithAppContextExecutor"),
        "ThreadPoolWithAppContextExecutor (Flask-Threads: an app context, no request)",
        True,
        frozenset({Tier.APP}),
    ),
    ReceiverType(
        "mp-pool",
        frozen("multiprocessing.Pool", "multiprocessing.pool.Pool",
               "multiprocessing.context.BaseContext.Pool"),
        "multiprocessing pool",
        in_process=True,
    ),
    ReceiverType(
        "mp-thread-pool",
        frozen("multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool"),
        "multiprocessing thread pool",
    ),
    ReceiverType("mp-context", frozen("multiprocessing.get_context"), "multiprocessing context"),
    ReceiverType(
        "event-loop",
        frozen("asyncio.get_event_loop", "asyncio.get_running_loop", "asyncio.new_event_loop",
               "asyncio.events.get_event_loop", "asyncio.events.get_running_loop",
               "asyncio.events.new_event_loop"),
        "event loop",
    ),
    # asyncio runs done callbacks on its loop in a copy of the contextvars taken at
    # ``add_done_callback``: the request is there (Flask >= 2.3).  Nothing dispatched.
    ReceiverType(
        "asyncio-future",
        frozen("asyncio.create_task", "asyncio.ensure_future", "asyncio.gather",
               "asyncio.wrap_future", "asyncio.shield", "asyncio.wait_for", "asyncio.Future",
               "asyncio.Task", "asyncio.tasks.create_task", "asyncio.tasks.ensure_future",
               "asyncio.tasks.gather", "asyncio.futures.Future", "asyncio.futures.wrap_future",
               "asyncio.tasks.Task", "asyncio.run_coroutine_threadsafe"),
        "asyncio future",
        dispatches=False,
    ),
    ReceiverType("socketio", frozen("flask_socketio.SocketIO"), "Flask-SocketIO"),
    ReceiverType(
        "scheduler",
        frozen(
            "apscheduler.schedulers.background.BackgroundScheduler",
            "apscheduler.schedulers.blocking.BlockingScheduler",
            "apscheduler.schedulers.asyncio.AsyncIOScheduler",
            "apscheduler.schedulers.gevent.GeventScheduler",
            "apscheduler.schedulers.base.BaseScheduler",
            "flask_apscheduler.APScheduler",
        ),
        "APScheduler",
    ),
    ReceiverType("rq-queue", frozen("rq.Queue", "rq.queue.Queue"), "RQ"),
    ReceiverType("gevent-pool", frozen("gevent.pool.Pool", "gevent.pool.Group"), "gevent pool"),
    ReceiverType("eventlet-pool", frozen("eventlet.GreenPool", "eventlet.greenpool.GreenPool"),
                 "eventlet GreenPool"),
    ReceiverType("celery", frozen("celery.Celery"), "Celery"),
    ReceiverType("huey", frozen("huey.Huey", "huey.RedisHuey", "huey.SqliteHuey",
                                "huey.MemoryHuey", "huey.FileHuey", "huey.PriorityRedisHuey",
                                "huey.api.Huey"), "huey"),
)


#: ``ctx.Pool(...)`` builds a pool; an event loop's futures are asyncio futures.
RECEIVER_FACTORIES: Mapping[Tuple[str, str], str] = {
    ("mp-context", "Pool"): "mp-pool", ("event-loop", "create_task"): "asyncio-future",
    ("event-loop", "create_future"): "asyncio-future",
    ("event-loop", "run_in_executor"): "asyncio-future",
}


RECEIVERS_BY_KEY: Mapping[str, ReceiverType] = {r.key: r for r in RECEIVER_TYPES}


#: What a project module's text must contain to be parsed in search of an executor or
#: task app built there (``pool = ThreadPoolExecutor()`` in ``extensions.py``).
RECEIVER_WORDS: Tuple[str, ...] = tuple(sorted(
    {
        name.rsplit(".", 1)[-1]
        for r in RECEIVER_TYPES if r.key != "asyncio-future"  # never imported
        for name in r.qualified_names
    }
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
    #: Whatever the receiver, a class of the checked module included (a configured
    #: ``*.method`` dispatcher: the user said what the method does).
    any_receiver: bool = False
    #: Also on an unknown receiver inside ``async def`` (False where the method means
    #: something else on asyncio objects there: ``add_done_callback``).
    unknown_in_coroutine: bool = True
    #: The task queue whose worker runs it (a key of ``QUEUE_LABELS``), if any: the
    #: project may push a context around that queue's jobs (``project_index.py``).
    queue: str = ""
    in_process: bool = False
    #: A callback argument (``callback=``/``error_callback=``): a dispatch only when
    #: given, alongside the task's own callable, and run in *this* process (the pool's
    #: result-handler thread), whatever process runs the task.
    callback: bool = False


_POOL_ARGS = Forwards(containers=((1, "args"), (2, "kwds")))


#: Methods that run one callable many times, possibly concurrently (FCX400).
MANY_INVOCATION_METHODS = frozen(
    "map", "imap", "imap_unordered", "map_async", "starmap", "starmap_async"
)


_EXECUTORS = frozen("thread-executor", "process-executor", "flask-threads-executor")


_POOLS = frozen("mp-pool", "mp-thread-pool")


METHOD_DISPATCHERS: Tuple[MethodDispatcher, ...] = (
    MethodDispatcher("submit", _EXECUTORS, 0, "fn", True),
    MethodDispatcher("map", _EXECUTORS | _POOLS, 0, "func", False),
    MethodDispatcher("apply", _POOLS, 0, "func", False, forwards=_POOL_ARGS),
    MethodDispatcher("starmap", _POOLS, 0, "func", False),
    MethodDispatcher("apply_async", _POOLS | frozen("gevent-pool"), 0, "func", True,
                     forwards=_POOL_ARGS),
    MethodDispatcher("map_async", _POOLS, 0, "func", True),
    MethodDispatcher("starmap_async", _POOLS, 0, "func", True),
    MethodDispatcher("imap", _POOLS | frozen("gevent-pool"), 0, "func", True),
    MethodDispatcher("imap_unordered", _POOLS | frozen("gevent-pool"), 0, "func", True),
    MethodDispatcher("Process", frozen("mp-context"), 1, "target", False,
                     "in a new process", True, _THREAD_ARGS, in_process=True),
    MethodDispatcher("run_in_executor", frozen("event-loop"), 1, "func", True,
                     "in the event loop's executor thread", forwards=_REST_2),
    MethodDispatcher("start_background_task", frozen("socketio"), 0, "target", True,
                     "in a Flask-SocketIO background task"),
    MethodDispatcher("add_job", frozen("scheduler"), 0, "func", True,
                     "as an APScheduler job",
                     forwards=Forwards(containers=((2, "args"), (3, "kwargs")))),
    MethodDispatcher("enqueue", frozen("rq-queue"), 0, "f", True, "in an RQ worker",
                     queue="rq"),
    MethodDispatcher("enqueue_call", frozen("rq-queue"), 0, "func", True, "in an RQ worker",
                     queue="rq", forwards=Forwards(containers=((1, "args"), (2, "kwargs")))),
    MethodDispatcher("enqueue_at", frozen("rq-queue"), 1, "f", True, "in an RQ worker",
                     queue="rq", forwards=_REST_2),
    MethodDispatcher("enqueue_in", frozen("rq-queue"), 1, "f", True, "in an RQ worker",
                     queue="rq", forwards=_REST_2),
    MethodDispatcher("spawn", frozen("gevent-pool", "eventlet-pool"), 0, "func", False),
    MethodDispatcher("spawn_n", frozen("eventlet-pool"), 0, "func", False),
    MethodDispatcher("call_on_close", frozenset(), 0, "func", True,
                     "after the response is closed (the request context is gone)",
                     forwards=Forwards()),
    # A multiprocessing pool runs ``callback``/``error_callback`` in its result-handler
    # thread of the parent process; a RuntimeError there kills that thread and the
    # pool hangs (checked with Python 3.12).
    *(
        MethodDispatcher(method, _POOLS, position, keyword, False,
                         f"in the pool's result-handler thread (its {keyword})",
                         forwards=Forwards(), callback=True)
        for method in ("apply_async", "map_async", "starmap_async")
        for position, keyword in ((3, "callback"), (4, "error_callback"))
    ),
    # concurrent.futures runs done callbacks in the worker that completes the future.
    MethodDispatcher("add_done_callback", frozenset(), 0, "fn", True,
                     "in the worker that completes the future (a done callback)",
                     forwards=Forwards(), unknown_in_coroutine=False),
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
    TaskDecorator("task", "celery", frozen("celery.shared_task")),
    TaskDecorator("task", method="task", receivers=frozen("celery", "huey"),
                  on_unknown_receiver=True),
    TaskDecorator("periodic task", method="periodic_task", receivers=frozen("celery", "huey"),
                  on_unknown_receiver=True),
    TaskDecorator("task", "huey", method="db_task", receivers=frozen("huey")),
    TaskDecorator("actor", "dramatiq", frozen("dramatiq.actor", "dramatiq.actor.actor")),
    TaskDecorator("job", "rq", frozen("rq.decorators.job", "rq.job")),
    TaskDecorator("job", "apscheduler", method="scheduled_job", receivers=frozen("scheduler"),
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
CELERY_TASK_BASES = frozen("celery.Task", "celery.app.task.Task")


#: Words one of which a file must contain to hold anything reportable: a dispatch
#: site, a task decorator or a streamed response.  Checked before parsing.
DISPATCH_WORDS: Tuple[str, ...] = (
    "submit", "Thread", "Timer", "start_new", "Executor", "Process", "Pool", "map",
    "apply", "run_in_executor", "spawn", "Greenlet", "start_background_task", "add_job",
    "scheduled_job", "enqueue", "call_on_close", "task", "actor", "job", "Response",
    "response_class", "yield",
)


#: ``--fix``: the dispatches where wrapping the callable in copy_current_request_context
#: is safe -- another thread of this process (a process or task queue would have to
#: pickle the copied context).  Calls by qualified name; ``.submit`` by receiver type.
FIXABLE_THREAD_CALLS = frozen("threading.Thread", "threading.Timer")


FIXABLE_EXECUTOR_KEYS = frozenset({"thread-executor"})
