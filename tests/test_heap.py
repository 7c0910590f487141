"""The front ends' heap policy (``frontends/heap.py``): after an analysed module the
caches are frozen out of the cycle collector's way, and frozen garbage is reclaimed by
a full sweep once the allocator's blocks have doubled since the last one."""

from __future__ import annotations

import gc
import sys
import weakref
from typing import Iterator, List

import pytest

from flake8_flask_ctx.frontends import heap

pytestmark = pytest.mark.skipif(not hasattr(gc, "freeze"), reason="CPython's gc.freeze")


class Node:
    """Something that can sit in a reference cycle and be watched by a weak ref."""

    def __init__(self) -> None:
        self.me: object = self


@pytest.fixture(autouse=True)
def thawed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    gc.unfreeze()
    gc.collect()
    monkeypatch.setattr(heap._Heap, "swept", 0)
    yield
    gc.unfreeze()
    gc.enable()


def test_what_lives_on_is_frozen_and_garbage_is_not() -> None:
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(100)]
    heap.settle()
    assert gone() is None  # collected before the freeze, not frozen with the caches
    assert gc.get_freeze_count() >= len(kept)


def test_frozen_garbage_is_reclaimed_once_the_heap_doubles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heap, "MIN_SWEPT", 1_000)
    heap.settle()
    monkeypatch.setattr(heap._Heap, "swept", sys.getallocatedblocks())
    cache: List[Node] = [Node() for _ in range(50)]
    heap.settle()
    evicted = weakref.ref(cache.pop())
    assert evicted() is not None  # frozen: a cycle the collector no longer looks at
    gc.collect()
    assert evicted() is not None
    cache.extend(Node() for _ in range(sys.getallocatedblocks()))
    heap.settle()  # the heap doubled: one full sweep
    assert evicted() is None
    assert heap._Heap.swept >= sys.getallocatedblocks() // 2


def test_a_host_that_disabled_the_collector_is_left_alone() -> None:
    gc.disable()
    heap.settle()
    assert gc.get_freeze_count() == 0
    assert not gc.isenabled()


BUG = """\
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, request

app = Flask(__name__)
pool = ThreadPoolExecutor(2)


def work():
    return request.args.get("q")


@app.route("/")
def index():
    pool.submit(work)
    return "ok"
"""


@pytest.mark.parametrize("source, analysed", [(BUG, True), ("print('no flask here')\n", False)])
def test_the_plugin_settles_the_heap_only_after_an_analysed_module(
    source: str, analysed: bool
) -> None:
    import ast

    from flake8_flask_ctx.frontends.plugin import Plugin

    lines = source.splitlines(keepends=True)
    reports = list(Plugin(ast.parse(source), lines, "views.py").run())
    assert [r[2][:6] for r in reports] == (["FCX100"] if analysed else [])
    assert (gc.get_freeze_count() > 0) is analysed
