"""SPEC section 6, shape by shape: a worker body that certainly reads a context-local is
reported; one that only names, stores, registers, returns or decorates is not.

Each case is the body of ``work()``, which a view hands to a thread.  The fixtures prove the
families under Flask (``tests/fixtures/unsure_*.py`` and their partners); this table pins
the smaller shapes of the rule -- including the knowledge tables in ``knowledge/calls.py``
-- so a change to one of them shows here at once.
"""

from __future__ import annotations

from typing import List

import pytest

from test_fixtures import run_plugin

MODULE = """\
import contextlib
import functools
import threading
from unittest import mock

from flask import Flask, current_app, g, has_app_context, has_request_context, request

app = Flask(__name__)
HOOKS = []


def register(callback):
    HOOKS.append(callback)


def reads():
    return request.path


def call_it(fn, *args):
    return fn(*args)


def hand_on(fn):
    return call_it(fn)


def describe(obj):
    return obj.name


def timed(fn):
    def run():
        return fn()
    return run()


def run_steps(steps):
    for step in steps:
        step()


def with_context(flask_app):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            ctx = flask_app.app_context()
            ctx.push()
            try:
                return fn(*args)
            finally:
                ctx.pop()
        return wrapper
    return decorate


@with_context(app)
def app_config_name():
    return current_app.name


@contextlib.contextmanager
def app_scope():
    with app.app_context():
        yield


def keep(obj):
    HOOKS.append(obj)


def wrap(fn):
    def wrapped():
        return request.path, fn()
    return wrapped


def work(ctx=None):
{body}


@app.post("/")
def view():
    threading.Thread(target=work).start()
    return "ok"


@app.post("/forwarded")
def forwarding_view():
    threading.Thread(target=call_it, args=(reads,)).start()
    return "ok"
"""

#: body of work() -> codes expected at the dispatch (line of ``target=work``).
CASES = {
    # called: reported
    "a call": ("reads()", ["FCX100"]),
    "handed to map (called on the spot)": ("list(map(lambda x: request.args, [1]))", ["FCX100"]),
    "sorted(key=...)": ("sorted([1], key=lambda x: request.args.get(x))", ["FCX100"]),
    "rows.sort(key=...)": ("rows = [1]\n    rows.sort(key=lambda x: request.args.get(x))",
                           ["FCX100"]),
    "functools.reduce": ("functools.reduce(lambda a, b: request.args, [1, 2])", ["FCX100"]),
    "the closure a helper returns, called": ("wrap(reads)()", ["FCX100"]),
    "the closure bound, then called": ("w = wrap(reads)\n    w()", ["FCX100"]),
    "a lambda called on the spot": ("(lambda: request.path)()", ["FCX100"]),
    "handed to a project helper that calls it": ("call_it(reads)", ["FCX100"]),
    "a lambda handed on through two helpers": ("hand_on(lambda: request.path)", ["FCX100"]),
    "handed to a decorator that only wraps it": ("wrap(reads)", []),
    "a lambda bound to a name, then called": ("get = lambda: request.path\n    return get()",
                                              ["FCX100"]),
    "a partial bound to a name, then called": (
        "make = functools.partial(reads)\n    return make()", ["FCX100"]),
    "a helper calling it through a closure it runs at once": ("timed(reads)", ["FCX100"]),
    "an item of a list a helper iterates and calls": ("run_steps([reads])", ["FCX100"]),
    # not called: silent
    "stored in a registry": ("register(reads)", []),
    "a lambda handed to an unknown function": ("register(lambda: request.path)", []),
    "a closure built, never called": ("wrapped = wrap(reads)", []),
    "the curried registration": ("app.errorhandler(404)(reads)", []),
    "returned": ("return reads", []),
    "a lambda returned": ("return lambda: request.path", []),
    # read: reported
    "an attribute": ("return current_app.name", ["FCX110"]),
    "a write": ("g.user = 1", ["FCX110"]),
    "formatting": ('return f"{g}"', ["FCX110"]),
    "str()": ("return str(current_app)", ["FCX110"]),
    "iteration": ("return [k for k in request.args]", ["FCX100"]),
    "a comparison": ("return current_app == 1", ["FCX110"]),
    "a local alias dereferenced": ("found = current_app\n    return found.name", ["FCX110"]),
    # named: silent
    "bound to a name": ("found = current_app", []),
    "stored in a dict": ('return {"c": g, "r": request}', []),
    "returned proxy": ("return current_app", []),
    "an identity test": ("return current_app is None", []),
    "str.format": ('return "{0.path}".format(request)', ["FCX100"]),
    "str.join": ('return ", ".join(request.args)', ["FCX100"]),
    "repr (the proxy answers it)": ("return repr(g)", []),
    "isinstance (the proxy answers it)": ("return isinstance(current_app, Flask)", []),
    "f-string with !r": ('return f"{g!r}"', []),
    "handed to an unknown function": ("register(g)", []),
    "handed to a project helper that dereferences it": ("describe(current_app)", ["FCX110"]),
    "handed to a project helper that stores it": ("keep(current_app)", []),
    # contexts pushed: silent
    "request_context(environ)": ("with app.request_context({}):\n        return request.path", []),
    "ctx.push() for the rest of the block": (
        "ctx = app.app_context()\n    ctx.push()\n    return current_app.name", []),
    "with over a parameter": ("with ctx:\n        return current_app.name", []),
    "ExitStack.enter_context": (
        "with contextlib.ExitStack() as stack:\n        stack.enter_context(app.app_context())"
        "\n        return current_app.name", []),
    "ctx.__enter__()": (
        "ctx = app.app_context()\n    ctx.__enter__()\n    return current_app.name", []),
    "a push only when none is there": (
        "if not has_app_context():\n        app.app_context().push()"
        "\n    return current_app.name", []),
    "a project context manager": ("with app_scope():\n        return current_app.name", []),
    "a decorator factory whose wrapper pushes and pops": ("return app_config_name()", []),
    "a guard held in a local": (
        "inside = has_request_context()\n    if inside:\n        return request.path", []),
    "app context is not a request": (
        "with app.app_context():\n        return request.path", ["FCX100"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape(name: str) -> None:
    body, expected = CASES[name]
    source = MODULE.format(body="    " + body)  # later lines of a body carry their indent
    dispatch_line = next(
        number for number, line in enumerate(source.splitlines(), 1) if "target=work" in line
    )
    found: List[str] = [
        code for line, code, _message, _column in run_plugin(source, "shapes.py")
        if line == dispatch_line
    ]
    assert found == expected, "\n".join(m for *_, m, _c in run_plugin(source, "shapes.py"))


def test_a_callable_forwarded_by_the_dispatch_to_a_helper_that_calls_it() -> None:
    """``Thread(target=call_it, args=(reads,))``: ``call_it`` calls its parameter, so
    ``reads`` runs in the worker too."""
    source = MODULE.format(body="    return 1")
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "target=call_it" in text)
    found = [(n, c) for n, c, _m, _col in run_plugin(source, "shapes.py")]
    assert found == [(line, "FCX100")]


def test_a_patched_callee_is_not_followed() -> None:
    source = MODULE.format(body="    with mock.patch('shapes.reads'):\n        return reads()")
    source = source.replace(
        "def view():", "def view():  # the test replaces reads() before the thread runs"
    )
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "target=work" in text)
    assert [c for n, c, _m, _col in run_plugin(source, "shapes.py") if n == line] == []
