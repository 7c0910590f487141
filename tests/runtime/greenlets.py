"""gevent and eventlet: greenlets spawned by a view, run the way their hub runs them.

No monkey-patching (the fixtures do not ask for it, and it would change every other probe):
a greenlet runs only when the thread that spawned it hands control to its hub -- when the
view itself joins/sleeps (it then waits for the work, as a view waiting for a thread does),
or after the request, when the harness waits for every greenlet still pending.  That is the
schedule a gevent/eventlet server gives a greenlet the view does not wait for: the request
finishes first.  No gate is needed (or possible: a greenlet held on a thread event would
block the hub and the request with it).

What a greenlet sees: greenlet >= 1.0 gives every greenlet a contextvars context of its own,
and a new greenlet starts with an *empty* one -- so neither the request context nor the app
context reaches it, even when the view joins it while the request is still active (checked
with real Flask; the same holds for eventlet, which runs on the same greenlet library).

How they are observed:
* gevent -- ``gevent.Greenlet`` is a compiled, immutable type, so its methods cannot be
  patched; instead a subclass that wraps the greenlet's run function (and tracks the
  greenlet once it is started: an unstarted greenlet never runs in production either)
  replaces
  ``gevent.Greenlet``/``gevent.greenlet.Greenlet``, ``gevent.spawn``/``spawn_later`` become
  its class methods, and ``gevent.pool.Group.greenlet_class`` (used by ``Pool.spawn``)
  points to it.  Pending greenlets are waited for with ``gevent.joinall``.
* eventlet -- ``spawn``, ``spawn_n`` and ``spawn_after`` (in ``eventlet`` and
  ``eventlet.greenthread``) wrap the function; pending work is waited for by sleeping in
  the hub (``eventlet.sleep``) until it has ended.
The wrapper records the exception inside the greenlet itself (traceback objects intact) and
re-raises it, so the greenlet still dies with it as it would in production.
"""

from __future__ import annotations

import threading
import time
from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable, Optional

from runtime.imports import when_imported
from runtime.probes import Handle, describe_callable, patch

if TYPE_CHECKING:
    from runtime.probes import Probes

POLL = 0.002
"""Seconds an eventlet wait sleeps in the hub between checks."""


# ---------------------------------------------------------------------------------------------
# gevent
# ---------------------------------------------------------------------------------------------
def install_gevent(probes: "Probes", gevent: Any) -> None:
    greenlet_module: Any = import_module("gevent.greenlet")
    base: Any = greenlet_module.Greenlet

    class ObservedGreenlet(base):  # type: ignore[misc]
        """A ``gevent.Greenlet`` whose run function is observed and, once started, awaited."""

        def __init__(self, run: Optional[Callable[..., Any]] = None, *args: Any, **kw: Any):
            if run is None and type(self)._run is not base._run:
                run = self._run  # a subclass overriding _run
            self._fcx_done = threading.Event()
            self._fcx_name = describe_callable(run) if run is not None else ""
            if run is not None:
                run = probes.observed(
                    run,
                    "gevent greenlet",
                    self._fcx_name,
                    gated=False,
                    thread="greenlet",
                    done=self._fcx_done,
                )
            super().__init__(run, *args, **kw)

        def _fcx_track(self) -> None:
            if not self._fcx_name:
                return
            greenlet = self
            probes.track(
                Handle(
                    "gevent greenlet",
                    self._fcx_name,
                    "greenlet",
                    lambda: greenlet._fcx_done.is_set() or greenlet.dead,
                    lambda timeout: gevent.joinall([greenlet], timeout=timeout),
                )
            )

        def start(self) -> None:
            self._fcx_track()
            super().start()

        def start_later(self, seconds: float) -> None:
            self._fcx_track()
            super().start_later(seconds)

    ObservedGreenlet.__name__ = ObservedGreenlet.__qualname__ = "Greenlet"
    patch(greenlet_module, "Greenlet", ObservedGreenlet)
    patch(gevent, "Greenlet", ObservedGreenlet)
    patch(gevent, "spawn", ObservedGreenlet.spawn)
    patch(gevent, "spawn_later", ObservedGreenlet.spawn_later)

    def pool_spawns_observed(pool: Any) -> None:
        patch(pool.Group, "greenlet_class", ObservedGreenlet)

    when_imported("gevent.pool", pool_spawns_observed)


# ---------------------------------------------------------------------------------------------
# eventlet
# ---------------------------------------------------------------------------------------------
def install_eventlet(probes: "Probes", eventlet: Any) -> None:
    greenthread: Any = import_module("eventlet.greenthread")

    def observed(function: Callable[..., Any], how: str) -> Callable[..., Any]:
        name = describe_callable(function)
        done = threading.Event()

        def wait(timeout: float) -> None:
            deadline = time.monotonic() + timeout
            while not done.is_set() and time.monotonic() < deadline:
                eventlet.sleep(POLL)

        source = f"eventlet.{how}"
        probes.track(Handle(source, name, "greenthread", done.is_set, wait))
        return probes.observed(function, source, name, gated=False, thread="greenthread", done=done)

    original_spawn = greenthread.spawn
    original_spawn_n = greenthread.spawn_n
    original_spawn_after = greenthread.spawn_after

    def spawn(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return original_spawn(observed(func, "spawn"), *args, **kwargs)

    def spawn_n(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return original_spawn_n(observed(func, "spawn_n"), *args, **kwargs)

    def spawn_after(seconds: float, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return original_spawn_after(seconds, observed(func, "spawn_after"), *args, **kwargs)

    for module in (greenthread, eventlet):
        patch(module, "spawn", spawn)
        patch(module, "spawn_n", spawn_n)
        patch(module, "spawn_after", spawn_after)
