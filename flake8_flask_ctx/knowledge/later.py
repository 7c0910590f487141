"""Callbacks the standard library runs at a later time, in no context: where a
context-local read fails as surely as in a new thread.

``atexit.register(fn, *args, **kwargs)`` runs ``fn(*args, **kwargs)`` when the
interpreter exits, after every request and app context has ended; registered from a
view, a callback that reads ``request`` fails then (``Working outside of request
context``).

``weakref.finalize(obj, fn, *args)`` runs ``fn`` when ``obj`` is collected.  That is
certainly after the request only for an object kept in ``flask.g`` for the rest of the
request (``g.conn = conn``; ``finalize(conn, ...)``): ``g`` is dropped with the app
context, after the request context was popped.  ``teardown_appcontext`` handlers run
before that drop, with the app context still pushed, so only request-tier reads are
certain to fail there (``carries`` the app tier).  The engine decides "kept in ``g``"
(``engine/kept_in_g.py``).

Not here, because when it runs is not certain: ``@atexit.register`` used as a
decorator (not a dispatch site of a view).
"""

from __future__ import annotations

from typing import Tuple

from .contexts import Tier, frozen
from .dispatchers import CallDispatcher, Forwards

LATER_DISPATCHERS: Tuple[CallDispatcher, ...] = (
    CallDispatcher(
        frozen("atexit.register"), 0, "func",
        "at interpreter exit (atexit)",
        forwards=Forwards(rest_from=1, other_keywords=True), by_module=True,
    ),
    CallDispatcher(
        frozen("weakref.finalize"), 1, "func",
        "when its object, kept in flask.g, is collected after the request (by weakref.finalize)",
        carries=frozenset({Tier.APP}),
        forwards=Forwards(rest_from=2, other_keywords=True), by_module=True, object_in_g=0,
    ),
)
