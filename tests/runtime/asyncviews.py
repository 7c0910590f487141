"""``async def`` views: where the view really runs, and when it really waits.

Flask runs an async view through asgiref's ``async_to_sync``: the driver thread blocks
(``CurrentThreadExecutor.run_until_future``, a ``Condition.wait``) while a fresh event loop
in another thread runs the coroutine in a copy of the driver's context -- the request
context included.  For the gate that means:

* the driver's wait for that loop is machinery, not the view waiting for work it
  dispatched: it must not open the gate (else ``loop.run_in_executor(None, fn)`` work would
  race the request instead of running after it);
* the view waits when *its loop* has nothing to do: the loop's selector is asked to block
  (``select(None)`` or a positive timeout) only when every task awaits something -- the
  executor future of ``await loop.run_in_executor(...)``, ``await asyncio.to_thread(...)``,
  ``asyncio.sleep``, or ``asyncio.run``'s own ``shutdown_default_executor()``, which makes
  the request wait for fire-and-forget default-executor work before it ends (production
  does the same).  Then the gate opens, exactly as for a sync view blocking on a result;
* the loop thread runs the request's own code, so it is not "a worker" for the probes of
  FCX410/FCX420 (:meth:`runtime.probes.Recorder.in_worker`).

Checked with real Flask: ``run_in_executor`` workers see no request context (the executor
does not copy contextvars); ``asyncio.to_thread``, ``asyncio.create_task`` and
``loop.create_task`` copy the context, so the request context reaches them.
"""

from __future__ import annotations

import asyncio
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Dict, Optional

from runtime.probes import patch

if TYPE_CHECKING:
    from runtime.probes import Probes


def install_asgiref(probes: "Probes", sync: ModuleType) -> None:
    async_to_sync: Any = sync.AsyncToSync
    original_call = async_to_sync.__call__
    recorder = probes.recorder

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not recorder.driver:
            return original_call(self, *args, **kwargs)
        view: Callable[..., Coroutine[Any, Any, Any]] = self.awaitable
        loop_thread: Optional[int] = None

        async def watched(*a: Any, **kw: Any) -> Any:
            nonlocal loop_thread
            loop_thread = threading.get_ident()
            recorder.view_threads.add(loop_thread)
            loop = asyncio.get_running_loop()
            _open_gate_when_idle(probes, loop)
            _record_loop_errors(probes, loop)
            return await view(*a, **kw)

        # Flask builds one AsyncToSync per call (ensure_sync), so this instance is ours.
        self.awaitable = watched
        probes.machinery_wait(+1)
        try:
            return original_call(self, *args, **kwargs)
        finally:
            probes.machinery_wait(-1)
            self.awaitable = view
            if loop_thread is not None:
                recorder.view_threads.discard(loop_thread)

    patch(async_to_sync, "__call__", __call__)


def _open_gate_when_idle(probes: "Probes", loop: asyncio.AbstractEventLoop) -> None:
    """Open the gate when the view's loop blocks: every task of the view awaits something.

    ``_selector`` is private to asyncio's selector loops; it is the one place that learns
    the loop is idle, and this interpreter is thrown away with the fixture.
    """
    selector = getattr(loop, "_selector", None)
    if selector is None:
        return
    original_select = selector.select

    def select(timeout: Optional[float] = None) -> Any:
        if timeout is None or timeout > 0:
            probes.view_blocks("the async view awaited")
        return original_select(timeout)

    patch(selector, "select", select)


def _record_loop_errors(probes: "Probes", loop: asyncio.AbstractEventLoop) -> None:
    """Record what the view's loop only logs: an exception raised by a done callback
    (``future.add_done_callback(fn)``) or by a task nobody awaited.  Without this a
    failing asyncio callback would look like one that ran fine."""
    recorder = probes.recorder

    def handler(loop: asyncio.AbstractEventLoop, context: Dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, BaseException):
            recorder.exception(
                error, "asyncio callback", str(context.get("message", "")), "event loop"
            )
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
