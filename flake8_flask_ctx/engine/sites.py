"""The engine's unit of work: a place where callables leave the request.

Found by ``dispatch.py`` (library dispatchers, project wrappers) and ``task_sites.py``
(task bodies); read by ``analysis.py`` and the checks that run over the sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional, Tuple

import libcst as cst

from ..knowledge.contexts import Tier
from ..knowledge.dispatchers import Forwards
from .targets import Target

Tiers = FrozenSet[Tier]
NO_TIERS: Tiers = frozenset()
ALL_TIERS: Tiers = frozenset(Tier)


@dataclass(frozen=True)
class DispatchSite:
    """``targets`` are handed over here to run ``mechanism`` ("in a ... worker").

    ``carried``: tiers the dispatcher provides (Flask-Threads' app context).
    ``report_inside``: a task body, which no request ever runs: reported at the read
    (or the body's call leading to it) instead of at ``report_at``.
    """

    report_at: cst.CSTNode
    targets: Tuple[Target, ...]
    mechanism: str
    carried: Tiers = NO_TIERS
    report_inside: bool = False
    #: The dispatch call and which of its arguments travel with the callable.
    call: Optional[cst.Call] = None
    forwards: Forwards = Forwards()
    #: ``functools.partial`` arguments, ``copy_current_request_context`` wrappers
    #: and the functions they wrap, and whether one callable runs many times (map).
    bound_arguments: Tuple[cst.BaseExpression, ...] = ()
    wrappers: Tuple[cst.CSTNode, ...] = ()
    wrapped_targets: Tuple[Target, ...] = ()
    runs_many: bool = False
    #: It runs in another process: a read works by accident under ``fork`` (the child
    #: inherits the view thread's contexts) and fails under ``spawn``/``forkserver``.
    in_process: bool = False
    #: Flask-Executor's ``map``: one copied request context shared by every item
    #: (``wrappers`` holds the call).
    shared_copy: bool = False
    #: A task queue's worker runs it (RQ): what travels is pickled.
    queued: bool = False
