"""APScheduler 3.x: jobs run by the real scheduler thread and its thread-pool executor.

A job never runs inside a request: the scheduler's own thread hands it to the executor's
pool.  The harness keeps all of that real and changes only *when* and *what it sees*:

* ``BaseScheduler.add_job`` (``@scheduler.scheduled_job(...)`` and Flask-APScheduler call
  it too) wraps the job function -- held at the gate of the request that added it, its
  exception recorded in the pool thread, its end signalled -- and asks for the first run at
  once (``next_run_time=now``) whatever the trigger: a cron job due tonight fails the same
  way now.  A job added paused (``next_run_time=None``) stays paused and is not awaited.
  The wrapper keeps the function's name and signature (``functools.wraps``), so
  APScheduler still checks the job's arguments against the real function.
* A ``BackgroundScheduler`` that has jobs but was never started (the fixture would start
  it in its entry point) is started by the harness after the request, as the app would.
* The executor's ``run_job`` and the scheduler thread are machinery
  (:data:`runtime.probes._INFRASTRUCTURE_MODULES`): not held, not awaited; the job's first
  run is awaited instead.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import threading
from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable, List, Tuple

from runtime.probes import Handle, describe_callable, patch

if TYPE_CHECKING:
    from runtime.probes import Probes

SOURCE = "APScheduler job"


def install_apscheduler(probes: "Probes", base: Any) -> None:
    util: Any = import_module("apscheduler.util")
    ref_to_obj, undefined = util.ref_to_obj, util.undefined

    scheduler_class: Any = base.BaseScheduler
    original_add_job = scheduler_class.add_job
    waiting: List[Tuple[Any, threading.Event]] = []

    signature = inspect.signature(original_add_job)

    def add_job(scheduler: Any, *args: Any, **kwargs: Any) -> Any:
        # scheduled_job() passes everything positionally: bind to read and set by name.
        bound = signature.bind(scheduler, *args, **kwargs)
        func = bound.arguments["func"]
        if bound.arguments.get("next_run_time", undefined) is None:  # paused: never runs
            return original_add_job(*bound.args, **bound.kwargs)
        function: Callable[..., Any] = ref_to_obj(func) if isinstance(func, str) else func
        name = describe_callable(function)
        done = threading.Event()
        observed = probes.observed(function, SOURCE, name, done=done)
        bound.arguments["func"] = functools.wraps(function)(observed)
        bound.arguments["next_run_time"] = datetime.datetime.now(datetime.timezone.utc)
        job = original_add_job(*bound.args, **bound.kwargs)
        waiting.append((scheduler, done))
        probes.track(Handle.for_event(done, SOURCE, name, "APScheduler executor"))
        return job

    def start_unstarted_schedulers() -> None:
        # Not at install time: this hook runs while schedulers.background imports base.
        background: Any = import_module("apscheduler.schedulers.background")

        for scheduler, done in list(waiting):
            if done.is_set() or scheduler.state != base.STATE_STOPPED:
                continue  # finished, running or paused
            if isinstance(scheduler, background.BackgroundScheduler):
                scheduler.start()  # a BlockingScheduler would block: left alone

    patch(scheduler_class, "add_job", add_job)
    probes.add_drainer(start_unstarted_schedulers)
