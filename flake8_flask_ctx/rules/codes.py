"""The code registry: the only home of user-visible diagnostic text.

Codes are never renumbered (users have them in ``noqa`` comments and config files).
The README's rule table and the fixtures are checked against ``CODES`` by a test.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping, Optional

from ..version import __version__
from .headlines import Message, clip, short_mechanism


@dataclass(frozen=True)
class Code:
    """One diagnostic: its code, a short slug for docs, and a one-line summary."""

    code: str
    slug: str
    summary: str


CODES: Mapping[str, Code] = {
    c.code: c
    for c in (
        Code(
            "FCX100",
            "request-local-outside-request",
            "a request-tier context-local is reached by code that runs outside the request",
        ),
        Code(
            "FCX110",
            "app-local-without-app-context",
            "an app-tier context-local is reached by code that runs with no app context",
        ),
        Code(
            "FCX200",
            "proxy-crosses-boundary",
            "a context-local proxy itself (or an alias of one) crosses into code that runs "
            "outside the request",
        ),
        Code(
            "FCX210",
            "request-lifetime-object-crosses-boundary",
            "an uploaded file, the body stream or the real request object crosses into "
            "code that outlives the request",
        ),
        Code(
            "FCX300",
            "streamed-generator-without-context",
            "a generator streamed as the response body reaches a context-local "
            "without stream_with_context",
        ),
        Code(
            "FCX400",
            "copy-current-request-context-misused",
            "copy_current_request_context applied at import time, or one wrapped callable "
            "run more than once",
        ),
        Code(
            "FCX410",
            "g-in-copied-request-context",
            "g read inside a copy_current_request_context callable (it gets an empty g)",
        ),
        Code(
            "FCX420",
            "test-request-context-in-worker",
            "test_request_context() used in dispatched code to make request work "
            "(a fake, empty request)",
        ),
        Code(
            "FCX999",
            "analyzer-failure",
            "the analyzer itself failed on this file",
        ),
    )
}

#: The fix offered for each tier's code.
REQUEST_FIX = (
    "read the data in the view and pass it in, or wrap with copy_current_request_context"
)
APP_FIX = (
    "capture app = current_app._get_current_object() in the view and use "
    "'with app.app_context():' in the worker"
)

#: Context-locals whose fix differs from their tier's: a new app context pushed in
#: the worker has an empty ``g``, so the value itself must travel.
FIX_OVERRIDES: Mapping[str, str] = {
    "flask.g": (
        "read the value from g in the view and pass it in "
        "(a new app context has an empty g)"
    ),
}


#: Another process: ``fork`` copies the view thread's contexts into the child, so the read
#: works by accident where fork is the start method (SPEC section 4).
PROCESS_NOTE = (
    " (under the fork start method the child inherits the view's contexts and the read "
    "works by accident; it fails under spawn and forkserver: macOS, Windows, Linux from "
    "Python 3.14)"
)
#: The same, for a process the code starts with ``spawn``/``forkserver`` explicitly.
SPAWNED_NOTE = " (started with the {method} start method, the child inherits no context)"
#: A task body never runs in a request: only its arguments can carry data in.
TASK_FIX = "pass the values the task needs as its arguments, read in the view"
STREAM_FIX = (
    "wrap the generator with stream_with_context (Response(stream_with_context(gen()))), "
    "or read the values in the view and pass them to the generator"
)


#: Advice where ``copy_current_request_context`` is no fix (``advice.py`` says why).
REQUEST_FIX_NO_COPY = (
    "read the data in the view and pass it in (copy_current_request_context is no fix "
    "here: {why})"
)
#: A worker started where no request ever is (import time, an app factory, a CLI
#: command): there is no view to read anything in.
REQUEST_FIX_NO_REQUEST = (
    "it starts where no request exists, so it never has one: pass the values it needs "
    "from the code that handles the request"
)
#: The app object cannot travel to another process or a task queue's worker.
APP_FIX_OTHER_PROCESS = (
    "create or import the app in the worker and run the work inside "
    "'with app.app_context():' (the app object cannot be pickled into another process)"
)
#: No ``current_app`` to capture where the worker starts.
APP_FIX_NO_REQUEST = (
    "push an app context in the worker: run the work inside 'with app.app_context():' "
    "with the application object imported or passed in (there is no current_app to "
    "capture where it starts)"
)
G_FIX_NO_REQUEST = (
    "g is empty in every new app context: pass the value in as an argument"
)


@dataclass(frozen=True)
class Advice:
    """What the message advises at its site (from ``advice.site_advice``)."""

    #: Started where no request exists.
    outside_requests: bool = False
    #: Runs in another process or a task queue's worker.
    other_process: bool = False
    #: Why ``copy_current_request_context`` is no fix (None: it is one).
    copy_blocker: Optional[str] = None


def reach_message(
    code: str,
    local: str,
    callable_name: str,
    mechanism: str,
    read_text: str,
    read_where: str,
    chain: str,
    task: bool = False,
    in_process: bool = False,
    advice: Advice = Advice(),
    called: bool = False,
    stored: bool = False,
    start_method: Optional[str] = None,
) -> str:
    """FCX100/FCX110/FCX300: what is read, where the code runs, the chain, the fix
    that is right at this site.  ``called``: the local is a function (``url_for``),
    called rather than read."""
    via = f", via {chain}" if chain else ""
    if in_process and code != "FCX300":
        # Name ``fork`` only where the code may use it: a process started by an
        # explicit spawn/forkserver context inherits nothing, and fails every time.
        mechanism += (
            PROCESS_NOTE if start_method in (None, "fork")
            else SPAWNED_NOTE.format(method=start_method)
        )
    verb = "called" if called else "written" if stored else "read"
    if code == "FCX300":
        problem = f"{local} is {verb} by a streamed generator after the view returned"
        brief = "after the view returned"
        fix = STREAM_FIX
    elif code == "FCX100":
        problem = f"{local} is {verb} outside the request"
        brief = "outside the request"
        fix = _request_fix(advice)
    else:
        problem = f"{local} is used with no application context"
        brief = "with no app context"
        fix = _app_fix(local, advice)
    if task and code != "FCX300":
        fix = TASK_FIX
    reads = "calls" if called else "writes" if stored else "reads"
    return Message(
        f"{code} {problem}: {callable_name} runs {mechanism} and {reads} "
        f"{read_text} ({read_where}{via}); {fix}",
        f"{code} {_named(local, clip(read_text))} {brief} "
        f"({read_where.split(BRANCH_SEPARATOR)[0]}): "
        f"{clip(callable_name)} runs {short_mechanism(mechanism)}",
    )


#: Where a read's branch condition starts in its location ("line 24, only if ...").
BRANCH_SEPARATOR = ", only if "


def _named(local: str, read_text: str) -> str:
    """The read, naming the context-local when its spelling does not
    (``rq.args`` is ``flask.request``)."""
    last = local.rsplit(".", 1)[-1]
    spelled = re.search(rf"(?<![\w.]){re.escape(last)}\b", read_text) is not None
    return read_text if spelled else f"{read_text} ({local})"


def _request_fix(advice: Advice) -> str:
    if advice.outside_requests:
        return REQUEST_FIX_NO_REQUEST
    if advice.copy_blocker is not None:
        return REQUEST_FIX_NO_COPY.format(why=advice.copy_blocker)
    return REQUEST_FIX


def _app_fix(local: str, advice: Advice) -> str:
    if local in FIX_OVERRIDES:
        return G_FIX_NO_REQUEST if advice.outside_requests else FIX_OVERRIDES[local]
    if advice.outside_requests:
        return APP_FIX_NO_REQUEST
    if advice.other_process:
        return APP_FIX_OTHER_PROCESS
    return APP_FIX


class NotAnalysed(Exception):
    """A file declined on purpose: over a limit that keeps a check's memory and time
    bounded (``--flask-ctx-max-nodes``).  Reported as FCX999,
    like a failure, because the file was not checked; but it is the user's setting to
    change, not a bug to report."""


def failure_message(error: BaseException) -> str:
    """FCX999: name the failure so the user can report it, never hide it.

    The message carries what a maintainer needs to reproduce it without the user's
    code: the exception type and text, the innermost frame inside this package (where
    the engine gave up), and the plugin version.
    """
    if isinstance(error, NotAnalysed):
        return f"FCX999 flake8-flask-ctx {__version__}: not analysed: {error}"
    text = str(error).splitlines()[0][:200] if str(error) else ""
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    where = innermost_own_frame(error)
    at = f" at {where}" if where else ""
    return (
        f"FCX999 flake8-flask-ctx {__version__} failed on this file ({detail}{at}); "
        "please report it (see the README, 'Reporting a crash')"
    )


def innermost_own_frame(error: BaseException) -> Optional[str]:
    """``flake8_flask_ctx/engine/reach.py:120 in follow`` for the deepest traceback frame
    in this package (any of its folders): a RecursionError's traceback can be thousands
    of frames long, so it is walked, never formatted."""
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    prefix = package_dir + os.sep
    found: Optional[str] = None
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        path = os.path.abspath(code.co_filename)
        if path.startswith(prefix):
            inside = path[len(prefix):].replace(os.sep, "/")
            found = f"flake8_flask_ctx/{inside}:{tb.tb_lineno} in {code.co_name}"
        tb = tb.tb_next
    return found


#: How a lazy query is named in an FCX210 message ("the lazy query Product.query...").
LAZY_QUERY = "the lazy query"


def crossing_message(
    code: str, what: str, how: str, callable_name: str, mechanism: str
) -> str:
    """FCX200/FCX210: what crosses, how, into what, and the fix."""
    full = _crossing_text(code, what, how, callable_name, mechanism)
    kind = "the proxy " if code == "FCX200" else ""
    return Message(
        full,
        f"{code} {kind}{clip(what, 50)} crosses into {clip(callable_name)}, "
        f"which runs {short_mechanism(mechanism)}",
    )


def _crossing_text(code: str, what: str, how: str, callable_name: str, mechanism: str) -> str:
    if code == "FCX200":
        if what == "flask.current_app":
            fix = "pass current_app._get_current_object() instead"
        else:
            fix = "read the values it holds in the view and pass those instead"
        return (
            f"FCX200 {what} (the proxy itself) crosses into {callable_name} ({how}), which "
            f"runs {mechanism}: it is looked up again there, where no context exists; {fix}"
        )
    if what.startswith(LAZY_QUERY):
        return (
            f"FCX210 {what} crosses into {callable_name} ({how}), which runs {mechanism}: "
            "it runs only when iterated, and then needs db.session, which ends with the app "
            "context; evaluate it in the view (.all()) and pass the rows or their values"
        )
    return (
        f"FCX210 {what} crosses into {callable_name} ({how}), which runs {mechanism}: "
        "it is closed when the request ends; read or save it in the view "
        "(f.read(), f.save(path)) and pass the data or the path"
    )


def import_time_copy_message() -> str:
    return (
        "FCX400 copy_current_request_context applied at import time, where no request is "
        "active: it raises RuntimeError when the module is imported; apply it inside the "
        "view, to a function defined there"
    )


def copy_run_many_message(callable_name: str, why: str) -> str:
    return (
        f"FCX400 one copy_current_request_context wrapper of {callable_name} is {why}: "
        "concurrent pushes of one copied context fail (ValueError: ... created in a "
        "different Context); wrap per call, or read the data in the view and pass it"
    )


def shared_copy_message(callable_name: str, mechanism: str) -> str:
    return (
        f"FCX400 {callable_name} runs {mechanism}, which wraps it in one "
        "copy_current_request_context for every item: items that overlap push the same "
        "copied context concurrently and fail (ValueError: ... created in a different "
        "Context); submit one job per item (executor.submit), or read the data in the "
        "view and pass it"
    )


def copied_g_message(callable_name: str, read_text: str, chain: str) -> str:
    via = f" via {chain}" if chain else ""
    return (
        f"FCX410 {read_text} reads g inside {callable_name}{via}, which runs in a "
        "copy_current_request_context copy: the copy pushes a fresh app context, so g is "
        "empty there; read the value from g in the view and pass it in"
    )


def fake_request_message(callable_name: str, mechanism: str) -> str:
    return (
        f"FCX420 test_request_context() in {callable_name}, which runs {mechanism}: it "
        "builds a fake, empty request (no form, no JSON, no user), so request reads "
        "silently get wrong data; read the data in the view and pass it in"
    )
