"""Everything the linter knows about Flask, as data.

The engine (``analysis.py``) never spells a Flask name: it asks this module.  Keeping
the facts here means a new dispatcher, context-local or safe wrapper is one table row,
reviewed against Flask's behaviour, instead of a branch hidden in the traversal.

All names are *qualified* names, i.e. what an identifier resolves to through the
module's imports (``from flask import request as rq`` makes ``rq`` resolve to
``flask.request``).  Flask re-exports most helpers from submodules, so every public
spelling that resolves to the same object is listed and mapped to one canonical name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple


class Tier(enum.Enum):
    """Which context a context-local needs.

    A request context always carries an application context, so anything that makes
    the request tier safe makes the app tier safe too (see ``GUARD_IMPLIES``).
    """

    REQUEST = "request"
    APP = "app"


#: Canonical qualified name -> tier (SPEC section 1).  ``flask.url_for`` is request
#: tier: outside a request it also needs ``SERVER_NAME``.
CONTEXT_LOCALS: Mapping[str, Tier] = {
    "flask.request": Tier.REQUEST,
    "flask.session": Tier.REQUEST,
    "flask.globals.request_ctx": Tier.REQUEST,
    "flask.flash": Tier.REQUEST,
    "flask.get_flashed_messages": Tier.REQUEST,
    "flask.send_file": Tier.REQUEST,
    "flask.send_from_directory": Tier.REQUEST,
    "flask.after_this_request": Tier.REQUEST,
    "flask.stream_with_context": Tier.REQUEST,
    "flask.copy_current_request_context": Tier.REQUEST,
    "flask.url_for": Tier.REQUEST,
    "flask_login.current_user": Tier.REQUEST,
    "flask_login.login_user": Tier.REQUEST,
    "flask_login.logout_user": Tier.REQUEST,
    "flask.current_app": Tier.APP,
    "flask.g": Tier.APP,
    "flask.globals.app_ctx": Tier.APP,
    "flask.render_template": Tier.APP,
    "flask.render_template_string": Tier.APP,
    "flask.stream_template": Tier.APP,
    "flask.stream_template_string": Tier.APP,
    "flask.get_template_attribute": Tier.APP,
    "flask.jsonify": Tier.APP,
    "flask.make_response": Tier.APP,
}

#: Other qualified spellings of the same objects (Flask's own submodules).
NAME_ALIASES: Mapping[str, str] = {
    "flask.globals.request": "flask.request",
    "flask.globals.session": "flask.session",
    "flask.globals.current_app": "flask.current_app",
    "flask.globals.g": "flask.g",
    "flask.request_ctx": "flask.globals.request_ctx",
    "flask.app_ctx": "flask.globals.app_ctx",
    "flask.helpers.flash": "flask.flash",
    "flask.helpers.get_flashed_messages": "flask.get_flashed_messages",
    "flask.helpers.send_file": "flask.send_file",
    "flask.helpers.send_from_directory": "flask.send_from_directory",
    "flask.helpers.stream_with_context": "flask.stream_with_context",
    "flask.helpers.url_for": "flask.url_for",
    "flask.helpers.make_response": "flask.make_response",
    "flask.helpers.get_template_attribute": "flask.get_template_attribute",
    "flask.ctx.after_this_request": "flask.after_this_request",
    "flask.ctx.copy_current_request_context": "flask.copy_current_request_context",
    "flask.templating.render_template": "flask.render_template",
    "flask.templating.render_template_string": "flask.render_template_string",
    "flask.templating.stream_template": "flask.stream_template",
    "flask.templating.stream_template_string": "flask.stream_template_string",
    "flask.json.jsonify": "flask.jsonify",
    "flask_login.utils.current_user": "flask_login.current_user",
    "flask_login.utils.login_user": "flask_login.login_user",
    "flask_login.utils.logout_user": "flask_login.logout_user",
}

#: Top-level packages whose imports can bind a context-local.  Only identifiers bound
#: by importing from these are ever resolved, which keeps name resolution cheap.
CONTEXT_LOCAL_PACKAGES: Tuple[str, ...] = ("flask", "flask_login")


def canonical_name(qualified_name: str) -> str:
    """Map any public spelling of a Flask object to the one used in messages."""
    return NAME_ALIASES.get(qualified_name, qualified_name)


def context_local_tier(qualified_name: str) -> Optional[Tier]:
    """The tier a qualified name needs, or ``None`` if it is not a context-local."""
    return CONTEXT_LOCALS.get(canonical_name(qualified_name))


#: Context-locals that are *objects* (proxies): their truth value is ``False`` when no
#: context is bound, which makes ``if request:`` a guard.  Functions are not proxies.
PROXY_OBJECTS = frozenset(
    {
        "flask.request",
        "flask.session",
        "flask.globals.request_ctx",
        "flask_login.current_user",
        "flask.current_app",
        "flask.g",
        "flask.globals.app_ctx",
    }
)

#: Calls whose truth says a context is bound (``if has_request_context():``).
GUARD_CALLS: Mapping[str, Tier] = {
    "flask.has_request_context": Tier.REQUEST,
    "flask.ctx.has_request_context": Tier.REQUEST,
    "flask.has_app_context": Tier.APP,
    "flask.ctx.has_app_context": Tier.APP,
}

#: A guard on one tier makes which tiers safe: a request context implies an app one.
GUARD_IMPLIES: Mapping[Tier, frozenset[Tier]] = {
    Tier.REQUEST: frozenset({Tier.REQUEST, Tier.APP}),
    Tier.APP: frozenset({Tier.APP}),
}

#: ``with <anything>.<method>(...):`` pushes these tiers for the body.  The receiver is
#: not checked: any Flask app object has these methods, and nothing else commonly does.
CONTEXT_MANAGER_METHODS: Mapping[str, frozenset[Tier]] = {
    "app_context": frozenset({Tier.APP}),
    "test_request_context": frozenset({Tier.REQUEST, Tier.APP}),
}

#: Wrappers that carry the request context into the callable (decorator or call).
SAFE_WRAPPERS = frozenset(
    {"flask.copy_current_request_context", "flask.ctx.copy_current_request_context"}
)

#: ``copy_context().run`` as the dispatched callable: the contextvars travel with it.
CONTEXT_COPIERS = frozenset({"contextvars.copy_context"})

#: ``functools.partial(fn, ...)`` dispatches ``fn``.
PARTIAL_FACTORIES = frozenset({"functools.partial"})


def star_exports(package: str) -> frozenset[str]:
    """Names of ours that ``from <package> import *`` binds (Flask has no ``__all__``,
    so every public name; Flask-Login's ``__all__`` lists its three)."""
    known = list(CONTEXT_LOCALS) + list(NAME_ALIASES) + list(GUARD_CALLS) + list(SAFE_WRAPPERS)
    prefix = package + "."
    return frozenset(
        name[len(prefix):]
        for name in known
        if name.startswith(prefix) and "." not in name[len(prefix):]
    )


@dataclass(frozen=True)
class CallDispatcher:
    """A callable that starts the callable it is given somewhere else.

    ``position``/``keyword`` say where the dispatched callable is passed.
    ``mechanism`` completes the sentence "``worker()`` runs ...".  ``needs_start``:
    the call builds an object that runs nothing until ``.start()`` (a Thread whose
    ``.run()`` is called directly runs synchronously, in the request).
    """

    qualified_names: frozenset[str]
    position: int
    keyword: str
    mechanism: str
    needs_start: bool


CALL_DISPATCHERS: Tuple[CallDispatcher, ...] = (
    CallDispatcher(
        frozenset({"threading.Thread"}), 1, "target", "in a new threading.Thread", True
    ),
    CallDispatcher(
        frozenset({"threading.Timer"}), 1, "function", "in a threading.Timer thread", True
    ),
    CallDispatcher(
        frozenset({"_thread.start_new_thread", "_thread.start_new"}),
        0,
        "function",
        "in a _thread.start_new_thread thread",
        False,
    ),
)

#: Packages whose imports can bind a ``CALL_DISPATCHERS`` name: only calls through
#: identifiers these imports bind are resolved (a cheap filter that keeps aliases).
DISPATCH_PACKAGES: Tuple[str, ...] = tuple(
    sorted({name.split(".")[0] for d in CALL_DISPATCHERS for name in d.qualified_names})
)


@dataclass(frozen=True)
class ReceiverType:
    """What an object built by one of ``qualified_names`` does with jobs.

    ``dispatches`` is False for receivers that carry the request context themselves
    (Flask-Executor wraps every job in ``copy_current_request_context``).
    """

    qualified_names: frozenset[str]
    label: str
    dispatches: bool


EXECUTOR_TYPES: Tuple[ReceiverType, ...] = (
    ReceiverType(
        frozenset(
            {
                "concurrent.futures.ThreadPoolExecutor",
                "concurrent.futures.thread.ThreadPoolExecutor",
            }
        ),
        "ThreadPoolExecutor",
        True,
    ),
    ReceiverType(
        frozenset(
            {
                "concurrent.futures.ProcessPoolExecutor",
                "concurrent.futures.process.ProcessPoolExecutor",
            }
        ),
        "ProcessPoolExecutor",
        True,
    ),
    ReceiverType(frozenset({"flask_executor.Executor"}), "Flask-Executor", False),
)


@dataclass(frozen=True)
class MethodDispatcher:
    """``receiver.<method>(fn, ...)`` on a receiver built by an ``EXECUTOR_TYPES`` row.

    ``on_unknown_receiver``: also a dispatch when the receiver cannot be resolved
    (``submit`` nearly always means "run elsewhere"; ``map`` does not: pandas).
    """

    method: str
    position: int
    on_unknown_receiver: bool


METHOD_DISPATCHERS: Tuple[MethodDispatcher, ...] = (
    MethodDispatcher("submit", 0, True),
    MethodDispatcher("map", 0, False),
)

#: Base classes whose subclasses run ``run()`` in a new thread when started.
THREAD_BASE_CLASSES = frozenset({"threading.Thread"})

#: Words one of which a file must contain to hold a dispatch site this version
#: detects.  A file without any of them cannot produce a finding, so it is not parsed.
DISPATCH_WORDS: Tuple[str, ...] = (
    "submit",
    "Thread",
    "Timer",
    "start_new",
    "Executor",
)
