"""Callbacks the standard library runs at a later time, in no context: where a
context-local read fails as surely as in a new thread.

``atexit.register(fn, *args, **kwargs)`` runs ``fn(*args, **kwargs)`` when the
interpreter exits, after every request and app context has ended; registered from a
view, a callback that reads ``request`` fails then (``Working outside of request
context``).  Not here, because when they run is not certain: ``weakref.finalize``
(when its object is collected, which may be inside the request that made it) and
``@atexit.register`` used as a decorator (not a dispatch site of a view).
"""

from __future__ import annotations

from typing import Tuple

from .contexts import frozen
from .dispatchers import CallDispatcher, Forwards

LATER_DISPATCHERS: Tuple[CallDispatcher, ...] = (
    CallDispatcher(
        frozen("atexit.register"), 0, "func",
        "at interpreter exit (atexit)",
        forwards=Forwards(rest_from=1, other_keywords=True), by_module=True,
    ),
)
