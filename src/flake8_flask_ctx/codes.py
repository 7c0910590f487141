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
            "FCX300",
            "streamed-generator-without-context",
            "a generator streamed as the response body reaches a context-local "
            "without stream_with_context",
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


#: A task body never runs in a request: only its arguments can carry data in.
TASK_FIX = "pass the values the task needs as its arguments, read in the view"
STREAM_FIX = (
    "wrap the generator with stream_with_context (Response(stream_with_context(gen()))), "
    "or read the values in the view and pass them to the generator"
)


def reach_message(
    code: str,
    local: str,
    callable_name: str,
    mechanism: str,
    read_text: str,
    read_line: int,
    chain: str,
    task: bool = False,
) -> str:
    """FCX100/FCX110/FCX300: what is read, where the code runs, the chain, the fix."""
    via = f", via {chain}" if chain else ""
    if code == "FCX300":
        problem = f"{local} is read {mechanism.split(',')[0]}"
        fix = STREAM_FIX
    elif code == "FCX100":
        problem = f"{local} is read outside the request"
        fix = REQUEST_FIX
    else:
        problem = f"{local} is used with no application context"
        fix = APP_FIX
    fix = FIX_OVERRIDES.get(local, fix)
    if task and code != "FCX300":
        fix = TASK_FIX
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
