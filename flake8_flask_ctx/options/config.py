"""``[tool.flake8-flask-ctx]`` in ``pyproject.toml``: the standalone command's settings.

Keys are the flake8 option names without the dashes in front (``flask-ctx-dispatchers``,
``flask-ctx-server-name`` ...), plus flake8's ``select``, ``extend-select``, ``ignore``,
``extend-ignore``, ``per-file-ignores``, ``exclude``, ``extend-exclude``, and ``format``;
list-valued options are TOML lists.  Python 3.11+ reads TOML with ``tomllib``; older
Pythons with ``tomli`` (the same parser, a dependency only there).  Every key and value
is checked here, before any file is read: a wrong one is a ``ConfigError`` (exit
status 2), never a crash after the analysis.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, Optional

from .reading import read_regular_file

#: A configuration file bigger than this is not one (bytes).
MAX_CONFIG_BYTES = 1_000_000

TABLE = "tool.flake8-flask-ctx"

#: Keys the table may hold, with the kind of value each takes.
LIST_KEYS = (
    "flask-ctx-dispatchers", "flask-ctx-safe-wrappers", "flask-ctx-request-locals",
    "flask-ctx-app-locals", "select", "ignore", "exclude", "extend-exclude", "extend-select",
    "extend-ignore",
)
#: ``per-file-ignores``: flake8's ``PATTERN:CODES`` pairs, one string or a list of them.
PAIR_KEYS = ("per-file-ignores",)
BOOL_KEYS = ("flask-ctx-server-name", "flask-ctx-single-module", "flask-ctx-show-chain")
STRING_KEYS = ("flask-ctx-project-root", "format")
#: Limits: whole numbers, 0 for none.
COUNT_KEYS = ("flask-ctx-max-nodes", "max-line-length")
#: The output formats (``frontends/formats.py`` names the same ones; a test keeps them
#: equal).  Kept here so that the configuration is checked without the front end.
FORMAT_CHOICES = ("github", "json", "sarif", "text")


class ConfigError(ValueError):
    """A configuration file that cannot mean anything (reported, exit status 2)."""


def nearest_pyproject(start: Path) -> Optional[Path]:
    """The nearest ``pyproject.toml`` at or above ``start``, whatever it holds."""
    directory = Path(os.path.abspath(start))
    if directory.is_file():
        directory = directory.parent
    for candidate in [directory, *directory.parents]:
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest ``pyproject.toml`` at or above ``start`` that has our table: one
    without it (a sub-package's own metadata) does not hide the project's, as ruff
    passes over a ``pyproject.toml`` without ``[tool.ruff]``.  A file that cannot be
    parsed stops the search (reading it reports why)."""
    found = nearest_pyproject(start)
    while found is not None:
        if _has_table(found):
            return found
        parent = found.parent.parent
        if parent == found.parent:
            return None
        found = nearest_pyproject(parent)
    return None


@functools.lru_cache(maxsize=256)
def _has_table(path: Path) -> bool:
    """Parsed once per run: every directory of a big tree asks about the same file."""
    try:
        text = read_regular_file(path, MAX_CONFIG_BYTES).decode("utf-8")
        tool = _parse(text, path).get("tool", {})
    except (OSError, UnicodeDecodeError, ConfigError):
        return True  # load() says what is wrong with it
    return not isinstance(tool, dict) or "flake8-flask-ctx" in tool


def load(path: Path) -> Dict[str, Any]:
    """Our table from ``path`` (empty if it has none), validated."""
    try:
        text = read_regular_file(path, MAX_CONFIG_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    data = _parse(text, path)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        # ``tool = 5``: not our table, but nothing can be read from it either.
        raise ConfigError(f"{path}: tool must be a table, not {type(tool).__name__}")
    table = tool.get("flake8-flask-ctx", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{TABLE}] must be a table, not {type(table).__name__}")
    return validate(table, path)


def ruff_line_length(path: Path) -> Optional[int]:
    """``line-length`` of ``[tool.ruff]`` in ``path``: the project's maximum line length
    for ``--fix`` when no flake8 setting names one (ruff users run the standalone)."""
    try:
        text = read_regular_file(path, MAX_CONFIG_BYTES).decode("utf-8")
        tool = _parse(text, path).get("tool", {})
    except (OSError, UnicodeDecodeError, ConfigError):
        return None
    ruff = tool.get("ruff", {}) if isinstance(tool, dict) else {}
    length = ruff.get("line-length") if isinstance(ruff, dict) else None
    return length if isinstance(length, int) and not isinstance(length, bool) else None


def validate(table: Dict[str, Any], path: Path) -> Dict[str, Any]:
    checked: Dict[str, Any] = {}
    for key, value in table.items():
        where = f"{path}: [{TABLE}] {key}"
        if key in LIST_KEYS:
            if isinstance(value, str):
                value = [v for v in re.split(r"[,\s]+", value) if v]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of strings")
        elif key in PAIR_KEYS:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = "\n".join(value)
            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a string or a list of strings")
        elif key in BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false")
        elif key in COUNT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where}: expected a whole number (0: no limit)")
        elif key in STRING_KEYS:
            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a string")
            if key == "format" and value not in FORMAT_CHOICES:
                raise ConfigError(
                    f"{where}: {value!r} is not a format (choose from "
                    f"{', '.join(FORMAT_CHOICES)})"
                )
        else:
            known = ", ".join(
                sorted((*LIST_KEYS, *PAIR_KEYS, *BOOL_KEYS, *STRING_KEYS, *COUNT_KEYS))
            )
            raise ConfigError(f"{where}: unknown key (known: {known})")
        checked[key] = value
    return checked


def _parse(text: str, path: Path) -> Dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib as toml
    else:  # pragma: no cover - exercised on Python < 3.11
        import tomli as toml
    try:
        parsed: Dict[str, Any] = toml.loads(text)
    except toml.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    return parsed
