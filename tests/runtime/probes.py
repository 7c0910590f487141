"""Instrumentation installed in the fixture's subprocess *before* the fixture is imported.

Why each hook exists (and why it is shaped the way it is):

* ``threading.Thread.start`` -- every *user* thread (its target, ``run`` override or Timer
  function lives outside the stdlib's pool machinery) is tracked so the harness can join it,
  and its ``run`` is wrapped per instance: the wrapper holds the thread at the :class:`Gate`
  and records the exception in the failing thread itself (thread name, traceback objects).
  Thread subclasses and ``threading.Timer`` are covered because the wrapper replaces the
  bound ``run`` that ``Thread._bootstrap_inner`` calls.
* ``threading.excepthook`` -- the safety net for threads the wrapper did not see
  (pool machinery, threads started by libraries): anything raised there is recorded too.
* ``_thread.start_new_thread`` -- raw threads cannot be joined and do not go through
  ``threading.excepthook``, so the function is wrapped: gate, record, count running ones.
* ``ThreadPoolExecutor.submit`` / ``ProcessPoolExecutor.submit`` -- every future is
  collected (``Executor.map`` goes through ``submit``); thread-pool callables are also
  wrapped (gate + in-thread record).  Process-pool callables are left alone (they must stay
  picklable); their exception comes back through the future with the remote traceback.
* ``multiprocessing`` -- the default start method is pinned to ``spawn``: under ``fork`` a
  child inherits a frozen copy of the forking thread's context (workers forked inside a
  request silently keep that request: stale data, no error), and the default differs by
  platform and Python version (fork / forkserver / spawn).  An explicit
  ``get_context("fork")`` in a fixture is honoured.  ``Process.start`` tracks processes
  for joining; a spawned child records its own failure through
  :func:`install_in_spawned_child` (the harness module is the child's ``__mp_main__``).
  ``multiprocessing.Pool``/``ThreadPool`` results are tracked and their failures recorded
  where the pool stores them (``_set``), which covers apply/map/imap/starmap alike.
* ``flask_login.utils._get_user`` -- ``current_user`` does not raise outside a request, it
  silently resolves to ``None``; the probe records that when the lookup comes through the
  ``current_user`` proxy (not Flask-Login's own template context processor).
* Flask -- ``got_request_exception`` records what the view raised (HTTP 500);
  the fake request of ``Flask.test_request_context`` entered in a worker, read by fixture
  code there, is FCX420;
  ``g.get`` missing inside a *copied* request context in a worker is FCX410's empty ``g``.
* ``os.cpu_count`` -- capped at 2 so default-sized pools do not spawn dozens of
  interpreters on a big CI machine; the size of a pool has no bearing on contexts.

The :class:`Gate` makes the schedule adversarial and deterministic: work dispatched during a
request waits until the request has ended (files closed, contexts popped), unless the view
blocks on it (``Future.result``, ``Thread.join``, ``Event.wait``, ``Queue.get``... all end
in ``Condition.wait`` or ``Thread.join`` on the driving thread), in which case the gate
opens at once.  A fallback timeout covers a view blocking on something else.

Libraries beyond the standard library are instrumented by their own modules, each installed
through a post-import hook (:mod:`runtime.imports`) so a fixture that does not import them
pays nothing: :mod:`runtime.greenlets` (gevent, eventlet), :mod:`runtime.asyncviews`
(asgiref's loop for ``async def`` views), :mod:`runtime.scheduling` (APScheduler),
:mod:`runtime.taskqueues` (Celery, RQ, dramatiq, huey) and, here, Flask-Threads'
``ThreadPoolWithAppContextExecutor`` (not a ``ThreadPoolExecutor`` subclass).  They use the
same gate, recorder and tracker through :meth:`Probes.observed`, :meth:`Probes.track`,
:meth:`Probes.add_drainer` and :meth:`Probes.add_task_runner`.
"""

from __future__ import annotations

import _thread
import contextvars
import functools
import importlib
import json
import multiprocessing
import multiprocessing.pool
import multiprocessing.process
import os
import re
import sys
import threading
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType, GeneratorType, ModuleType
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from runtime import kinds
from runtime.imports import when_imported
from runtime.sites import SiteFinder, merge

PROCESS_LOG_ENV = "FCX_RUNTIME_PROCESS_LOG"
"""File a spawned child appends its failure to (one JSON object per line)."""

_INFRASTRUCTURE_MODULES = (
    "concurrent.futures",
    "multiprocessing",
    "threading",
    "asyncio",
    "queue",
    "logging",
    "runtime",
    # Libraries whose own threads (schedulers, consumers, pool workers, event loops) run for
    # the life of the process: the work they run is observed by that library's probe.
    "asgiref",
    "apscheduler",
    "celery",
    "kombu",
    "billiard",
    "dramatiq",
    "huey",
    "rq",
    "redis",
    "fakeredis",
    "gevent",
    "eventlet",
    "engineio",
    "socketio",
    "flaskthreads",
)
"""Callables from these modules are pool/runtime machinery, not work a fixture dispatched."""

TASK_ARGS = "RUNTIME_TASK_ARGS"
"""Module-level dict a fixture may define: task name -> ``(args, kwargs)`` for the one run
the harness gives each task body that no route dispatched (see tests/FIXTURES.md)."""

CLI_COMMANDS = "RUNTIME_CLI"
"""Module-level list a fixture may define: ``flask`` commands (argument lists, e.g.
``[["rq", "worker"]]``) the harness invokes after the routes, as a deployment runs its queue
workers; queues those commands work are then not drained by the harness's own workers."""


class FixtureConventionError(Exception):
    """The fixture breaks a convention of tests/FIXTURES.md the harness cannot work around
    (e.g. a task that needs arguments it did not declare); reported as the run's error."""


TaskRunner = Callable[[Any, Dict[str, Any]], None]
"""``runner(module, task_args)``: runs the module's task bodies no route ran."""

LIBRARY_PROBES: Dict[str, str] = {
    "gevent": "runtime.greenlets:install_gevent",
    "eventlet": "runtime.greenlets:install_eventlet",
    "asgiref.sync": "runtime.asyncviews:install_asgiref",
    "apscheduler.schedulers.base": "runtime.scheduling:install_apscheduler",
    # The package, not celery.app.task: that is imported only when a task proxy is first
    # evaluated, which a task no route calls may never be before the harness looks for it.
    "celery": "runtime.taskqueues:install_celery",
    "rq": "runtime.taskqueues:install_rq",
    "dramatiq": "runtime.taskqueues:install_dramatiq",
    "huey.api": "runtime.taskqueues:install_huey",
}
"""Library module -> ``probe_module:function(probes, library_module)`` run when a fixture
imports it.  Both the library and the probe module are imported only then: every fixture
interpreter compiles the harness afresh (no bytecode is written here), and the libraries
cost 50-450 ms each to import, so a fixture pays only for what it uses."""

EXCEPTION_SITES = "_fcx_sites"
"""Attribute a probe sets on an exception passing through it: the sites of the dispatch
that exception belongs to, when the recorder sees it elsewhere (``response.close()``)."""

_REMOTE_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


@dataclass
class Observation:
    """One thing that went wrong (or silently wrong) somewhere the request reached."""

    kind: str
    source: str
    callable: str
    thread: str
    exc_type: str
    message: str
    where: str = ""
    note: str = ""
    route: str = ""
    sites: Tuple[str, ...] = ()
    """Fixture lines of the calls that led here (see :mod:`runtime.sites`): the dispatch
    and the failing frames.  A marker is proven only by an observation at its own line."""

    def describe(self) -> str:
        """One line for humans: what, raised where, by which dispatched callable."""
        running = f"{self.source} running {self.callable}" if self.callable else self.source
        text = f"{self.exc_type}: {self.message} [in {running}, thread {self.thread!r}"
        if self.where:
            text += f", at {self.where}"
        if self.route:
            text += f", route {self.route}"
        if self.sites:
            text += f", sites {' '.join(self.sites)}"
        text += "]"
        if self.note:
            text += f" ({self.note})"
        return text


def describe_callable(fn: Any) -> str:
    """A readable name for a dispatched callable: ``worker()``, ``partial(worker, ...)``."""
    if isinstance(fn, functools.partial):
        return f"partial({describe_callable(fn.func)}, ...)"
    self_obj = getattr(fn, "__self__", None)
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    if self_obj is not None and "." not in name:
        name = f"{type(self_obj).__qualname__}.{name}"
    return f"{name}()"


def _module_of(fn: Any) -> str:
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif getattr(fn, "__wrapped__", None) is not None:
            fn = fn.__wrapped__
        else:
            break
    return str(getattr(fn, "__module__", "") or "")


def is_infrastructure(fn: Any) -> bool:
    """True for the stdlib's own pool/queue machinery, which the harness must not gate."""
    module = _module_of(fn)
    return any(module == m or module.startswith(m + ".") for m in _INFRASTRUCTURE_MODULES)


def user_callable_of(thread: threading.Thread) -> Any:
    """What a thread will really run: Timer function, overridden ``run``, or ``target``.

    A ``run`` overridden by a library class (Flask-Threads' ``AppContextThread`` pushes an
    app context, then calls ``Thread.run``) is machinery: the user's work is its target.
    """
    if isinstance(thread, threading.Timer):
        return thread.function
    run = type(thread).run
    target = getattr(thread, "_target", None)
    if run is not threading.Thread.run and (target is None or not is_infrastructure(run)):
        return run
    return target


class Gate:
    """Holds dispatched work until the request that dispatched it has finished.

    Without it, whether a worker touches ``request.files[...]`` before or after Flask closes
    the file is a race; with it, the worker always runs in the situation production hits
    under load.  The gate is open outside requests (import-time work runs at once).
    """

    def __init__(self, fallback: float) -> None:
        self.fallback = fallback
        self._event = threading.Event()
        self._event.set()
        self.opened_by = ""
        self.fallbacks = 0

    def close(self) -> None:
        self._event = threading.Event()
        self.opened_by = ""

    def open(self, why: str) -> None:
        if not self._event.is_set():
            self.opened_by = why
            self._event.set()

    def is_open(self) -> bool:
        return self._event.is_set()

    def ticket(self) -> threading.Event:
        """The event of the current request; work waits on the one it was dispatched under."""
        return self._event

    def hold(self, ticket: threading.Event) -> None:
        if not ticket.wait(self.fallback):
            self.fallbacks += 1
            ticket.set()


@dataclass
class _Running:
    """Record of the dispatched callable running here (for event attribution)."""

    source: str = ""
    callable: str = ""
    sites: Tuple[str, ...] = ()


_RUNNING: "contextvars.ContextVar[Optional[_Running]]" = contextvars.ContextVar(
    "fcx_runtime_running", default=None
)
"""A context variable, not a thread-local: greenlets share their thread but each has a
context of its own, and every new thread starts with an empty one."""


class Recorder:
    """Collects observations, deduplicated, from every thread of the subprocess."""

    def __init__(self, fixture_dir: Path) -> None:
        self.fixture_dir = str(fixture_dir.resolve())
        self.sites = SiteFinder(self.fixture_dir)
        self.driver = threading.main_thread()
        self.observations: List[Observation] = []
        self.route = ""
        self._exceptions: List[Tuple[BaseException, Observation]] = []
        self._event_keys: Set[Tuple[str, ...]] = set()
        self._user_none_threads: Set[int] = set()
        self._pending_view: List[BaseException] = []
        self.completed: List[Dict[str, str]] = []
        self.entry_tiers = kinds.entry_tiers(server_name=False)
        """Set by the harness once it knows whether an app sets ``SERVER_NAME``."""
        self.view_threads: Set[int] = set()
        """Threads that run a view for the driver (asgiref's event loop for async views)."""
        self._lock = threading.RLock()

    # -- attribution -------------------------------------------------------------------------
    def running(self) -> _Running:
        return _RUNNING.get() or _Running()

    def in_worker(self) -> bool:
        """True off the request's own flow: another thread, or a greenlet spawned by it.

        The request runs on the driver thread (or, for an ``async def`` view, on the event
        loop thread asgiref runs it in); a gevent/eventlet greenlet shares that thread but is
        not the thread's main greenlet.
        """
        thread = threading.current_thread()
        if thread is not self.driver and thread.ident not in self.view_threads:
            return True
        greenlet = sys.modules.get("greenlet")
        return greenlet is not None and greenlet.getcurrent().parent is not None

    def in_fixture(self, filename: str) -> bool:
        return os.path.abspath(filename).startswith(self.fixture_dir + os.sep)

    def _where(self, filename: str, lineno: int, function: str) -> str:
        return f"{os.path.basename(filename)}:{lineno} in {function}"

    def locate(self, exc: BaseException) -> Tuple[str, Optional[Tuple[str, str]]]:
        """Innermost fixture frame of the traceback, and the library function it called."""
        frames = list(traceback.walk_tb(exc.__traceback__))
        index = None
        for i, (frame, _lineno) in enumerate(frames):
            if self.in_fixture(frame.f_code.co_filename):
                index = i
        if index is not None:
            frame, lineno = frames[index]
            where = self._where(frame.f_code.co_filename, lineno, frame.f_code.co_name)
            entry = None
            if index + 1 < len(frames):
                callee = frames[index + 1][0]
                entry = (str(callee.f_globals.get("__name__", "")), callee.f_code.co_name)
            return where, entry
        # Process pools / multiprocessing.Pool: the frames are text in the chained cause.
        remote = "".join(str(e) for e in (exc.__cause__, exc.__context__) if e is not None)
        return self.locate_text(remote), None

    def locate_text(self, text: str) -> str:
        where = ""
        for filename, lineno, function in _REMOTE_FRAME.findall(text):
            if self.in_fixture(filename):
                where = self._where(filename, int(lineno), function)
        return where

    # -- recording ---------------------------------------------------------------------------
    def recorded(self, exc: BaseException) -> Optional[Observation]:
        with self._lock:
            for seen, observation in self._exceptions:
                if seen is exc:
                    return observation
        return None

    def exception(
        self,
        exc: BaseException,
        source: str,
        callable_name: str = "",
        thread: Optional[str] = None,
        sites: Tuple[str, ...] = (),
    ) -> Optional[Observation]:
        """Record ``exc`` once (the same object may surface in a worker and its future).

        Its sites: those of the dispatch (``sites``, or the running work's), any a probe
        attached to the exception on its way (:data:`EXCEPTION_SITES`), and the fixture
        frames of its traceback."""
        if isinstance(exc, SystemExit):
            return None
        with self._lock:
            if self.recorded(exc) is not None:
                return None
            thread_obj = threading.current_thread()
            where, entry = self.locate(exc)
            message = str(exc)
            kind, note = kinds.classify(
                type(exc).__name__,
                message,
                source,
                entry,
                after_user_none=thread_obj.ident in self._user_none_threads,
                tiers=self.entry_tiers,
            )
            observation = Observation(
                kind=kind,
                source=source,
                callable=callable_name,
                thread=thread if thread is not None else thread_obj.name,
                exc_type=type(exc).__name__,
                message=_first_line(message),
                where=where,
                note=note,
                route=self.route,
                sites=merge(
                    sites or self.running().sites,
                    getattr(exc, EXCEPTION_SITES, ()),
                    self.sites.of_traceback(exc),
                ),
            )
            self._exceptions.append((exc, observation))
            self.observations.append(observation)
            return observation

    def remote(
        self, record: Dict[str, str], source: str, sites: Tuple[str, ...] = ()
    ) -> None:
        """A failure reported as text by a spawned child process (``sites``: where the
        parent built and started that process)."""
        kind, note = kinds.classify(record["exc_type"], record["message"], source)
        with self._lock:
            self.observations.append(
                Observation(
                    kind=kind,
                    source=source,
                    callable=record.get("callable", ""),
                    thread=record.get("process", "child process"),
                    exc_type=record["exc_type"],
                    message=_first_line(record["message"]),
                    where=self.locate_text(record.get("traceback", "")),
                    note=note,
                    route=self.route,
                    sites=merge(sites, self.sites.of_text(record.get("traceback", ""))),
                )
            )

    def event(
        self,
        kind: str,
        source: str,
        message: str,
        frame: Optional[FrameType],
        note: str = "",
        sites: Tuple[str, ...] = (),
    ) -> None:
        """A silent failure seen by a probe (no exception) in ``frame`` (the fixture's
        caller), recorded once per place+thread."""
        where = self.fixture_frame(frame)
        running = self.running()
        thread = threading.current_thread()
        key = (kind, source, where, thread.name, self.route)
        with self._lock:
            if kind == kinds.REQUEST and source == "current_user":
                self._user_none_threads.add(thread.ident or 0)
            if key in self._event_keys:
                return
            self._event_keys.add(key)
            self.observations.append(
                Observation(
                    kind=kind,
                    source=running.source or source,
                    callable=running.callable,
                    thread=thread.name,
                    exc_type=source,
                    message=message,
                    where=where,
                    note=note,
                    route=self.route,
                    sites=merge(sites, running.sites, self.sites.of_stack(frame)),
                )
            )

    def finished(self, source: str, callable_name: str, raised: str) -> None:
        """Evidence that dispatched work really ran (a clean negative must not be vacuous)."""
        with self._lock:
            self.completed.append(
                {"route": self.route, "work": f"{source} running {callable_name}", "raised": raised}
            )

    def fixture_frame(self, frame: Optional[FrameType]) -> str:
        """The nearest fixture frame on the current stack, as ``file:line in function``."""
        while frame is not None:
            if self.in_fixture(frame.f_code.co_filename):
                return self._where(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
            frame = frame.f_back
        return ""

    # -- the view ----------------------------------------------------------------------------
    def view_exception(self, exc: BaseException) -> None:
        with self._lock:
            if all(exc is not seen for seen in self._pending_view):
                self._pending_view.append(exc)

    def settle_view_exceptions(self) -> int:
        """Attach each view exception to the worker failure it re-raised, else record it.

        A view that waits for a failing worker (``future.result()``) re-raises the worker's
        own exception object: that is the worker's failure, not a fixture bug.  Returns how
        many view exceptions there were (so an HTTP 500 without one can be reported).
        """
        with self._lock:
            pending, self._pending_view = self._pending_view, []
        for exc in pending:
            chain: List[BaseException] = []
            current: Optional[BaseException] = exc
            while current is not None and current not in chain:
                chain.append(current)
                current = current.__cause__ or current.__context__
            origin = next((o for o in map(self.recorded, chain) if o is not None), None)
            if origin is not None:
                origin.note = _join(origin.note, "re-raised in the view (HTTP 500)")
                continue
            observation = self.exception(exc, kinds.SOURCE_VIEW)
            if observation is not None:
                observation.kind = kinds.VIEW_ERROR
                observation.note = _join(observation.note, "the view itself failed")
        return len(pending)

    def as_json(self) -> List[Dict[str, str]]:
        with self._lock:
            return [asdict(o) for o in self.observations]


def patch(owner: Any, name: str, replacement: Any) -> None:
    """Replace ``owner.name`` for the rest of this (throw-away) interpreter.

    One named helper instead of bare assignments: every monkeypatch of the harness is
    greppable, and none of them needs undoing because the process dies with the fixture.
    """
    setattr(owner, name, replacement)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


@dataclass
class Tracker:
    """Everything a request started that the harness must wait for."""

    threads: List[Tuple[threading.Thread, str]] = field(default_factory=list)
    futures: List[Tuple["Future[Any]", str, str]] = field(default_factory=list)
    processes: List[Tuple[multiprocessing.process.BaseProcess, str]] = field(default_factory=list)
    pool_results: List[Any] = field(default_factory=list)
    handles: List["Handle"] = field(default_factory=list)
    """Work whose completion a probe signals itself (raw threads, greenlets, jobs, tasks)."""
    abandoned: Set[int] = field(default_factory=set)
    """Work reported as hung once: not waited for (or reported) again."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pending(self) -> List["Pending"]:
        """Every item not finished yet (and not already given up on)."""
        waits: List[Pending] = []
        with self.lock:
            for thread, name in self.threads:
                if thread.is_alive():
                    source = type(thread).__name__
                    waits.append(Pending(id(thread), source, name, thread.name, thread.join))
            for future, name, source in self.futures:
                if not future.done():
                    wait = _future_waiter(future)
                    waits.append(Pending(id(future), source, name, "pool worker", wait))
            for process, name in self.processes:
                if process.is_alive():
                    source = "multiprocessing.Process"
                    waits.append(Pending(id(process), source, name, process.name, process.join))
            for result in self.pool_results:
                if not _pool_result_done(result):
                    waits.append(
                        Pending(
                            id(result),
                            "multiprocessing.Pool",
                            "a pool task",
                            "pool worker",
                            _pool_waiter(result, self.abandoned),
                        )
                    )
            for h in self.handles:
                if not h.done():
                    waits.append(Pending(id(h), h.source, h.callable, h.thread, h.wait))
            return [p for p in waits if p.key not in self.abandoned]


class Unstarted:
    """Threads and processes built by fixture code, until they are started.

    A ``Thread(target=work)`` the fixture builds but never starts runs nothing: a negative
    fixture would pass without its work ever running, and a positive would prove nothing.
    What is still here after a request is reported (kind ``not-started``).
    """

    def __init__(self) -> None:
        self._built: Dict[int, Tuple[Any, Tuple[str, ...], str, str]] = {}
        self._lock = threading.Lock()

    def built(self, work: Any, sites: Tuple[str, ...], kind: str, route: str = "") -> None:
        with self._lock:
            self._built[id(work)] = (work, sites, kind, route)

    def started(self, work: Any) -> None:
        with self._lock:
            self._built.pop(id(work), None)

    def take(self) -> List[Tuple[Any, Tuple[str, ...], str]]:
        """User work built and not started so far (forgotten once taken); a library's own
        threads (dramatiq's timeout manager...) are machinery, not the fixture's work."""
        with self._lock:
            left = [(work, sites, kind) for work, sites, kind, _route in self._built.values()]
            self._built.clear()
        return [entry for entry in left if _is_user_work(entry[0])]


def _is_user_work(work: Any) -> bool:
    if isinstance(work, threading.Thread):
        target = user_callable_of(work)
    else:
        target = getattr(work, "_target", None)
        if type(work).run is not multiprocessing.process.BaseProcess.run:
            target = type(work).run
    return target is not None and not is_infrastructure(target)


@dataclass
class Handle:
    """Work a probe started: how to tell that it finished, and how to wait for it.

    ``wait`` is always called on the driver thread, after the request: greenlets run only
    when that thread hands control to their hub, so waiting for them *is* running them.
    """

    source: str
    callable: str
    thread: str
    done: Callable[[], bool]
    wait: Callable[[float], None]

    @classmethod
    def for_event(cls, event: threading.Event, source: str, name: str, thread: str) -> "Handle":
        """Work that sets ``event`` when it ends (in whatever thread it runs)."""
        return cls(source, name, thread, event.is_set, _event_waiter(event))


@dataclass
class Pending:
    """Unfinished work: what it is, and how to wait for it."""

    key: int
    source: str
    callable: str
    thread: str
    wait: Callable[[float], None]


def _future_waiter(future: "Future[Any]") -> Callable[[float], None]:
    def wait(timeout: float) -> None:
        try:
            future.exception(timeout=timeout)
        except BaseException:  # noqa: B036 - timeouts and cancellation: only waiting here
            pass

    return wait


def _event_waiter(event: threading.Event) -> Callable[[float], None]:
    def wait(timeout: float) -> None:
        event.wait(timeout)

    return wait


def _pool_result_done(result: Any) -> bool:
    if isinstance(result, multiprocessing.pool.ApplyResult):
        return result.ready()
    length = getattr(result, "_length", None)
    return length is not None and getattr(result, "_index", -1) >= length


def _pool_waiter(result: Any, abandoned: Set[int]) -> Callable[[float], None]:
    """Waits for ``result``, or until it is given up on (its callback raised, so it
    will never complete)."""

    def wait(timeout: float) -> None:
        deadline = _now() + timeout
        while (
            not _pool_result_done(result) and id(result) not in abandoned
            and _now() < deadline
        ):
            threading.Event().wait(0.01)

    return wait


def _now() -> float:
    return time.monotonic()


class Probes:
    """Installs every hook once and exposes the recorder, tracker and gate to the harness."""

    def __init__(self, fixture_dir: Path, process_log: Path, gate_fallback: float) -> None:
        self.recorder = Recorder(fixture_dir)
        self.tracker = Tracker()
        self.gate = Gate(gate_fallback)
        self.process_log = process_log
        self._process_log_read = 0
        self._collected: Set[int] = set()
        self._starting = threading.local()
        self._machinery_wait = threading.local()
        self.drainers: List[Callable[[], None]] = []
        """Run on the driver after each request: start the workers of queued jobs."""
        self.task_runners: List[TaskRunner] = []
        """Run once after every route: run the task bodies no route dispatched."""
        self.unstarted = Unstarted()
        """Threads and processes the fixture built: one never started proves nothing."""
        self.process_sites: Dict[str, Tuple[str, ...]] = {}
        """Process name -> where the fixture built and started it (children report by name)."""
        self.stream_sites: List[str] = []
        """Where, during the current request, fixture code handed Flask an iterable body."""
        self.cli_workers = False
        """True when the fixture runs its own queue workers from ``flask`` commands
        (:data:`CLI_COMMANDS`): drainers of those queues (RQ) leave the jobs waiting."""

    # -- helpers used by the hooks -----------------------------------------------------------
    def _driver_blocks(self, why: str) -> None:
        """The view is about to block on something: let held work go, or it would deadlock."""
        if threading.current_thread() is self.recorder.driver and not self.gate.is_open():
            if not getattr(self._starting, "active", False) and not self.in_machinery_wait():
                self.gate.open(why)

    def view_blocks(self, why: str) -> None:
        """A view running off the driver (an async view's event loop) waits: open the gate."""
        if not self.gate.is_open():
            self.gate.open(why)

    def in_machinery_wait(self) -> bool:
        """True while the driver waits for machinery that runs the view (asgiref's loop)."""
        return bool(getattr(self._machinery_wait, "depth", 0))

    def machinery_wait(self, delta: int) -> None:
        """Enter (+1) or leave (-1) a wait of the driver that is not the view waiting."""
        self._machinery_wait.depth = getattr(self._machinery_wait, "depth", 0) + delta

    def observed(
        self,
        fn: Callable[..., Any],
        source: str,
        name: str,
        gated: bool = True,
        thread: Optional[str] = None,
        done: Optional[threading.Event] = None,
        sites: Tuple[str, ...] = (),
    ) -> Callable[..., Any]:
        """``fn`` held at the gate, recording its exception where it runs (re-raised).

        Called where the work is dispatched: the fixture calls on the stack now (and
        ``sites``, e.g. where a thread was built) are the dispatch's sites, which every
        observation of this work carries.

        ``gated=False`` for greenlets: they run on the driver thread itself, only when it
        yields to their hub, so holding one would block the request it waits for.  ``thread``
        names the place in reports (default: the current thread's name); ``done`` is set
        when the call ends, for work tracked through a :class:`Handle`.
        """
        ticket = self.gate.ticket()
        recorder = self.recorder
        gate = self.gate
        running = _Running(
            source,
            name,
            merge(
                sites,
                built_sites(fn),
                self.recorder.sites.header(fn),
                self.here(sys._getframe(1)),
            ),
        )

        def run_observed(*args: Any, **kwargs: Any) -> Any:
            if gated:
                gate.hold(ticket)
            token = _RUNNING.set(running)
            try:
                value = fn(*args, **kwargs)
            except BaseException as exc:
                recorder.exception(exc, source, name, thread, running.sites)
                recorder.finished(source, name, type(exc).__name__)
                raise
            else:
                recorder.finished(source, name, "")
                return value
            finally:
                _RUNNING.reset(token)
                if done is not None:
                    done.set()

        return run_observed

    def here(self, frame: Optional[FrameType]) -> Tuple[str, ...]:
        """The fixture's sites on the stack from ``frame`` out (where work is dispatched)."""
        return self.recorder.sites.of_stack(frame)

    def track(self, handle: Handle) -> None:
        """Wait for ``handle`` after the request, like a thread the request started."""
        with self.tracker.lock:
            self.tracker.handles.append(handle)

    def add_drainer(self, drain: Callable[[], None]) -> None:
        self.drainers.append(drain)

    def add_task_runner(self, runner: "TaskRunner") -> None:
        self.task_runners.append(runner)

    def drain(self) -> None:
        """Let the workers of task queues take what the request queued (driver thread)."""
        for drain in list(self.drainers):
            drain()

    def run_task_bodies(self, module: Any) -> None:
        """Run every task body defined by ``module`` that no route ran (see FIXTURES.md)."""
        declared = getattr(module, TASK_ARGS, None)
        task_args: Dict[str, Any] = dict(declared) if isinstance(declared, dict) else {}
        for runner in list(self.task_runners):
            runner(module, task_args)

    def start_worker_thread(self, target: Callable[[], None], source: str, name: str) -> None:
        """A thread of the harness's own that plays a library's worker (RQ, huey).

        Its target is harness code, so the ``Thread.start`` hook neither holds nor tracks
        it; it is tracked here, and the jobs it runs record themselves.
        """
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.track(Handle(source, name, name, lambda: not thread.is_alive(), thread.join))

    def _library_probe(self, where: str) -> Callable[[ModuleType], None]:
        """The hook that imports the probe module (only now: see LIBRARY_PROBES) and runs it."""

        def install(library: ModuleType) -> None:
            module_name, function = where.split(":")
            getattr(importlib.import_module(module_name), function)(self, library)

        return install

    # -- installation ------------------------------------------------------------------------
    def install(self) -> None:
        self._install_threading()
        self._install_raw_threads()
        self._install_atexit()
        self._install_finalize()
        self._install_futures()
        self._install_multiprocessing()
        self._install_flask()
        self._install_flask_login()
        when_imported("flaskthreads", self._install_flask_threads)
        for library, where in LIBRARY_PROBES.items():
            when_imported(library, self._library_probe(where))
        for name in ("cpu_count", "process_cpu_count"):  # pools size by either (3.13+)
            real = getattr(os, name, None)
            if real is not None:
                patch(os, name, _capped(real))

    def _install_atexit(self) -> None:
        """``atexit.register(fn, ...)``: the callback runs when the interpreter exits, in
        no context.  Here it runs when the harness waits for the request's work (after
        the request, its contexts popped: what exit finds too), observed like any
        dispatched work, and once only: the real exit does not run it again."""
        import atexit

        probes = self
        pending: List[Tuple[Callable[..., Any], Tuple[Any, ...], Dict[str, Any]]] = []

        def register(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
            name = getattr(fn, "__name__", "callback")
            pending.append((probes.observed(fn, "atexit", name, gated=False), args, kwargs))
            return fn

        def drain() -> None:
            while pending:
                observed, args, kwargs = pending.pop(0)
                try:
                    observed(*args, **kwargs)
                except BaseException:  # recorded where it was raised
                    pass

        patch(atexit, "register", register)
        self.add_drainer(drain)

    def _install_finalize(self) -> None:
        """``weakref.finalize(obj, fn, ...)``: ``fn`` runs when ``obj`` is collected --
        inside the request if the request drops it, after it if ``g`` held it.  The
        callback is observed like dispatched work (not held at the gate: it runs where
        the collection happens).  When the harness waits for the request's work, it
        collects garbage and then runs the finalizers still alive, as interpreter exit
        would (outside any context)."""
        import gc
        import weakref

        probes = self
        made: List[weakref.finalize] = []
        original = weakref.finalize

        class ObservedFinalize(original):  # type: ignore[misc, valid-type]
            def __init__(self, obj: Any, func: Callable[..., Any], /, *args: Any,
                         **kwargs: Any) -> None:
                name = getattr(func, "__name__", "callback")
                observed = probes.observed(func, "weakref.finalize", name, gated=False)
                super().__init__(obj, observed, *args, **kwargs)
                made.append(self)

        def drain() -> None:
            gc.collect()
            while made:
                finalizer = made.pop(0)
                try:
                    finalizer()
                except BaseException:  # recorded where it was raised
                    pass

        patch(weakref, "finalize", ObservedFinalize)
        self.add_drainer(drain)

    def _install_threading(self) -> None:
        probes = self
        recorder = self.recorder
        original_init = threading.Thread.__init__
        original_start = threading.Thread.start
        original_join = threading.Thread.join
        original_wait = threading.Condition.wait

        def init(thread: threading.Thread, *args: Any, **kwargs: Any) -> None:
            original_init(thread, *args, **kwargs)
            # Where the fixture built it: ``Thread(target=work)`` is the dispatch site even
            # when ``start()`` is called on another line.
            built = probes.here(sys._getframe(1))
            setattr(thread, EXCEPTION_SITES, built)
            if built:  # user work or not is asked later: a Timer is not fully built yet
                probes.unstarted.built(thread, built, type(thread).__name__)

        def start(thread: threading.Thread) -> None:
            probes.unstarted.started(thread)
            target = user_callable_of(thread)
            if target is not None and not is_infrastructure(target):
                source = "Timer" if isinstance(thread, threading.Timer) else type(thread).__name__
                name = describe_callable(target)
                built = merge(
                    getattr(thread, EXCEPTION_SITES, ()),
                    built_sites(target),
                    probes.recorder.sites.header(target),
                )
                patch(thread, "run", probes.observed(thread.run, source, name, sites=built))
                with probes.tracker.lock:
                    probes.tracker.threads.append((thread, name))
            probes._starting.active = True
            try:
                original_start(thread)
            finally:
                probes._starting.active = False

        def join(thread: threading.Thread, timeout: Optional[float] = None) -> None:
            probes._driver_blocks("the view joined a thread")
            original_join(thread, timeout)

        def wait(condition: threading.Condition, timeout: Optional[float] = None) -> bool:
            if timeout is None or timeout > 0:
                probes._driver_blocks("the view waited for a result")
            return original_wait(condition, timeout)

        def excepthook(args: Any) -> None:
            if args.exc_value is not None:
                target = user_callable_of(args.thread) if args.thread is not None else None
                recorder.exception(
                    args.exc_value,
                    "thread",
                    describe_callable(target) if target is not None else "",
                    args.thread.name if args.thread is not None else None,
                    getattr(args.thread, EXCEPTION_SITES, ()),
                )

        patch(threading.Thread, "__init__", init)
        patch(threading.Thread, "start", start)
        patch(threading.Thread, "join", join)
        patch(threading.Condition, "wait", wait)
        threading.excepthook = excepthook

    def _install_raw_threads(self) -> None:
        probes = self
        original = _thread.start_new_thread

        def start_new_thread(
            function: Callable[..., Any],
            args: Tuple[Any, ...],
            kwargs: Optional[Dict[str, Any]] = None,
        ) -> int:
            name = describe_callable(function)
            done = threading.Event()
            observed = probes.observed(function, "_thread", name)
            probes.track(Handle.for_event(done, "_thread", name, "raw thread"))

            def run(*a: Any, **kw: Any) -> None:
                try:
                    observed(*a, **kw)
                except BaseException:  # noqa: B036 - already recorded; a raw thread just ends
                    pass
                finally:
                    done.set()

            return original(run, args, kwargs or {})

        patch(_thread, "start_new_thread", start_new_thread)
        if hasattr(_thread, "start_new"):  # the old alias
            patch(_thread, "start_new", start_new_thread)

    def _install_futures(self) -> None:
        probes = self
        thread_submit = ThreadPoolExecutor.submit
        process_submit = ProcessPoolExecutor.submit

        def submit_thread(
            executor: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> "Future[Any]":
            if is_infrastructure(fn):  # asgiref's event loop, APScheduler's run_job...
                return thread_submit(executor, fn, *args, **kwargs)
            name = describe_callable(fn)
            observed = probes.observed(fn, "ThreadPoolExecutor", name)
            future = thread_submit(executor, observed, *args, **kwargs)
            with probes.tracker.lock:
                probes.tracker.futures.append((future, name, "ThreadPoolExecutor"))
            return future

        def submit_process(
            executor: ProcessPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> "Future[Any]":
            name = describe_callable(_unwrap_process_chunk(fn))
            future = process_submit(executor, fn, *args, **kwargs)
            setattr(future, EXCEPTION_SITES, probes.here(sys._getframe(1)))
            with probes.tracker.lock:
                probes.tracker.futures.append((future, name, "ProcessPoolExecutor"))
            return future

        patch(ThreadPoolExecutor, "submit", submit_thread)
        patch(ProcessPoolExecutor, "submit", submit_process)

        # Done callbacks run in the worker that completes the future (or at once, in
        # the caller, for a future already done: never held); concurrent.futures only
        # logs their exceptions, so they are recorded here.
        add_done_callback = Future.add_done_callback

        def add_callback(future: "Future[Any]", fn: Callable[..., Any]) -> None:
            name = describe_callable(fn)
            add_done_callback(future, probes.observed(fn, "done callback", name, gated=False))

        patch(Future, "add_done_callback", add_callback)

        # A pool's initializer runs in each worker thread it starts; a failing one is
        # only logged (and breaks the pool), so it is recorded here and held like a task.
        thread_init = ThreadPoolExecutor.__init__

        def init_thread_pool(executor: ThreadPoolExecutor, *args: Any, **kwargs: Any) -> None:
            values = list(args)
            if len(values) > 2 and values[2] is not None:
                values[2] = probes.observed(values[2], "ThreadPoolExecutor initializer",
                                            describe_callable(values[2]))
            elif kwargs.get("initializer") is not None:
                kwargs["initializer"] = probes.observed(
                    kwargs["initializer"], "ThreadPoolExecutor initializer",
                    describe_callable(kwargs["initializer"]),
                )
            thread_init(executor, *values, **kwargs)

        patch(ThreadPoolExecutor, "__init__", init_thread_pool)

    def _install_flask_threads(self, package: Any) -> None:
        """Flask-Threads' executor copies the stdlib pool instead of subclassing it.

        ``ThreadPoolWithAppContextExecutor.submit`` is wrapped like ``ThreadPoolExecutor``'s
        (future tracked, exception recorded in the worker), and each work item is held at the
        gate *before* it pushes the app context: the request's own ``AppContext`` object is
        pushed in the worker, and one pushed while the request is still active makes the
        request's teardown fail (``ValueError: ... created in a different Context``, checked
        with Flask 3.1).  Holding before the push is the schedule of a busy pool: the item
        waits in the queue until the request ended.  The pool's ``_worker`` threads are
        machinery; ``AppContextThread`` is a thread like any other (held before its ``run``,
        which pushes the app context and then runs the target).
        """
        probes = self
        helpers = package.thread_helpers
        executor_class = helpers.ThreadPoolWithAppContextExecutor
        work_item_class = helpers._WorkItemWithContext
        original_submit = executor_class.submit
        original_item_init = work_item_class.__init__
        original_item_run = work_item_class.run
        source = executor_class.__name__

        def submit(executor: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            name = describe_callable(fn)
            observed = probes.observed(fn, source, name, gated=False)
            future = original_submit(executor, observed, *args, **kwargs)
            with probes.tracker.lock:
                probes.tracker.futures.append((future, name, source))
            return future

        def item_init(item: Any, *args: Any, **kwargs: Any) -> None:
            original_item_init(item, *args, **kwargs)
            item.fcx_ticket = probes.gate.ticket()

        def item_run(item: Any) -> None:
            probes.gate.hold(item.fcx_ticket)
            original_item_run(item)

        patch(executor_class, "submit", submit)
        patch(work_item_class, "__init__", item_init)
        patch(work_item_class, "run", item_run)

    def collect_futures(self) -> None:
        """Record failures of finished futures (process pools report only through these)."""
        with self.tracker.lock:
            futures = list(self.tracker.futures)
        for future, name, source in futures:
            if source != "ProcessPoolExecutor" or id(future) in self._collected:
                continue  # thread-pool work records itself in its own thread
            if future.done() and not future.cancelled():
                self._collected.add(id(future))
                exc = future.exception()
                if exc is not None:
                    self.recorder.exception(
                        exc, source, name, f"{source} worker", getattr(future, EXCEPTION_SITES, ())
                    )
                self.recorder.finished(source, name, type(exc).__name__ if exc else "")

    def _install_multiprocessing(self) -> None:
        probes = self
        multiprocessing.set_start_method("spawn", force=True)
        os.environ[PROCESS_LOG_ENV] = str(self.process_log)
        original_start = multiprocessing.process.BaseProcess.start
        original_init = multiprocessing.process.BaseProcess.__init__

        def init(process: multiprocessing.process.BaseProcess, *args: Any, **kwargs: Any) -> None:
            original_init(process, *args, **kwargs)
            built = probes.here(sys._getframe(1))
            setattr(process, EXCEPTION_SITES, built)
            if built:
                probes.unstarted.built(process, built, type(process).__name__)

        def start(process: multiprocessing.process.BaseProcess) -> None:
            probes.unstarted.started(process)
            sites = merge(getattr(process, EXCEPTION_SITES, ()), probes.here(sys._getframe(1)))
            probes.process_sites[process.name] = sites
            target = getattr(process, "_target", None)
            if type(process).run is not multiprocessing.process.BaseProcess.run:
                target = type(process).run
            if target is not None and not is_infrastructure(target):
                with probes.tracker.lock:
                    probes.tracker.processes.append((process, describe_callable(target)))
            original_start(process)

        patch(multiprocessing.process.BaseProcess, "__init__", init)
        patch(multiprocessing.process.BaseProcess, "start", start)

        def track(cls: Any) -> None:
            original_init = cls.__init__

            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                original_init(self, *args, **kwargs)
                if not getattr(self, EXCEPTION_SITES, ()):  # MapResult runs this twice
                    setattr(self, EXCEPTION_SITES, probes.here(sys._getframe(1)))
                probes._observe_pool_callbacks(self)
                with probes.tracker.lock:
                    probes.tracker.pool_results.append(self)

            patch(cls, "__init__", __init__)

        def record_failures(cls: Any) -> None:
            original_set = cls.__dict__["_set"]

            def _set(self: Any, i: int, obj: Tuple[bool, Any]) -> None:
                success, value = obj
                # A failure handed to the task's ``error_callback`` is the program's
                # to handle (what that callback does is observed on its own).
                handled = getattr(self, "_error_callback", None) is not None
                if not success and isinstance(value, BaseException) and not handled:
                    probes.recorder.exception(
                        value, "multiprocessing.Pool", "a pool task", "pool worker",
                        getattr(self, EXCEPTION_SITES, ()),
                    )
                raised = "" if success else type(value).__name__
                probes.recorder.finished("multiprocessing.Pool", "a pool task", raised)
                original_set(self, i, obj)

            patch(cls, "_set", _set)

        track(multiprocessing.pool.ApplyResult)
        track(multiprocessing.pool.IMapIterator)
        for cls in (
            multiprocessing.pool.ApplyResult,
            multiprocessing.pool.MapResult,
            multiprocessing.pool.IMapIterator,
            multiprocessing.pool.IMapUnorderedIterator,
        ):
            record_failures(cls)

    def _observe_pool_callbacks(self, result: Any) -> None:
        """A pool result's ``callback``/``error_callback`` run in the pool's
        result-handler thread of this process, held until the request ended like any
        work.  One that raises kills that thread (its exception reaches
        ``threading.excepthook``) and the result never completes: the pool hangs.  The
        exception is recorded here, where it is raised, and the result is given up on
        (not waited for, nor reported again as hung work)."""
        tracker = self.tracker
        for attribute, source in (
            ("_callback", "multiprocessing pool callback"),
            ("_error_callback", "multiprocessing pool error_callback"),
        ):
            callback = getattr(result, attribute, None)
            if callback is None:
                continue
            observed = self.observed(callback, source, describe_callable(callback))

            def run(value: Any, observed: Callable[..., Any] = observed) -> Any:
                try:
                    return observed(value)
                except BaseException:
                    with tracker.lock:
                        tracker.abandoned.add(id(result))
                    raise

            setattr(result, attribute, run)

    def collect_processes(self) -> None:
        """Read what spawned children wrote about their own failures since last time."""
        with self.tracker.lock:
            processes = list(self.tracker.processes)
        for process, name in processes:
            if id(process) not in self._collected and process.exitcode is not None:
                self._collected.add(id(process))
                code = process.exitcode
                self.recorder.finished(
                    "multiprocessing.Process", name, f"exit code {code}" if code else ""
                )
        try:
            with open(self.process_log, encoding="utf-8") as log:
                log.seek(self._process_log_read)
                text = log.read()
                self._process_log_read = log.tell()
        except FileNotFoundError:
            return
        for line in text.splitlines():
            if line.strip():
                record = json.loads(line)
                sites = self.process_sites.get(str(record.get("process", "")), ())
                self.recorder.remote(record, "multiprocessing.Process", sites)

    def _install_flask(self) -> None:
        import flask
        from flask.ctx import _AppCtxGlobals
        from flask.globals import _cv_request

        recorder = self.recorder

        def on_exception(sender: Any, exception: BaseException, **extra: Any) -> None:
            # Flask's own send, from ``handle_exception``; a fixture's explicit
            # ``got_request_exception.send(...)`` is the fixture's business.
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_name != "handle_exception":
                frame = frame.f_back  # type: ignore[assignment]
            if frame is not None and "flask" in frame.f_code.co_filename:
                recorder.view_exception(exception)

        flask.got_request_exception.connect(on_exception, weak=False)

        original_trc = flask.Flask.test_request_context

        def test_request_context(app: flask.Flask, *args: Any, **kwargs: Any) -> Any:
            context = original_trc(app, *args, **kwargs)
            caller = sys._getframe(1)
            if recorder.in_worker() and recorder.in_fixture(caller.f_code.co_filename):
                fake = context.request
                fake.__class__ = _fake_request_class(type(fake), recorder)
                # FCX420's site: where the fake request was made (the ``with`` line).
                fake.__dict__[EXCEPTION_SITES] = recorder.sites.of_stack(caller)
            return context

        patch(flask.Flask, "test_request_context", test_request_context)
        self._install_responses()
        self._install_copies()

        original_get = _AppCtxGlobals.get

        def g_get(g: _AppCtxGlobals, name: str, default: Optional[Any] = None) -> Any:
            caller = sys._getframe(1)
            if (
                name not in g.__dict__
                and recorder.in_worker()
                and _cv_request.get(None) is not None  # a (copied) request context
                and recorder.in_fixture(caller.f_code.co_filename)
            ):
                recorder.event(
                    kinds.G_EMPTY,
                    "g",
                    f"g.get({name!r}) found nothing: the copied request context pushed a fresh g",
                    caller,
                )
            return original_get(g, name, default)

        patch(_AppCtxGlobals, "get", g_get)

    def _install_copies(self) -> None:
        """Sites of the two ways a dispatched callable is put together in the view.

        ``copy_current_request_context(fn)`` (FCX400 is reported at the wrapper): its
        failures (``ValueError: ... different Context``) are raised by Flask's wrapper, no
        fixture frame on the way, so the wrapper carries where it was made.
        ``functools.partial(fn, value)`` (FCX200/FCX210 at the value bound there): the
        partial records the line that built it.  Both are seen by :func:`built_sites` when
        the callable is dispatched.
        """
        import flask
        import flask.ctx

        probes = self
        original_copy = flask.ctx.copy_current_request_context

        def copy_current_request_context(f: Callable[..., Any]) -> Callable[..., Any]:
            wrapper = original_copy(f)
            sites = probes.here(sys._getframe(1))

            @functools.wraps(wrapper)
            def copied(*args: Any, **kwargs: Any) -> Any:
                try:
                    return wrapper(*args, **kwargs)
                except BaseException as exc:
                    attach_sites(exc, sites)
                    raise

            setattr(copied, EXCEPTION_SITES, sites)
            return copied

        patch(flask, "copy_current_request_context", copy_current_request_context)
        patch(flask.ctx, "copy_current_request_context", copy_current_request_context)

        class partial(functools.partial):  # type: ignore[type-arg]
            """``functools.partial`` that remembers the fixture line that built it.

            Named and placed as ``functools.partial`` so pickling (process pools, RQ)
            still finds it by name; a spawned child unpickles a plain partial."""

            def __new__(cls, func: Any, /, *args: Any, **kwargs: Any) -> Any:
                built = super().__new__(cls, func, *args, **kwargs)
                sites = probes.here(sys._getframe(1))
                if sites:
                    built.__dict__[EXCEPTION_SITES] = sites
                return built

        partial.__module__ = "functools"
        partial.__qualname__ = "partial"
        patch(functools, "partial", partial)

    def _install_responses(self) -> None:
        """Sites of what runs after the view: a streamed body and ``call_on_close``.

        A response built by fixture code around an iterable (``Response(gen())``,
        ``make_response(gen())``) records where; ``return gen()`` from a view or helper is
        recorded by the harness's profile of the request (see ``harness.drive``).  A
        ``call_on_close`` callback is wrapped so its failure carries the registration's
        sites (it raises inside ``response.close()``, where no dispatch is on the stack).
        """
        from werkzeug.wrappers import Response as WerkzeugResponse

        probes = self
        original_init = WerkzeugResponse.__init__
        original_call_on_close = WerkzeugResponse.call_on_close

        def init(instance: Any, *args: Any, **kwargs: Any) -> None:
            if is_stream(args[0] if args else kwargs.get("response")):
                probes.stream_sites.extend(probes.here(sys._getframe(1)))
            original_init(instance, *args, **kwargs)

        def call_on_close(response: Any, func: Callable[[], Any]) -> Callable[[], Any]:
            sites = probes.here(sys._getframe(1))
            if not sites:  # werkzeug's own (ClosingIterator.close)
                return original_call_on_close(response, func)
            name = describe_callable(func)

            @functools.wraps(func)
            def closing() -> Any:
                try:
                    value = func()
                except BaseException as exc:
                    attach_sites(exc, sites)
                    probes.recorder.finished("call_on_close", name, type(exc).__name__)
                    raise
                probes.recorder.finished("call_on_close", name, "")
                return value

            original_call_on_close(response, closing)
            return func

        patch(WerkzeugResponse, "__init__", init)
        patch(WerkzeugResponse, "call_on_close", call_on_close)

    def _install_flask_login(self) -> None:
        try:
            import flask_login.utils  # type: ignore[import-untyped]
        except ImportError:
            return
        from flask import has_request_context

        recorder = self.recorder
        original = flask_login.utils._get_user
        proxy_file = os.path.abspath(flask_login.utils.__file__)

        def _get_user() -> Any:
            if not has_request_context():
                caller = sys._getframe(1)
                via_proxy = caller.f_code.co_name == "<lambda>" and (
                    os.path.abspath(caller.f_code.co_filename) == proxy_file
                )
                if via_proxy:
                    recorder.event(
                        kinds.REQUEST,
                        "current_user",
                        "flask_login.current_user is None outside the request",
                        caller,
                    )
            return original()

        patch(flask_login.utils, "_get_user", _get_user)


_FAKE_REQUEST_CLASSES: Dict[type, type] = {}


def _fake_request_class(base: type, recorder: Recorder) -> type:
    """A subclass of ``base`` that records FCX420 when fixture code reads the instance.

    ``app.test_request_context()`` in a worker is only wrong when the worker reads the
    fake request (its args, form, json are empty: silent wrong data); one entered just to
    render a template or build a URL reads nothing from it.  Reads by Flask/Werkzeug
    themselves (pushing the context, cached properties) are not the fixture's: the first
    frame outside ``werkzeug.local`` (the proxy's machinery) must be fixture code.
    """
    known = _FAKE_REQUEST_CLASSES.get(base)
    if known is not None:
        return known

    original: Callable[[Any, str], Any] = getattr(base, "__getattribute__")

    def __getattribute__(self: Any, name: str) -> Any:
        if not name.startswith("_"):
            frame: Optional[FrameType] = sys._getframe(1)
            while frame is not None and frame.f_globals.get("__name__") == "werkzeug.local":
                frame = frame.f_back
            if frame is not None and recorder.in_fixture(frame.f_code.co_filename):
                recorder.event(
                    kinds.FAKE_REQUEST,
                    "test_request_context",
                    f"request.{name} read from app.test_request_context() in a worker: "
                    "an empty, fake request",
                    frame,
                    sites=original(self, "__dict__").get(EXCEPTION_SITES, ()),
                )
        return original(self, name)

    fake_class = type(base.__name__, (base,), {"__getattribute__": __getattribute__})
    _FAKE_REQUEST_CLASSES[base] = fake_class
    return fake_class


def is_stream(value: Any) -> bool:
    """A generator body Flask will pull after the view returned (alone or first in a
    ``(body, status, headers)`` tuple).  Exact type tests only: ``isinstance`` and
    ``hasattr`` would evaluate a context-local proxy (``LocalProxy.__class__``)."""
    if type(value) is tuple and value:
        value = value[0]
    return type(value) is GeneratorType


def built_sites(fn: Any) -> Tuple[str, ...]:
    """Where the dispatched callable was put together: a ``partial`` (the line that bound
    its arguments, e.g. ``partial(work, request.files.getlist(...))``), a
    ``copy_current_request_context`` wrapper, and the header of a plain function (where
    its default values were bound: ``def work(req=request):``)."""
    sites: Tuple[str, ...] = ()
    seen = 0
    while fn is not None and seen < 8:
        seen += 1
        sites = merge(sites, getattr(fn, EXCEPTION_SITES, ()))
        if isinstance(fn, functools.partial):
            fn = fn.func
        else:
            fn = getattr(fn, "__wrapped__", None) or getattr(fn, "__func__", None)
    return sites


def attach_sites(exc: BaseException, sites: Tuple[str, ...]) -> None:
    """Let ``exc`` carry ``sites`` to wherever the recorder sees it."""
    try:
        setattr(exc, EXCEPTION_SITES, merge(getattr(exc, EXCEPTION_SITES, ()), sites))
    except (AttributeError, TypeError):  # an exception type with __slots__
        pass


def _capped(count: Callable[[], Optional[int]]) -> Callable[[], int]:
    def capped() -> int:
        return min(count() or 1, 2)

    return capped


def _unwrap_process_chunk(fn: Any) -> Any:
    """``ProcessPoolExecutor.map`` submits ``partial(_process_chunk, fn)``: name ``fn``."""
    if isinstance(fn, functools.partial) and getattr(fn.func, "__name__", "") == "_process_chunk":
        return fn.args[0] if fn.args else fn
    return fn


def install_in_spawned_child() -> None:
    """In a spawned child: record a failing ``run()`` to the parent's process log.

    Runs when the harness module is imported as the child's ``__mp_main__``; the parent's
    hooks do not exist in a fresh interpreter, and the child's traceback would otherwise
    only reach stderr.  ``run`` is wrapped per instance, so subclasses are covered too.
    """
    log = os.environ.get(PROCESS_LOG_ENV)
    if not log:
        return
    original = getattr(multiprocessing.process.BaseProcess, "_bootstrap")

    def _bootstrap(
        process: multiprocessing.process.BaseProcess, parent_sentinel: Any = None
    ) -> int:
        run = process.run
        target = getattr(process, "_target", None)
        if type(process).run is not multiprocessing.process.BaseProcess.run or target is None:
            target = type(process).run

        def observed_run() -> None:
            try:
                run()
            except BaseException as exc:
                if not isinstance(exc, SystemExit):
                    record = {
                        "exc_type": type(exc).__name__,
                        "message": str(exc),
                        "traceback": "".join(
                            traceback.format_exception(type(exc), exc, exc.__traceback__)
                        ),
                        "callable": describe_callable(target),
                        "process": process.name,
                    }
                    with open(log, "a", encoding="utf-8") as handle:
                        handle.write(json.dumps(record) + "\n")
                raise

        if not is_infrastructure(target):
            patch(process, "run", observed_run)
        result: int = original(process, parent_sentinel)
        return result

    patch(multiprocessing.process.BaseProcess, "_bootstrap", _bootstrap)
