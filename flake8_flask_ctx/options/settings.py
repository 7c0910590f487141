"""User options, parsed once into a frozen ``Settings``.

Options are comma-separated dotted names matched by *qualified* name, so an alias in
the checked code (``from myapp.jobs import defer as later``) still matches
``myapp.jobs.defer``.  The flake8 adapter and any other front end build ``Settings``
with ``Settings.from_values``; the engine only ever sees ``knowledge.Knowledge``.
"""

from __future__ import annotations

import os

from dataclasses import dataclass
from typing import Iterable, Optional, Tuple, Union


class SettingsError(ValueError):
    """An option value that cannot mean anything (reported to the user, not ignored)."""


@dataclass(frozen=True)
class DispatcherOption:
    """``NAME[:ARG]`` from ``--flask-ctx-dispatchers``.

    ``NAME`` is a function/class (``myapp.jobs.defer``) or ``*.method`` for a method on
    any receiver; ``ARG`` is the 0-based position or the keyword of the callable
    (default: position 0).
    """

    name: str
    position: Optional[int]
    keyword: str

    @property
    def is_method(self) -> bool:
        return self.name.startswith("*.")

    @classmethod
    def parse(cls, text: str) -> "DispatcherOption":
        name, _, argument = text.strip().partition(":")
        if not _is_dotted(name[2:] if name.startswith("*.") else name):
            raise SettingsError(f"--flask-ctx-dispatchers: {text!r} is not a dotted name")
        if not argument:
            return cls(name, 0, "")
        if argument.isdigit():
            return cls(name, int(argument), "")
        if argument.isidentifier():
            return cls(name, None, argument)
        raise SettingsError(
            f"--flask-ctx-dispatchers: {text!r}: after ':' give a position or a keyword"
        )


@dataclass(frozen=True)
class Settings:
    dispatchers: Tuple[DispatcherOption, ...] = ()
    safe_wrappers: Tuple[str, ...] = ()
    request_locals: Tuple[str, ...] = ()
    app_locals: Tuple[str, ...] = ()
    server_name: bool = False
    #: Where the project's modules are looked up for cross-module reach (``None``:
    #: found from the checked file, see ``project.project_roots``).
    project_root: Optional[str] = None
    #: Follow callables into other modules of the project.
    cross_module: bool = True

    @classmethod
    def from_values(
        cls,
        dispatchers: Iterable[str] = (),
        safe_wrappers: Iterable[str] = (),
        request_locals: Iterable[str] = (),
        app_locals: Iterable[str] = (),
        server_name: Union[bool, str, None] = False,
        project_root: Optional[str] = None,
        cross_module: Union[bool, str, None] = True,
    ) -> "Settings":
        return cls(
            dispatchers=tuple(DispatcherOption.parse(d) for d in _clean(dispatchers)),
            safe_wrappers=_dotted("--flask-ctx-safe-wrappers", safe_wrappers),
            request_locals=_dotted("--flask-ctx-request-locals", request_locals),
            app_locals=_dotted("--flask-ctx-app-locals", app_locals),
            server_name=_boolean(server_name),
            project_root=_directory("--flask-ctx-project-root", project_root),
            cross_module=_boolean(cross_module),
        )


def _directory(option: str, value: Optional[str]) -> Optional[str]:
    """An existing directory, or None when not given.  A root that does not exist would
    make every cross-module finding vanish without a word: refused instead."""
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if not os.path.isdir(cleaned):
        raise SettingsError(f"{option}: {cleaned!r} is not a directory")
    return cleaned


def _clean(values: Iterable[str]) -> Tuple[str, ...]:
    return tuple(v.strip() for v in values if v and v.strip())


def _dotted(option: str, values: Iterable[str]) -> Tuple[str, ...]:
    cleaned = _clean(values)
    for value in cleaned:
        if not _is_dotted(value):
            raise SettingsError(f"{option}: {value!r} is not a dotted name")
    return cleaned


def _is_dotted(value: str) -> bool:
    return bool(value) and all(part.isidentifier() for part in value.split("."))


def _boolean(value: Union[bool, str, None]) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    return value.strip().lower() in {"1", "true", "yes", "on"}


#: Environment switch of the experimental semantic gate (``index/semantic_gate.py``):
#: ``on`` (or ``1``/``yes``/``true``) asks it; anything else, or nothing, does not.
SEMANTIC_GATE_SWITCH = "FLASK_CTX_SEMANTIC_GATE"


def semantic_gate_enabled() -> bool:
    value = os.environ.get(SEMANTIC_GATE_SWITCH, "off").strip().lower()
    return value in {"on", "1", "yes", "true"}
