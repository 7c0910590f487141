"""The standalone command's options: the command line, and the configuration files it
reads (``options/discovery.py``), made into one ``Options``.

Every mistake is a one-line ``UsageError`` (exit status 2) before any file is read: an
unknown option, a bad value, a code prefix that is not one (``FCX-100``), or a
selection that reports none of this tool's codes (``--select=FXC``), which would
otherwise print nothing and exit 0.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, NoReturn, Optional, Sequence, Set, Tuple

from ..options import discovery
from ..options.config import ConfigError
from ..options.settings import Settings, SettingsError
from ..rules.codes import CODES
from ..version import __version__
from .formats import FORMATS
from .selection import Selection, normalize_path

#: Directories never searched (flake8's defaults plus virtualenvs and build output).
DEFAULT_EXCLUDE = (
    ".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs", "*.egg",
    ".venv", "venv", ".ci-venv", "node_modules", "build", "dist", "site-packages",
    ".mypy_cache", ".pytest_cache", "*.egg-info",
)
#: What flake8 accepts as a code prefix in select/ignore lists.
CODE_PATTERN = re.compile(r"^[A-Z]{1,3}[0-9]{0,3}$")
#: The line printed under a usage error.
USAGE_HINT = "see flake8-flask-ctx --help"


class UsageError(Exception):
    """Bad arguments: reported in one line, exit status 2."""


@dataclass(frozen=True)
class Options:
    paths: Tuple[str, ...]
    settings: Settings
    #: flake8's selection: which codes are reported (``selection.py``).
    selection: Selection
    exclude: Tuple[str, ...]
    format: str
    stdin_filename: Optional[str]
    jobs: int
    exit_zero: bool
    fix: bool = False
    diff: bool = False
    #: Also check the project modules that import the named files (changed-files runs).
    with_importers: bool = False
    #: Text output extras, as flake8's: a count of findings on stderr, per-code
    #: statistics, the source line under each finding, no output but file names (-q)
    #: or nothing (-qq), and a file to write the report to.
    count: bool = False
    statistics: bool = False
    show_source: bool = False
    quiet: int = 0
    output_file: Optional[str] = None
    #: The configuration files read (shown with the findings when asked).
    config_files: Tuple[str, ...] = ()
    #: Text: print each finding's whole message (chain and advice), not its headline.
    show_chain: bool = False
    #: ``--fix`` offers no rewrite that makes a line longer (0: no limit).
    max_line_length: int = 0
    #: The command line, to read the options again for files nearer another
    #: configuration (``per_directory``: unless ``--isolated``, ``--config`` or stdin).
    argv: Tuple[str, ...] = ()
    per_directory: bool = False


EXIT_STATUSES = """\
exit status:
  0  nothing found (or only findings, with --exit-zero)
  1  findings
  2  the result is incomplete or nothing was checked: a usage or configuration
     error, a file that could not be read or parsed (named on stderr), or an
     FCX999 (the analyzer failed on a file)

The options have the names of the flake8 options (without flake8).  They are read from
[flake8] in setup.cfg, tox.ini or .flake8 (as flake8 reads them) and from
[tool.flake8-flask-ctx] in pyproject.toml (which wins where both set a key), each the
nearest one to the checked paths; the command line wins over both.
Rules: flake8-flask-ctx --explain [CODE].
"""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (and a hint), not the whole usage text."""

    def error(self, message: str) -> "NoReturn":
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="flake8-flask-ctx",
        description="Find Flask context-locals used where no request or app context "
        "exists (threads, pools, processes, tasks, streamed responses).",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--explain", nargs="?", const="", metavar="CODE",
        help="print the documentation of a rule (FCX100...), or list the codes",
    )
    parser.add_argument("paths", nargs="*", help="files or directories (default: .); - for stdin")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--select", help="comma-separated code prefixes to report (default FCX)")
    parser.add_argument("--extend-select", help="code prefixes to report, added to --select")
    parser.add_argument("--ignore", help="comma-separated code prefixes not to report")
    parser.add_argument("--extend-ignore", help="code prefixes not to report, added to --ignore")
    parser.add_argument(
        "--per-file-ignores",
        help="'PATTERN:CODES' pairs, separated by spaces or newlines, as flake8's "
        "(e.g. 'tests/*:FCX100 legacy.py:FCX')",
    )
    parser.add_argument("--exclude", help="comma-separated glob patterns of paths to skip "
                        "(named files too, as flake8 does)")
    parser.add_argument("--extend-exclude", help="more patterns to skip, added to the defaults")
    parser.add_argument("--format", choices=sorted(FORMATS), help="output format (default text)")
    parser.add_argument("--stdin-display-name", "--stdin-filename", dest="stdin_filename",
                        help="the path of the file read from stdin (-): its name in reports "
                        "and its place in the project (--stdin-filename is an alias)")
    parser.add_argument("-j", "--jobs", type=int, default=0,
                        help="worker processes (default: the CPU count, when many files)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    parser.add_argument("--fix", action="store_true",
                        help="rewrite what can be fixed safely, then report what is left")
    parser.add_argument("--diff", action="store_true",
                        help="with --fix: print the changes as a unified diff, write nothing")
    parser.add_argument(
        "--with-importers", action="store_true",
        help="the paths are the changed files: also check the project modules that "
        "import them, directly or through other modules (a new read in tasks.py is "
        "reported at the view that dispatches into it); what the pre-commit hooks use",
    )
    parser.add_argument(
        "--show-chain", "--flask-ctx-show-chain", dest="flask_ctx_show_chain",
        action="store_true", default=None,
        help="print each finding's whole chain and the advice, not only its headline "
        "(JSON and SARIF always carry them)",
    )
    parser.add_argument(
        "--max-line-length", type=int, metavar="N",
        help="with --fix: offer no rewrite that makes a line longer than N (default: "
        "max-line-length of [flake8], [tool.flake8-flask-ctx] or [tool.ruff] line-length)",
    )
    parser.add_argument("--count", action="store_true",
                        help="print the number of findings last, on stdout")
    parser.add_argument("--statistics", action="store_true",
                        help="print how many findings each code has, after them")
    parser.add_argument("--show-source", action="store_true",
                        help="show the source line of each finding, with a caret")
    parser.add_argument("-q", "--quiet", action="count", default=0,
                        help="print only the names of files with findings (-qq: nothing)")
    parser.add_argument("--output-file", metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument(
        "--config", type=Path,
        help="the one configuration file to read: a pyproject.toml, or a setup.cfg / "
        "tox.ini / .flake8 with a [flake8] section (default: the nearest of each)",
    )
    parser.add_argument("--isolated", action="store_true",
                        help="read no configuration file")
    for option, meaning in NAME_OPTIONS.items():
        parser.add_argument(f"--flask-ctx-{option}", metavar="NAMES", help=meaning)
    parser.add_argument(
        "--flask-ctx-server-name", action="store_true", default=None,
        help="the app sets SERVER_NAME: url_for needs only an app context",
    )
    parser.add_argument(
        "--flask-ctx-project-root", metavar="DIR",
        help="directory the project's absolute imports are resolved against (default: "
        "above the checked file's top package, and the working directory)",
    )
    parser.add_argument(
        "--flask-ctx-single-module", action="store_true", default=None,
        help="do not follow callables into other modules of the project",
    )
    for option, meaning in LIMIT_OPTIONS.items():
        parser.add_argument(f"--flask-ctx-{option}", metavar="N", help=meaning)
    return parser


#: The limits and what they mean (the flake8 plugin says the same).
LIMIT_OPTIONS = {
    "max-nodes": "a file with more syntax nodes is not analysed: one FCX999 names it "
    "(default 150000; 0: no limit)",
}


#: The name options and what they mean (the flake8 plugin says the same).
NAME_OPTIONS = {
    "dispatchers": "callables that run their argument elsewhere, as 'dotted.name:POSITION' "
    "or '*.method:POSITION' (comma-separated)",
    "safe-wrappers": "decorators/wrappers that carry the request context, like "
    "copy_current_request_context (comma-separated dotted names)",
    "request-locals": "your own request-tier context-locals (comma-separated dotted names)",
    "app-locals": "your own app-tier context-locals (comma-separated dotted names)",
}


#: Notes already printed (a configuration read again for another group of files).
_NOTED: Set[str] = set()


def parse_options(
    argv: Optional[Sequence[str]], config_from: Optional[Sequence[str]] = None
) -> Options:
    """The options of a run; ``config_from``: the paths to find the configuration from
    (default: the checked paths), for a group of files nearer another configuration."""
    arguments = tuple(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    paths = tuple(args.paths or ["."])
    if config_from is None and paths == ("-",) and args.stdin_filename:
        config_from = [args.stdin_filename]  # an editor's buffer: where the file lives
    found = discovery.gather(config_from or paths, args.config, args.isolated)
    table = found.values
    for note in found.notes:
        if note not in _NOTED:
            _NOTED.add(note)
            print(f"flake8-flask-ctx: note: {note}", file=sys.stderr)

    def given(key: str) -> Any:
        return getattr(args, key.replace("-", "_"))

    def pick(key: str) -> Any:
        value = given(key)
        return value if value is not None else table.get(key)

    def listed(key: str) -> Optional[List[str]]:
        value = given(key)
        if value is not None:
            return discovery.split_list(value)
        configured = table.get(key)
        return None if configured is None else list(configured)

    def names(key: str) -> List[str]:
        return listed(key) or []

    try:
        settings = Settings.from_values(
            dispatchers=names("flask-ctx-dispatchers"),
            safe_wrappers=names("flask-ctx-safe-wrappers"),
            request_locals=names("flask-ctx-request-locals"),
            app_locals=names("flask-ctx-app-locals"),
            server_name=bool(pick("flask-ctx-server-name")),
            project_root=_project_root(found, given("flask-ctx-project-root")),
            cross_module=not pick("flask-ctx-single-module"),
            max_nodes=pick("flask-ctx-max-nodes"),
        )
    except SettingsError as error:
        raise _named_error(str(error), found, given) from None
    exclude = [_from(found, "exclude", p, given("exclude")) for p in (
        listed("exclude") or DEFAULT_EXCLUDE
    )]
    exclude += [
        _from(found, "extend-exclude", p, given("extend-exclude"))
        for p in listed("extend-exclude") or []
    ]
    if args.diff and not args.fix:
        raise UsageError("--diff needs --fix")
    if "-" in paths and len(paths) > 1:
        raise UsageError("- (stdin) cannot be combined with other paths")
    selection = _selection(found, listed, pick, given("per-file-ignores") is not None)
    return Options(
        paths=paths,
        settings=settings,
        selection=selection,
        exclude=tuple(exclude),
        format=pick("format") or "text",
        stdin_filename=args.stdin_filename,
        jobs=args.jobs if args.jobs > 0 else (os.cpu_count() or 1),
        exit_zero=args.exit_zero,
        fix=args.fix,
        diff=args.diff,
        with_importers=args.with_importers,
        count=args.count,
        statistics=args.statistics,
        show_source=args.show_source,
        quiet=args.quiet,
        output_file=args.output_file,
        config_files=tuple(str(path) for path in found.files),
        show_chain=bool(pick("flask-ctx-show-chain")),
        max_line_length=int(pick("max-line-length") or 0),
        argv=arguments,
        per_directory=not (args.isolated or args.config or paths == ("-",)),
    )


def _project_root(found: discovery.Sources, on_command_line: Optional[str]) -> Optional[str]:
    """``flask-ctx-project-root``: from the working directory on the command line, from
    the configuration file's directory in a file (``src`` next to ``setup.cfg``)."""
    if on_command_line is not None:
        return on_command_line
    configured = found.values.get("flask-ctx-project-root")
    base = found.bases.get("flask-ctx-project-root")
    if configured is None or base is None or os.path.isabs(configured):
        return configured
    return os.path.join(str(base), configured)


def _named_error(
    message: str, found: discovery.Sources, given: Callable[[str], Any]
) -> Exception:
    """A bad value: a usage error when it came from the command line; from a file, an
    error naming the file and the key (no usage hint: the command line was right)."""
    option = message.split(":", 1)[0].strip()
    key = option.lstrip("-")
    origin = found.origins.get(key)
    if option.startswith("--") and given(key) is None and origin is not None:
        detail = message[len(option):]
        configured, base = found.values.get(key), found.bases.get(key)
        if isinstance(configured, str) and base is not None:  # as the file spells it
            detail = detail.replace(os.path.join(str(base), configured), configured)
        return ConfigError(f"{origin} {key}{detail}")
    return UsageError(message)


def _from(found: discovery.Sources, key: str, pattern: str, on_command_line: Any) -> str:
    """A path pattern made absolute as flake8 makes it: from the current directory on
    the command line, from the configuration file's directory in a file."""
    base = found.bases.get(key) if on_command_line is None else None
    return normalize_path(pattern, str(base) if base is not None else os.curdir)


def _selection(
    found: discovery.Sources,
    listed: Callable[[str], Optional[List[str]]],
    pick: Callable[[str], Any],
    per_file_on_command_line: bool,
) -> Selection:
    """flake8's selection, after checking every code prefix: a typo (``FXC``) must
    not silently select nothing."""
    lists = {key: listed(key) for key in ("select", "extend-select", "ignore", "extend-ignore")}
    for key, codes in lists.items():
        for code in codes or ():
            if not CODE_PATTERN.match(code):
                raise UsageError(f"{key}: {code!r} is not a code prefix (like FCX or FCX100)")
    base = None if per_file_on_command_line else found.bases.get("per-file-ignores")
    try:
        selection = Selection.build(
            select=lists["select"],
            extend_select=lists["extend-select"],
            ignore=lists["ignore"],
            extend_ignore=lists["extend-ignore"],
            per_file_ignores=pick("per-file-ignores"),
            parent=str(base) if base is not None else os.curdir,
        )
    except ValueError as error:
        raise UsageError(f"per-file-ignores: {error}") from None
    chosen = Selection.build(select=lists["select"], extend_select=lists["extend-select"])
    if not any(chosen.reports(code, "-") for code in CODES):
        # ``--ignore=FCX`` turns the checks off on purpose; a select that picks
        # nothing of ours is a misspelling (an ignore list cannot make it one)
        named = " ".join(
            f"{key}={','.join(lists[key] or ())}" for key in ("select", "extend-select")
            if lists[key]
        )
        raise UsageError(
            f"{named} selects none of this tool's codes ({', '.join(CODES)}): "
            "check the spelling"
        )
    return selection
