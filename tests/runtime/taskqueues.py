"""Task queues without their servers: Celery, RQ, dramatiq and huey bodies run in a worker.

The point these fixtures make is that a task body runs in a worker -- another process, with
no request and no app context -- however the view queued it.  Each library is driven
through its own API up to the broker, and the body then runs in a thread of this
interpreter, which has neither context either (new threads start with empty contextvars):

* **Celery** -- ``Task.apply_async`` (so ``delay``, signatures, ``countdown``...) encodes
  the arguments with the task's serializer (JSON by default: a proxy or an upload fails in
  the view with ``EncodeError``, as publishing would) and runs the task on the decoded
  copies through ``Task.apply(..., throw=True)`` -- Celery's own tracer: ``bind=True``,
  ``self.request``, a custom ``Task.__call__`` that pushes an app context all behave as in
  a worker -- in a new thread held at the gate until the request ended.  No broker is
  contacted; the call returns ``AsyncResult(id)`` as usual.
* **RQ** -- every ``Queue`` talks to one in-memory fakeredis server (with Lua, as RQ's
  scripts need); after the request RQ's scheduler moves ``enqueue_at``/``enqueue_in`` jobs
  (scheduled "now" instead of later) and a burst ``SimpleWorker`` (timer-based death
  penalty and no signal handlers, so it can run in a thread) performs every job.  The job
  function is imported by name, exactly as a real worker does.  Every worker the fixture
  builds itself talks to the same server; a fixture that declares ``RUNTIME_CLI`` runs its
  own worker from a ``flask`` command (see :mod:`runtime.harness`), so the harness's worker
  leaves the jobs waiting in the queue for it, as production does.
* **dramatiq** -- the global broker defaults to a ``StubBroker``; a middleware added to
  every broker holds each message at the gate of the request that sent it, records the
  actor's exception, and turns retries off (the first failure is the one that matters).
  A real ``dramatiq.Worker`` (one thread) is started after the first request that sent a
  message; ``send_with_options(delay=...)`` is sent without the delay.
* **huey** -- every ``Huey`` uses in-memory storage (no Redis); after the request a worker
  thread dequeues and ``huey.execute``s every task, as the consumer's worker does;
  ``schedule(delay/eta)`` runs at once; a ``post_execute`` hook records the exception.

Test-mode switches that run a task inline in the view (Celery ``task_always_eager``, RQ
``is_async=False``, huey ``immediate``) are overridden: production never runs tasks in the
request, and a task that passes only in eager mode is exactly what FCX100 is about.

Task bodies are reported regardless of callers (SPEC section 3), so after every route was
driven each Celery task, dramatiq actor and huey task defined at module level that no route
queued is queued once (:meth:`runtime.probes.Probes.run_task_bodies`), with the arguments the
fixture declares in ``RUNTIME_TASK_ARGS = {"name": (args, kwargs)}`` (keyed by the task's
module-level name; default: no arguments).
"""

from __future__ import annotations

import datetime
import functools
import inspect
import sys
import threading
from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Set, Tuple

from runtime.probes import TASK_ARGS, FixtureConventionError, Handle, patch

if TYPE_CHECKING:
    from runtime.probes import Probes


# ---------------------------------------------------------------------------------------------
# shared: module-level task objects and their declared arguments
# ---------------------------------------------------------------------------------------------
def module_objects(module: Any, is_task: Callable[[type], bool]) -> Iterator[Tuple[str, Any]]:
    """``(global name, value)`` of the module's values whose *type* passes ``is_task``.

    By type, not ``isinstance``: a Flask context-local imported into the module would be
    resolved by ``isinstance`` (and ``flask_login.current_user`` does so without failing).
    """
    seen: Set[int] = set()
    for global_name, value in sorted(vars(module).items()):
        if is_task(type(value)) and id(value) not in seen:
            seen.add(id(value))
            yield global_name, value


def declared_arguments(
    task_args: Dict[str, Any], global_name: str, signature_of: Any
) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
    """The fixture's ``RUNTIME_TASK_ARGS`` entry for a task (default: none), checked.

    A task that needs arguments it was not given would fail with a ``TypeError`` before
    its first line: say what to declare instead of reporting an unrelated crash.
    """
    entry = task_args.get(global_name, ((), {}))
    try:
        args, kwargs = entry
        args, kwargs = tuple(args), dict(kwargs)
    except (TypeError, ValueError):
        raise FixtureConventionError(
            f"{TASK_ARGS}[{global_name!r}] must be a pair (args tuple, kwargs dict), "
            f"not {entry!r}"
        ) from None
    try:
        inspect.signature(signature_of).bind(*args, **kwargs)
    except TypeError as exc:
        raise FixtureConventionError(
            f"task {global_name} cannot be called with args={args!r} kwargs={kwargs!r} "
            f"({exc}); no route queued it, so the harness runs it once: declare "
            f"{TASK_ARGS} = {{{global_name!r}: ((...), {{...}})}} in the fixture"
        ) from None
    except ValueError:  # no signature (a builtin): let the call itself tell
        pass
    return args, kwargs


# ---------------------------------------------------------------------------------------------
# Celery
# ---------------------------------------------------------------------------------------------
def install_celery(probes: "Probes", celery: Any) -> None:
    task_class: Any = import_module("celery.app.task").Task
    proxy_class: Any = import_module("celery.local").Proxy
    uuid: Callable[[], str] = import_module("celery.utils").uuid
    serialization: Any = import_module("kombu.serialization")
    source = "Celery worker"
    queued: Set[str] = set()

    def apply_async(
        task: Any, args: Any = None, kwargs: Any = None, task_id: Any = None, **options: Any
    ) -> Any:
        task_id = task_id or uuid()
        queued.add(task.name)
        name = f"{task.name}()"
        # Through the task's serializer, as publishing to a broker would: what cannot be
        # encoded (a proxy, an upload) fails here, in the view, with kombu's EncodeError,
        # and the worker gets copies, never the view's objects.
        serializer = options.get("serializer") or task.serializer
        content_type, encoding, body = serialization.dumps(
            (list(args or ()), dict(kwargs or {})), serializer=serializer
        )
        args, kwargs = serialization.loads(body, content_type, encoding)

        def work() -> None:
            task.apply(args, kwargs, task_id=task_id, throw=True)

        probes.start_worker_thread(probes.observed(work, source, name), source, name)
        return task.AsyncResult(task_id)

    def is_task(kind: type) -> bool:
        return issubclass(kind, (task_class, proxy_class))

    def run_unqueued(module: Any, task_args: Dict[str, Any]) -> None:
        for global_name, value in module_objects(module, is_task):
            task = value._get_current_object() if isinstance(value, proxy_class) else value
            if not isinstance(task, task_class) or task.name in queued:
                continue
            args, kwargs = declared_arguments(task_args, global_name, task.run)
            task.apply_async(args, kwargs)

    patch(task_class, "apply_async", apply_async)
    probes.add_task_runner(run_unqueued)


# ---------------------------------------------------------------------------------------------
# RQ
# ---------------------------------------------------------------------------------------------
def install_rq(probes: "Probes", rq: Any) -> None:
    fakeredis: Any = import_module("fakeredis")
    job_class: Any = import_module("rq.job").Job
    scheduler_class: Any = import_module("rq.scheduler").RQScheduler
    registry_class: Any = import_module("rq.registry").ScheduledJobRegistry
    timer_death_penalty: Any = import_module("rq.timeouts").TimerDeathPenalty
    worker_module: Any = import_module("rq.worker")
    simple_worker: Any = worker_module.SimpleWorker
    base_worker: Any = worker_module.BaseWorker

    queue_class: Any = rq.Queue
    server = fakeredis.FakeRedis()
    queues: Dict[str, Any] = {}
    worker_running = threading.Event()
    source = "RQ worker"

    original_init = queue_class.__init__
    init_signature = inspect.signature(original_init)

    def __init__(queue: Any, *args: Any, **kwargs: Any) -> None:
        bound = init_signature.bind(queue, *args, **kwargs)
        bound.arguments["connection"] = server  # no Redis server here: one in memory
        bound.arguments["is_async"] = True  # is_async=False would run the job in the view
        original_init(*bound.args, **bound.kwargs)
        queues.setdefault(queue.name, queue)

    original_worker_init = base_worker.__init__
    worker_signature = inspect.signature(original_worker_init)

    def worker_init(worker: Any, *args: Any, **kwargs: Any) -> None:
        bound = worker_signature.bind(worker, *args, **kwargs)
        bound.arguments["connection"] = server  # the fixture's own worker (a CLI command)
        original_worker_init(*bound.args, **bound.kwargs)

    original_schedule = queue_class.schedule_job

    def schedule_job(queue: Any, job: Any, when: datetime.datetime, *a: Any, **kw: Any) -> Any:
        now = datetime.datetime.now(datetime.timezone.utc)
        return original_schedule(queue, job, now, *a, **kw)

    original_create_job = queue_class.create_job
    job_sites: Dict[str, Tuple[str, ...]] = {}

    def create_job(queue: Any, *args: Any, **kwargs: Any) -> Any:
        job = original_create_job(queue, *args, **kwargs)
        # The dispatch site (``q.enqueue(job)``): the worker that performs the job later
        # has only the job's id, and no fixture frame of the view on its stack.
        job_sites[job.id] = probes.here(sys._getframe(1))
        return job

    original_perform = job_class.perform

    def perform(job: Any) -> Any:
        name = f"{job.func_name}()"
        sites = job_sites.get(job.id, ())
        return probes.observed(lambda: original_perform(job), source, name, sites=sites)()

    class ThreadWorker(simple_worker):  # type: ignore[misc]
        """RQ's in-process worker, fit for a thread: no signals, timer-based timeouts."""

        death_penalty_class = timer_death_penalty

        def _install_signal_handlers(self) -> None:
            pass

    def work() -> None:
        try:
            names = list(queues)
            scheduler = scheduler_class(names, connection=server)
            scheduler.acquire_locks()
            scheduler.enqueue_scheduled_jobs()
            scheduler.release_locks()
            worker = ThreadWorker(list(queues.values()), connection=server)
            worker.work(burst=True, logging_level="WARNING")
        finally:
            worker_running.clear()

    def has_jobs() -> bool:
        return any(
            queue.count or registry_class(queue=queue).count for queue in queues.values()
        )

    def drain() -> None:
        if probes.cli_workers:  # the fixture's flask command works the queues
            return
        if queues and not worker_running.is_set() and has_jobs():
            worker_running.set()
            probes.start_worker_thread(work, source, "rq-worker")

    patch(queue_class, "__init__", __init__)
    patch(queue_class, "schedule_job", schedule_job)
    patch(queue_class, "create_job", create_job)
    patch(base_worker, "__init__", worker_init)
    patch(job_class, "perform", perform)
    probes.add_drainer(drain)


# ---------------------------------------------------------------------------------------------
# dramatiq
# ---------------------------------------------------------------------------------------------
def install_dramatiq(probes: "Probes", dramatiq: Any) -> None:
    broker_module: Any = import_module("dramatiq.broker")
    stub_broker: Any = import_module("dramatiq.brokers.stub").StubBroker
    middleware_class: Any = import_module("dramatiq.middleware").Middleware

    source = "dramatiq worker"
    sent: Set[str] = set()
    tickets: Dict[str, threading.Event] = {}
    finished: Dict[str, threading.Event] = {}
    workers: Dict[int, Any] = {}
    brokers: List[Any] = []
    recorder = probes.recorder

    class Observer(middleware_class):  # type: ignore[misc]
        """Gate, record and finish every message; no retries (the first failure counts)."""

        def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
            message.options["max_retries"] = 0
            done = threading.Event()
            tickets[message.message_id] = probes.gate.ticket()
            finished[message.message_id] = done
            name = f"{message.actor_name}()"
            probes.track(Handle.for_event(done, source, name, "dramatiq worker thread"))

        def before_process_message(self, broker: Any, message: Any) -> None:
            ticket = tickets.pop(message.message_id, None)
            if ticket is not None:
                probes.gate.hold(ticket)

        def after_process_message(
            self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
        ) -> None:
            name = f"{message.actor_name}()"
            if exception is not None:
                recorder.exception(exception, source, name)
            recorder.finished(source, name, type(exception).__name__ if exception else "")
            self._done(message)

        def after_skip_message(self, broker: Any, message: Any) -> None:
            self._done(message)

        def _done(self, message: Any) -> None:
            done = finished.pop(message.message_id, None)
            if done is not None:
                done.set()

    broker_class: Any = broker_module.Broker
    original_init = broker_class.__init__

    def __init__(broker: Any, *args: Any, **kwargs: Any) -> None:
        original_init(broker, *args, **kwargs)
        broker.add_middleware(Observer())
        brokers.append(broker)

    actor_class: Any = dramatiq.Actor
    original_send = actor_class.send_with_options

    def send_with_options(actor: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("delay", None)  # run promptly: a delayed message fails the same way
        sent.add(actor.actor_name)
        return original_send(actor, *args, **kwargs)

    def start_workers() -> None:
        if not finished:
            return
        for broker in brokers:
            if id(broker) not in workers and broker.get_declared_queues():
                worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=10)
                worker.start()
                workers[id(broker)] = worker

    def run_unsent(module: Any, task_args: Dict[str, Any]) -> None:
        for global_name, actor in module_objects(module, lambda t: issubclass(t, actor_class)):
            if actor.actor_name not in sent:
                args, kwargs = declared_arguments(task_args, global_name, actor.fn)
                actor.send(*args, **kwargs)

    patch(broker_class, "__init__", __init__)
    patch(actor_class, "send_with_options", send_with_options)
    if broker_module.global_broker is None:  # the default would be RabbitMQ or Redis
        dramatiq.set_broker(stub_broker())
    probes.add_drainer(start_workers)
    probes.add_task_runner(run_unsent)


# ---------------------------------------------------------------------------------------------
# huey
# ---------------------------------------------------------------------------------------------
def install_huey(probes: "Probes", api: Any) -> None:
    memory_storage: Any = import_module("huey.storage").MemoryStorage

    huey_class: Any = api.Huey
    wrapper_class: Any = api.TaskWrapper
    source = "huey worker"
    instances: List[Any] = []
    queued: Set[str] = set()
    finished: Dict[str, threading.Event] = {}
    worker_running = threading.Event()
    recorder = probes.recorder

    original_init = huey_class.__init__

    def __init__(huey: Any, *args: Any, **kwargs: Any) -> None:
        original_init(huey, *args, **kwargs)
        huey._immediate = False
        huey.storage = memory_storage(huey.name)  # no Redis server here
        instances.append(huey)

        def observe(task: Any, value: Any, exception: Any) -> None:
            name = f"{task.name}()"
            if exception is not None:
                recorder.exception(exception, source, name)
            recorder.finished(source, name, type(exception).__name__ if exception else "")
            done = finished.pop(task.id, None)
            if done is not None:
                done.set()

        huey.post_execute(name="fcx_runtime")(observe)

    original_enqueue = huey_class.enqueue

    def enqueue(huey: Any, task: Any) -> Any:
        huey._immediate = False  # immediate mode would run the task in the view
        if isinstance(task, api.Task):  # groups and chords come back here per member
            task.eta = None  # run promptly: a scheduled task fails the same way
            queued.add(task.name)
            done = threading.Event()
            finished[task.id] = done
            name = f"{task.name}()"
            probes.track(Handle.for_event(done, source, name, "huey worker thread"))
        return original_enqueue(huey, task)

    def work() -> None:
        try:
            for huey in list(instances):
                while True:
                    task = huey.dequeue()
                    if task is None:
                        break
                    huey.execute(task)
        finally:
            worker_running.clear()

    def drain() -> None:
        if finished and not worker_running.is_set():
            if any(huey.pending_count() for huey in instances):
                worker_running.set()
                probes.start_worker_thread(work, source, "huey-worker")

    def run_unqueued(module: Any, task_args: Dict[str, Any]) -> None:
        for global_name, wrapper in module_objects(
            module, lambda t: issubclass(t, wrapper_class)
        ):
            if wrapper.task_class.__name__ in queued:  # the name its tasks carry
                continue
            # A context=True task is also given task=...: not the fixture's to declare.
            signature_of = (
                functools.partial(wrapper.func, task=None) if wrapper.context else wrapper.func
            )
            args, kwargs = declared_arguments(task_args, global_name, signature_of)
            wrapper(*args, **kwargs)

    patch(huey_class, "__init__", __init__)
    patch(huey_class, "enqueue", enqueue)
    probes.add_drainer(drain)
    probes.add_task_runner(run_unqueued)
