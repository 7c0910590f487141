"""Which fix a finding's message recommends at its site: the same judgement ``--fix``
makes before it rewrites anything, so the message never advises what the fixer
refuses as unsafe.

``copy_current_request_context`` is the fix for a request read only when the worker
is a thread (or greenlet) of this process, started while a request is handled, run
once, and reading no request body.  Everywhere else the message names the reason and
advises what works there: passing the data in, or pushing an app context in the worker
with an application object the worker can reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import libcst as cst

from ..engine.names import ModuleIndex
from ..engine.node_names import decorated_by_method
from ..engine.sites import DispatchSite
from ..knowledge.contexts import (
    REQUEST_BODY_ATTRIBUTES, STARTUP_DECORATOR_METHODS, STARTUP_FUNCTIONS,
)

#: Why ``copy_current_request_context`` is no fix at a site (the message says so).
NO_REQUEST = "no request"
OTHER_PROCESS = "a copied request context cannot be pickled into another process or task queue"
MANY_RUNS = "one copy cannot be pushed by runs that overlap"
BODY_READ = "the worker reads the request body, which may be gone when it runs"


@dataclass(frozen=True)
class SiteAdvice:
    """What a finding's message advises at its site."""

    #: Started where no request can exist (module level, an app factory, a CLI
    #: command): no view to capture anything in.
    outside_requests: bool
    #: Runs in another process or a task queue's worker: nothing unpicklable travels.
    other_process: bool
    #: Why ``copy_current_request_context`` is no fix here (None: it is one).
    copy_blocker: Optional[str]


def site_advice(
    site: DispatchSite, index: ModuleIndex, read_texts: Iterable[str] = ()
) -> SiteAdvice:
    """The advice at ``site`` for findings whose reads are ``read_texts``."""
    outside = started_outside_requests(site, index)
    other = site.in_process or site.queued
    blocker: Optional[str] = None
    if outside:
        blocker = NO_REQUEST
    elif other:
        blocker = OTHER_PROCESS
    elif site.runs_many:
        blocker = MANY_RUNS
    elif any(reads_request_body(text) for text in read_texts):
        blocker = BODY_READ
    return SiteAdvice(outside, other, blocker)


def reads_request_body(read_text: str) -> bool:
    """``request.json``, ``request.get_json()``, ``request.files[...]``..."""
    words = read_text.replace("(", ".").replace("[", ".").split(".")
    return any(attribute in words for attribute in REQUEST_BODY_ATTRIBUTES)


def started_outside_requests(site: DispatchSite, index: ModuleIndex) -> bool:
    """Whether the dispatch runs where no request is ever active: at module level
    (import time), in an application factory, or in a CLI command.  A function that
    may be called from a view is not: only these provable places count."""
    if site.report_inside:
        return False  # a task body: its own advice
    node = site.call if site.call is not None else site.report_at
    function = index.enclosing(node, (cst.FunctionDef,))
    if function is None:
        return True
    outermost = function
    for ancestor in index.ancestors(function):
        if isinstance(ancestor, cst.FunctionDef):
            outermost = ancestor
    return outermost.name.value in STARTUP_FUNCTIONS or decorated_by_method(
        outermost, STARTUP_DECORATOR_METHODS
    )
