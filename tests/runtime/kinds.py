"""What an observed failure *is*, and which kinds each diagnostic code predicts.

Shared by the fixture subprocess (which classifies what it sees, because only there are the
traceback objects and thread identities available) and by the verdict (which compares kinds
with markers).  Classification is by exception type and Flask's own message, so a fixture
proves its marker only with the failure Flask really raises, never with an incidental crash.

Adding a kind for a new code: add a constant, teach :func:`classify` (or a probe) to produce
it, and map the code in :data:`CODE_KINDS`.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Optional, Tuple

# --- kinds that prove a marker -------------------------------------------------------------
REQUEST = "request"
"""Request-tier failure: ``Working outside of request context`` (and Flask's other
"needs an active request" errors), or Flask-Login's ``current_user`` resolving to ``None``."""
APP = "app"
"""App-tier failure: ``Working outside of application context``."""
CLOSED_FILE = "closed-file"
"""FCX210: a request-lifetime file/stream used after the request closed it."""
STREAM = "stream"
"""FCX300: a context error raised while the server iterates a streaming body."""
COPY_MISUSE = "copy-misuse"
"""FCX400: ``copy_current_request_context`` applied at import time, or one copied context
pushed concurrently (``ValueError: ... created in a different Context``)."""
G_EMPTY = "g-empty"
"""FCX410: ``g`` read in an app context pushed by ``copy_current_request_context`` is empty."""
FAKE_REQUEST = "fake-request"
"""FCX420: ``app.test_request_context()`` entered in a worker (a fake, empty request)."""

# --- kinds that are always a problem ----------------------------------------------------------
OTHER = "other"
"""An exception in dispatched code that is none of the above: the fixture proves nothing."""
VIEW_ERROR = "view-error"
"""The view itself failed (HTTP 500) for a reason other than re-raising a worker's failure."""
HUNG = "hung"
"""Something the request started was still running when the harness stopped waiting."""
IMPORT_ERROR = "import-error"
"""The fixture module could not be imported (and not because of FCX400)."""
NOT_STARTED = "not-started"
"""A thread or process the fixture built was never started: its work never ran.  A problem
unless the fixture says ``# runtime: nothing dispatched <why>`` (e.g. it calls
``thread.run()`` inline on purpose)."""

ALWAYS_A_PROBLEM: FrozenSet[str] = frozenset({OTHER, VIEW_ERROR, HUNG, IMPORT_ERROR})

# --- where an observation came from ------------------------------------------------------------
SOURCE_IMPORT = "the module import"
SOURCE_VIEW = "the view"
SOURCE_BODY = "the response body (iterated after the view returned)"
SOURCE_CLOSE = "response.close() (call_on_close callbacks)"

CODE_KINDS: Dict[str, FrozenSet[str]] = {
    "FCX100": frozenset({REQUEST}),
    "FCX110": frozenset({APP}),
    # A proxy passed into the worker fails when touched there, with its own tier's error.
    "FCX200": frozenset({REQUEST, APP}),
    "FCX210": frozenset({CLOSED_FILE}),
    "FCX300": frozenset({STREAM}),
    "FCX400": frozenset({COPY_MISUSE}),
    "FCX410": frozenset({G_EMPTY}),
    "FCX420": frozenset({FAKE_REQUEST}),
}
"""Marker code -> kinds of which at least one must be observed.  A code missing here (FCX999,
future codes) cannot be checked at run time; the verdict says so instead of guessing."""

#: A marker's fragment that changes what proves it: FCX210 for a lazy Flask-SQLAlchemy
#: query fails where the query is iterated -- a worker (no app context) or a streamed body
#: (contexts popped) -- with the context error, not with a closed file.
FRAGMENT_KINDS: Dict[Tuple[str, str], FrozenSet[str]] = {
    ("FCX210", "the lazy query"): frozenset({APP, STREAM}),
}


def marker_kinds(code: str, fragment: Optional[str]) -> Optional[FrozenSet[str]]:
    """The kinds that prove one marker (see ``CODE_KINDS`` and ``FRAGMENT_KINDS``)."""
    for (marked, words), found in FRAGMENT_KINDS.items():
        if code == marked and fragment and words in fragment:
            return found
    return CODE_KINDS.get(code)


_REQUEST_MESSAGES = (
    "Working outside of request context",
    # after_this_request / copy_current_request_context / stream_with_context in a worker
    "can only be used when a request context is active",
    # url_for inside app_context() but without SERVER_NAME
    "Unable to build URLs outside an active request",
)
_APP_MESSAGES = ("Working outside of application context",)
_COPY_IMPORT_MESSAGE = "'copy_current_request_context' can only be used"
_COPY_MISUSE_MESSAGES = (
    "created in a different Context",  # ValueError from ContextVar.reset
    "Popped wrong request context",  # AssertionError from RequestContext.pop
    "cannot enter context",  # RuntimeError from contextvars.Context.run
)

ENTRY_TIER: Dict[Tuple[str, str], str] = {
    ("flask.helpers", "url_for"): REQUEST,
    ("flask_login.utils", "login_user"): REQUEST,
    ("flask_login.utils", "logout_user"): REQUEST,
}
"""Library functions whose *tier* (SPEC section 1) differs from the first proxy they touch:
``url_for`` and ``login_user`` read ``current_app`` before the request, so a bare thread sees
the app-context message although the name is request-tier.  Keyed by (module, function) of
the first library frame called from fixture code.  An app that sets ``SERVER_NAME`` makes
``url_for`` app-tier (SPEC section 1): the harness then drops that entry (see
:func:`entry_tiers`)."""


def entry_tiers(server_name: bool) -> Dict[Tuple[str, str], str]:
    """:data:`ENTRY_TIER` for a fixture whose app does (or does not) set ``SERVER_NAME``."""
    if not server_name:
        return dict(ENTRY_TIER)
    return {entry: tier for entry, tier in ENTRY_TIER.items() if entry[1] != "url_for"}


def context_tier(exc_type: str, message: str) -> Optional[str]:
    """REQUEST / APP when the exception is one of Flask's missing-context errors."""
    if exc_type == "RuntimeError" or exc_type.endswith(".RuntimeError"):
        if any(m in message for m in _REQUEST_MESSAGES):
            return REQUEST
        if any(m in message for m in _APP_MESSAGES):
            return APP
    return None


def classify(
    exc_type: str,
    message: str,
    source: str,
    entry: Optional[Tuple[str, str]] = None,
    after_user_none: bool = False,
    tiers: Optional[Dict[Tuple[str, str], str]] = None,
) -> Tuple[str, str]:
    """Kind of one exception, plus a note explaining any non-obvious decision.

    ``source`` says where it surfaced (a worker, the view, the response body, the import);
    ``entry`` is the first library function the fixture called on the failing path;
    ``after_user_none`` says that this thread already saw ``current_user`` resolve to None;
    ``tiers`` replaces :data:`ENTRY_TIER` (see :func:`entry_tiers`).
    """
    if source == SOURCE_IMPORT:
        if _COPY_IMPORT_MESSAGE in message:
            return COPY_MISUSE, "copy_current_request_context applied at import time"
        return IMPORT_ERROR, ""
    if any(m in message for m in _COPY_MISUSE_MESSAGES):
        return COPY_MISUSE, "one copied request context pushed more than once at a time"
    tier = context_tier(exc_type, message)
    if tier is not None:
        if source == SOURCE_BODY:
            return STREAM, f"{tier} context missing while the server iterated the body"
        if entry is not None:
            override = (ENTRY_TIER if tiers is None else tiers).get(entry, tier)
            if override != tier:
                return override, (
                    f"{entry[1]}() is {override}-tier although Flask reported the {tier} context"
                )
        return tier, ""
    if exc_type == "ValueError" and "closed file" in message:
        return CLOSED_FILE, ""
    if exc_type == "AttributeError" and "'_AppCtxGlobals' object has no attribute" in message:
        return G_EMPTY, "g has no such attribute in this app context"
    if after_user_none and exc_type in ("AttributeError", "TypeError") and "NoneType" in message:
        return REQUEST, "consequence of current_user being None outside the request"
    return OTHER, ""
