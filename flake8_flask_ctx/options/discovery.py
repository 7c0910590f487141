"""Where the standalone command's configuration comes from: one model for both front ends.

flake8 reads ``[flake8]`` in ``setup.cfg``, ``tox.ini`` or ``.flake8``; the standalone
command reads the same section (the ``flask-ctx-*`` options, ``select``,
``extend-select``, ``ignore``, ``extend-ignore``, ``per-file-ignores``, ``exclude``,
``extend-exclude``) and ``[tool.flake8-flask-ctx]`` in ``pyproject.toml``, so a project
configured for flake8 gets the same answer from both.  Each is looked for from the
checked paths upwards (the nearest one, as ruff does), not only from the working
directory.  Where both set a key, the pyproject table wins (it is this tool's own
table) and the command says so in one line when they disagree.

Values of ``[flake8]`` are read as flake8 reads them: lists split at commas and
whitespace, booleans ``true/false/yes/no/on/off/1/0``.  flake8's other keys
(``max-line-length``...) are flake8's business; a key that starts with ``flask-ctx``
and is not one of ours is a misspelling, reported like any bad value.
"""

from __future__ import annotations

import configparser
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import config
from .config import ConfigError
from .reading import read_regular_file

#: The files flake8 reads, in the order it tries them in one directory.
FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")
FLAKE8_SECTION = "flake8"
#: The other section that makes a file flake8's configuration file.
LOCAL_PLUGINS = "flake8:local-plugins"
#: ``[flake8]`` keys the standalone command takes (flake8's own, and ours).
FLAKE8_KEYS = frozenset({
    *config.LIST_KEYS, *config.PAIR_KEYS, *config.BOOL_KEYS, *config.COUNT_KEYS,
    "flask-ctx-project-root",
})
RUFF_SECTION = "[tool.ruff]"
_TRUE = frozenset({"1", "yes", "true", "on"})
_FALSE = frozenset({"0", "no", "false", "off"})


@dataclass
class Sources:
    """The configuration a run uses: the merged values, the files they came from, the
    directory each file's relative paths are relative to, and notes for the user."""

    values: Dict[str, Any] = field(default_factory=dict)
    files: List[Path] = field(default_factory=list)
    #: For each key, the directory of the file that set it (relative patterns), and
    #: that file with its section (``setup.cfg [flake8]``), for error messages.
    bases: Dict[str, Path] = field(default_factory=dict)
    origins: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def split_list(value: str) -> List[str]:
    """flake8's list syntax: names separated by commas and/or whitespace."""
    return [part for part in re.split(r"[,\s]+", value) if part]


def absolute(path: "str | Path") -> Path:
    """``path`` made absolute as flake8 makes paths (``os.path.abspath``: symlinks are
    kept, so patterns and checked paths are compared in the same spelling)."""
    return Path(os.path.abspath(path))


def start_directory(paths: Sequence[str]) -> Path:
    """Where to look from: the deepest directory holding every checked path."""
    given = [absolute(p) for p in paths if p != "-"] or [absolute(os.curdir)]
    directories = [p if p.is_dir() else p.parent for p in given]
    common = directories[0]
    for directory in directories[1:]:
        while common != directory and common not in directory.parents:
            common = common.parent
    return common


@functools.lru_cache(maxsize=4096)
def config_key(directory: Path) -> Tuple[Optional[Path], Optional[Path]]:
    """Which configuration files apply to the files of ``directory``: the nearest
    flake8 file and the nearest ``pyproject.toml`` (files with equal keys are checked
    with the same options)."""
    start = absolute(directory)
    return find_flake8_config(start), config.find_pyproject(start)


def find_flake8_config(start: Path) -> Optional[Path]:
    """The file flake8 reads from ``start``: in each directory from there up, the
    first of flake8's file names with a ``[flake8]`` (or ``[flake8:local-plugins]``)
    section; the home directory is looked at only when it is ``start``, and a file
    that is not UTF-8 INI is passed over, as flake8 does."""
    home = os.path.expanduser("~")
    home_path = absolute(home) if home != "~" else None
    directory = start
    while True:
        for name in FLAKE8_FILES:
            path = directory / name
            if path.is_file() and _has_section(path):
                return path
        parent = directory.parent
        if parent == directory or parent == home_path:
            return None
        directory = parent


@functools.lru_cache(maxsize=256)
def _has_section(path: Path) -> bool:
    """Read once per run: every directory of a big tree asks about the same files."""
    try:
        parser = _parser(path)
    except ConfigError:
        return False  # flake8 passes over a file it cannot parse
    return parser.has_section(FLAKE8_SECTION) or parser.has_section(LOCAL_PLUGINS)


def _parser(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        text = read_regular_file(path, config.MAX_CONFIG_BYTES).decode("utf-8")
        parser.read_string(text, source=str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except configparser.Error as error:
        first = str(error).splitlines()[0]
        raise ConfigError(f"{path}: not an INI file: {first}") from None
    return parser


def load_flake8(path: Path) -> Dict[str, Any]:
    """The keys of ``[flake8]`` in ``path`` the standalone command takes, checked."""
    parser = _parser(path)
    if not parser.has_section(FLAKE8_SECTION):
        return {}
    table: Dict[str, Any] = {}
    for raw_key, raw_value in parser.items(FLAKE8_SECTION):
        key = raw_key.replace("_", "-")
        where = f"{path}: [{FLAKE8_SECTION}] {raw_key}"
        if key not in FLAKE8_KEYS:
            if key.startswith("flask-ctx"):
                known = ", ".join(sorted(k for k in FLAKE8_KEYS if k.startswith("flask-ctx")))
                raise ConfigError(f"{where}: unknown key (known: {known})")
            continue  # flake8's own options
        value = raw_value.strip()
        if key in config.BOOL_KEYS:
            if value.lower() not in _TRUE | _FALSE:
                raise ConfigError(f"{where}: {value!r} is not a boolean (true or false)")
            table[key] = value.lower() in _TRUE
        elif key in config.COUNT_KEYS:
            if not value.isdigit():
                raise ConfigError(f"{where}: {value!r} is not a whole number (0: no limit)")
            table[key] = int(value)
        elif key in config.LIST_KEYS:
            table[key] = split_list(value)
        else:
            table[key] = value
    return table


def gather(
    paths: Sequence[str], explicit: Optional[Path] = None, isolated: bool = False
) -> Sources:
    """The configuration for a run over ``paths`` (see the module's docstring)."""
    found = Sources()
    if isolated:
        return found
    tables: List[Tuple[Path, Dict[str, Any], str]] = []
    if explicit is not None:
        if explicit.suffix == ".toml":
            tables.append((explicit, config.load(explicit), f"[{config.TABLE}]"))
        else:
            tables.append((explicit, load_flake8(explicit), f"[{FLAKE8_SECTION}]"))
    else:
        start = start_directory(paths)
        flake8_file = find_flake8_config(start)
        if flake8_file is not None:
            tables.append((flake8_file, load_flake8(flake8_file), f"[{FLAKE8_SECTION}]"))
        pyproject = config.find_pyproject(start)
        if pyproject is not None:
            tables.append((pyproject, config.load(pyproject), f"[{config.TABLE}]"))
        nearest = config.nearest_pyproject(start)
        length = config.ruff_line_length(nearest) if nearest is not None else None
        if nearest is not None and length is not None:  # lowest priority: any other wins
            tables.insert(0, (nearest, {"max-line-length": length}, RUFF_SECTION))
    shown: Dict[str, str] = {}
    for path, table, section in tables:  # later tables win: the pyproject one
        if table and path not in found.files:
            found.files.append(path)
        for key, value in table.items():
            overridden = shown.get(key, "")
            if key in found.values and found.values[key] != value and (
                RUFF_SECTION not in overridden  # ruff's is a fallback: no news
            ):
                found.notes.append(
                    f"{key}: {path.name} {section} ({_show(value)}) overrides "
                    f"{shown[key]}"
                )
            found.values[key] = value
            found.bases[key] = path.parent
            found.origins[key] = f"{path}: {section}"
            shown[key] = f"{path.name} {section} ({_show(value)})"
    return found


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value).replace("\n", " ").strip()


def flake8_config_files(argv: Sequence[str], cwd: Path) -> List[Path]:
    """The configuration files flake8 reads for ``argv``: ``--config FILE`` or the
    nearest one from the working directory, plus any ``--append-config``; none with
    ``--isolated``."""
    if any(_abbreviates(argument, "--isolated") for argument in argv):
        return []
    explicit = _option_values(argv, "--config")
    files = [Path(explicit[-1])] if explicit else []
    if not files:
        found = find_flake8_config(absolute(cwd))
        files = [found] if found is not None else []
    return files + [Path(value) for value in _option_values(argv, "--append-config")]


def _option_values(argv: Sequence[str], option: str) -> List[str]:
    """The values given to ``option``, spelled in full or abbreviated as argparse
    allows (``--conf other.cfg``, ``--config=other.cfg``)."""
    values: List[str] = []
    for index, argument in enumerate(argv):
        name, equals, value = argument.partition("=")
        if not _abbreviates(name, option):
            continue
        if equals:
            values.append(value)
        elif index + 1 < len(argv):
            values.append(argv[index + 1])
    return values


#: How much of an option flake8 needs to know it (``--con`` is not ``--count``).
_SHORTEST = {"--config": 5, "--append-config": 6, "--isolated": 5}


def _abbreviates(argument: str, option: str) -> bool:
    return (
        argument.startswith("--") and option.startswith(argument)
        and len(argument) >= _SHORTEST.get(option, len(option))
    )


def check_flake8_files(argv: Sequence[str], cwd: Path) -> Optional[str]:
    """The first problem with our keys in the files flake8 will read (a misspelt
    ``flask-ctx-*`` key, a value that is not a boolean or a number), as one line; None
    when there is none.  flake8 itself ignores unknown keys and ends a bad boolean in
    a traceback, so the plugin checks first."""
    if any(argument in ("-h", "--help", "--version") for argument in argv):
        return None  # nothing is checked: flake8 must answer these whatever the files say
    for path in flake8_config_files(argv, cwd):
        if not path.is_file():
            continue  # flake8 says so itself
        try:
            load_flake8(path)
        except ConfigError as error:
            return str(error)
    return None
