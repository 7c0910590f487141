"""Keep CPython's cycle collector from re-reading the caches that live for the run.

Why: cross-module reach keeps the LibCST units, ``ast`` trees and texts of the
project's modules for the whole run (``engine/units.py``, ``index/``), millions of
objects.  CPython's full collections walk every tracked object, and they come each
time the old generation grows by a quarter, so a cache that only grows is walked
again and again: on changedetection.io that was 3 to 4 s of a 25 s flake8 run, about
a third of what the plugin adds.  ``gc.freeze()`` tells the collector those objects
are permanent, so later collections only look at what is new.

What it costs and how that is bounded: a frozen object that later becomes cyclic
garbage (an evicted unit, flake8's per-file trees) is not freed until the next full
sweep, which ``settle`` makes whenever the frozen set has doubled since the last one
-- the same amortised cost as the collector's own schedule, with at most about twice
the live memory. The frozen set is measured by the blocks the allocator holds
(``sys.getallocatedblocks``, a fraction of a millisecond), not by
``gc.get_freeze_count``, which counts the frozen objects one by one: tens of
milliseconds per module on a big project, 2 s of changedetection.io's run. Nothing
changes where freezing does not exist (not CPython) or where the host disabled the
collector itself.
"""

from __future__ import annotations

import gc
import sys

#: Allocated blocks below which no full sweep is made (a small project).
MIN_SWEPT = 1_000_000


class _Heap:
    """The allocator's blocks at the last full sweep."""

    swept = 0


def settle() -> None:
    """Called after a module was analysed: collect its garbage, freeze what lives on
    (the caches), and sweep everything once the frozen set has doubled."""
    if not hasattr(gc, "freeze") or not gc.isenabled():
        return
    gc.collect()
    gc.freeze()
    if sys.getallocatedblocks() > 2 * max(_Heap.swept, MIN_SWEPT):
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _Heap.swept = sys.getallocatedblocks()
