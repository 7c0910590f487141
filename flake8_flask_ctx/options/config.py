"""``[tool.flake8-flask-ctx]`` in ``pyproject.toml``: the standalone command's settings.

Keys are the flake8 option names without the dashes in front (``flask-ctx-dispatchers``,
``flask-ctx-server-name`` ...), plus ``select``, ``ignore``, ``exclude`` and ``format``;
list-valued options are TOML lists.  Python 3.11+ reads TOML with ``tomllib``; older
Pythons use the small reader below, which understands what this table needs (strings,
booleans, integers, arrays of strings) -- the plugin's only runtime dependencies are
flake8 and LibCST.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

TABLE = "tool.flake8-flask-ctx"

#: Keys the table may hold, with the kind of value each takes.
LIST_KEYS = (
    "flask-ctx-dispatchers", "flask-ctx-safe-wrappers", "flask-ctx-request-locals",
    "flask-ctx-app-locals", "select", "ignore", "exclude", "extend-exclude",
)
BOOL_KEYS = ("flask-ctx-server-name", "flask-ctx-single-module")
STRING_KEYS = ("flask-ctx-project-root", "format")


class ConfigError(ValueError):
    """A configuration file that cannot mean anything (reported, exit status 2)."""


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest ``pyproject.toml`` at or above ``start`` that has our table (the
    first one found stops the search, as for a project's own root)."""
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate in [directory, *directory.parents]:
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load(path: Path) -> Dict[str, Any]:
    """Our table from ``path`` (empty if it has none), validated."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    data = _parse(text, path)
    table = data.get("tool", {}).get("flake8-flask-ctx", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{TABLE}] must be a table")
    return validate(table, path)


def validate(table: Dict[str, Any], path: Path) -> Dict[str, Any]:
    checked: Dict[str, Any] = {}
    for key, value in table.items():
        where = f"{path}: [{TABLE}] {key}"
        if key in LIST_KEYS:
            if isinstance(value, str):
                value = [v for v in re.split(r"[,\s]+", value) if v]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of strings")
        elif key in BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false")
        elif key in STRING_KEYS:
            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a string")
        else:
            known = ", ".join((*LIST_KEYS, *BOOL_KEYS, *STRING_KEYS))
            raise ConfigError(f"{where}: unknown key (known: {known})")
        checked[key] = value
    return checked


def _parse(text: str, path: Path) -> Dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: invalid TOML: {error}") from None
    return _mini_toml(text, path)  # pragma: no cover - exercised on Python < 3.11


_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r'^("[^"]+"|[A-Za-z0-9_.-]+)\s*=\s*(.*)$')


def _mini_toml(text: str, path: Path) -> Dict[str, Any]:
    """Just enough TOML for our table: other tables are skipped, not validated."""
    result: Dict[str, Any] = {}
    current: Optional[Dict[str, Any]] = None
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header:
            name = header.group(1).replace('"', "")
            current = {} if name == TABLE else None
            if current is not None:
                result.setdefault("tool", {})["flake8-flask-ctx"] = current
            continue
        if current is None or line.startswith("[["):
            continue
        match = _KEY.match(line)
        if not match:
            raise ConfigError(f"{path}:{index}: cannot read this line of [{TABLE}]")
        key, raw = match.group(1).strip('"'), match.group(2)
        while raw.count("[") > raw.count("]") and index < len(lines):
            raw += " " + lines[index].strip()
            index += 1
        current[key] = _value(raw, path, index)
    return result


def _value(raw: str, path: Path, line: int) -> Any:
    raw = _strip_comment(raw).strip()
    if raw in ("true", "false"):
        return raw == "true"
    if raw.startswith("[") and raw.endswith("]"):
        pairs = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'', raw[1:-1])
        items: List[str] = [a or b for a, b in pairs]
        return items
    if (raw.startswith('"') and raw.endswith('"')) or (raw.startswith("'") and raw.endswith("'")):
        return raw[1:-1]
    if re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    raise ConfigError(f"{path}:{line}: unsupported value {raw!r}")


def _strip_comment(raw: str) -> str:
    quote = ""
    for position, char in enumerate(raw):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return raw[:position]
    return raw
