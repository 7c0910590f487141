"""The short form of a message: what a person reads at a glance in an editor or a CI log.

A full message names the context-local, where the code runs, what it reads, the whole
chain and the fix -- 200 to 300 characters on one line.  The headline keeps the first
three (``FCX100 flask.request is read outside the request: charge_card() runs in a
ThreadPoolExecutor worker and reads request.remote_addr (line 29)``), about 120
characters; the chain and the fix are behind ``--show-chain`` (``--flask-ctx-show-chain``
in flake8) and always in JSON and SARIF.

The builders in ``codes.py`` return a ``Message``: the full text (a ``str``, so every
existing use keeps working) that carries its headline.  A plain string's headline is its
text up to its explanation (the first ``": "`` or ``"; "`` outside parentheses).
"""

from __future__ import annotations

#: Messages shown whole: an analyzer failure is all headline (what failed, where).
UNCUT = ("FCX999",)
#: The longest part of a headline taken from code text (a callable's label, a read).
MAX_PART = 40


class Message(str):
    """A full message that knows its headline."""

    headline: str

    def __new__(cls, full: str, headline: str) -> "Message":
        made = super().__new__(cls, full)
        made.headline = headline
        return made

    def __reduce__(self) -> "tuple[type, tuple[str, str]]":
        return (Message, (str(self), self.headline))


def headline_of(message: str) -> str:
    """The message's headline (see the module's docstring)."""
    found = getattr(message, "headline", None)
    if isinstance(found, str) and found:
        return found
    if message.startswith(UNCUT):
        return message
    depth = 0
    for index, char in enumerate(message):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char in ";:" and depth == 0 and message.startswith(" ", index + 1):
            return message[:index]
    return message


def short_mechanism(mechanism: str) -> str:
    """Where the code runs, without the notes the full message adds in parentheses
    ("in a ThreadPoolExecutor (its initializer pushes an app context) worker")."""
    kept: list[str] = []
    group: list[str] = []  # the parenthesised text being read, parentheses included
    depth = 0
    for char in mechanism:
        if depth:
            group.append(char)
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                if " " not in group:  # ``defer()``, ``Worker(...)``: code, not a note
                    kept.extend(group)
                group = []
        elif char == "(":
            depth, group = 1, [char]
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def clip(text: str, width: int = MAX_PART) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
