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


#: The default of ``--flask-ctx-max-nodes``.  The biggest hand-written modules
#: measured have about 100,000 nodes (numpy's ``test_multiarray.py`` 92,000; Flask
#: applications' modules stay under 50,000).
DEFAULT_MAX_NODES = 150_000


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
    #: A module that may hold a finding and has more ``ast`` nodes than this is not
    #: analysed (one FCX999 names the limit instead): LibCST's tree costs 2-4 KB of
    #: memory per node, so this bounds a check to about 0.6 GB.  0: no limit.
    max_nodes: int = DEFAULT_MAX_NODES

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
        max_nodes: Union[int, str, None] = None,
    ) -> "Settings":
        return cls(
            dispatchers=tuple(DispatcherOption.parse(d) for d in _clean(dispatchers)),
            safe_wrappers=_dotted("--flask-ctx-safe-wrappers", safe_wrappers),
            request_locals=_dotted("--flask-ctx-request-locals", request_locals),
            app_locals=_dotted("--flask-ctx-app-locals", app_locals),
            server_name=_boolean(server_name),
            project_root=_directory("--flask-ctx-project-root", project_root),
            cross_module=_boolean(cross_module),
            max_nodes=_count("--flask-ctx-max-nodes", max_nodes, DEFAULT_MAX_NODES),
        )


def _count(option: str, value: Union[int, str, None], default: int) -> int:
    """A limit: a whole number, 0 for none; empty or not given: the default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        raise SettingsError(f"{option}: expected a whole number, not {value!r}")
    text = str(value).strip().replace("_", "")
    if not text.isdigit():
        raise SettingsError(f"{option}: {value!r} is not a whole number (0: no limit)")
    return int(text)


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
