"""The code registry: the only home of user-visible diagnostic text.

Codes are never renumbered (users have them in ``noqa`` comments and config files).
The README's rule table and the fixtures are checked against ``CODES`` by a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


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


def reach_message(
    code: str,
    local: str,
    callable_name: str,
    mechanism: str,
    read_text: str,
    read_line: int,
    chain: str,
) -> str:
    """FCX100/FCX110: what is read, where the callable runs, the chain, the fix."""
    via = f", via {chain}" if chain else ""
    if code == "FCX100":
        problem = f"{local} is read outside the request"
        fix = REQUEST_FIX
    else:
        problem = f"{local} is used with no application context"
        fix = APP_FIX
    fix = FIX_OVERRIDES.get(local, fix)
    return (
        f"{code} {problem}: {callable_name} runs {mechanism} and reads "
        f"{read_text} (line {read_line}{via}); {fix}"
    )


def failure_message(error: BaseException) -> str:
    """FCX999: name the failure so the user can report it, never hide it."""
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    name = type(error).__name__
    return (
        f"FCX999 flake8-flask-ctx failed on this file ({name}: {detail}); "
        "please report it with the file if you can"
    )
