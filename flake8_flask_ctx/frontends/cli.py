"""``flake8-flask-ctx PATH...``: the same analysis without flake8.

For teams that moved to ruff (which runs no plugins), CI systems that want SARIF or
annotations, and editors.  Same analysis, same codes, the same ``# noqa: FCXnnn``
comments; options from ``[tool.flake8-flask-ctx]`` in ``pyproject.toml`` and the
command line (same names as the flake8 options).

Exit status (also in ``--help``): 0 nothing found, 1 findings, 2 the result is
incomplete -- a usage or configuration error, a file that could not be read or parsed,
or an FCX999 (the analyzer failed on a file).
"""

from __future__ import annotations

import argparse
import ast
import functools
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ..version import __version__
from ..options import config
from ..checker.check import analysed_modules, check_source, too_big_to_parse
from ..rules.codes import failure_message
from . import heap
from .formats import FORMATS, Reported, Step
from ..index.sources import decode
from ..knowledge import Knowledge
from .noqa import NoqaLines
from .unreadable import parse_source, read_source
from .selection import Selection, matches_filename, normalize_path
from ..options.settings import Settings, SettingsError

#: Directories never searched (flake8's defaults plus virtualenvs and build output).
DEFAULT_EXCLUDE = (
    ".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs", "*.egg",
    ".venv", "venv", ".ci-venv", "node_modules", "build", "dist", "site-packages",
    ".mypy_cache", ".pytest_cache", "*.egg-info",
)
#: Below this many files one process is faster than starting workers.
PARALLEL_THRESHOLD = 24


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


EXIT_STATUSES = """\
exit status:
  0  nothing found (or only findings, with --exit-zero)
  1  findings
  2  the result is incomplete or nothing was checked: a usage or configuration
     error, a file that could not be read or parsed (named on stderr), or an
     FCX999 (the analyzer failed on a file)

The options have the names of the flake8 options (without flake8); they can be set in
[tool.flake8-flask-ctx] of pyproject.toml.  Rules: flake8-flask-ctx --explain [CODE].
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    parser.add_argument("--config", type=Path, help="pyproject.toml to read (default: nearest)")
    parser.add_argument("--isolated", action="store_true", help="ignore pyproject.toml")
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


def _split(value: Optional[str]) -> Optional[List[str]]:
    if value is None:
        return None
    return [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]


def parse_options(argv: Optional[Sequence[str]]) -> Options:
    args = build_parser().parse_args(argv)
    table: Dict[str, Any] = {}
    if not args.isolated:
        path = args.config or config.find_pyproject(Path.cwd())
        if path is not None:
            table = config.load(path)

    def pick(key: str, value: Any) -> Any:
        return value if value is not None else table.get(key)

    def codes(key: str) -> Optional[List[str]]:
        value = pick(key, _split(getattr(args, key.replace("-", "_"))))
        return None if value is None else list(value)

    def names(key: str) -> List[str]:
        return codes(key) or []

    try:
        settings = Settings.from_values(
            dispatchers=names("flask-ctx-dispatchers"),
            safe_wrappers=names("flask-ctx-safe-wrappers"),
            request_locals=names("flask-ctx-request-locals"),
            app_locals=names("flask-ctx-app-locals"),
            server_name=bool(pick("flask-ctx-server-name", args.flask_ctx_server_name)),
            project_root=pick("flask-ctx-project-root", args.flask_ctx_project_root),
            cross_module=not pick("flask-ctx-single-module", args.flask_ctx_single_module),
            max_nodes=pick("flask-ctx-max-nodes", args.flask_ctx_max_nodes),
        )
    except SettingsError as error:
        raise UsageError(str(error)) from None
    exclude = list(pick("exclude", _split(args.exclude)) or DEFAULT_EXCLUDE)
    exclude += list(pick("extend-exclude", _split(args.extend_exclude)) or [])
    if args.diff and not args.fix:
        raise UsageError("--diff needs --fix")
    paths = tuple(args.paths or ["."])
    if "-" in paths and len(paths) > 1:
        raise UsageError("- (stdin) cannot be combined with other paths")

    per_file = pick("per-file-ignores", args.per_file_ignores)
    try:
        selection = Selection.build(
            select=codes("select"),
            extend_select=codes("extend-select"),
            ignore=codes("ignore"),
            extend_ignore=codes("extend-ignore"),
            per_file_ignores=per_file,
        )
    except ValueError as error:
        raise UsageError(f"--per-file-ignores: {error}") from None
    return Options(
        paths=paths,
        settings=settings,
        selection=selection,
        exclude=tuple(normalize_path(p) for p in exclude),
        format=pick("format", args.format) or "text",
        stdin_filename=args.stdin_filename,
        jobs=args.jobs if args.jobs > 0 else (os.cpu_count() or 1),
        exit_zero=args.exit_zero,
        fix=args.fix,
        diff=args.diff,
        with_importers=args.with_importers,
    )


# -- files ------------------------------------------------------------------------------


def discover(paths: Sequence[str], exclude: Sequence[str]) -> List[str]:
    """Python files under ``paths``, sorted, deduplicated.  Excludes apply to named
    files too, as in flake8: pre-commit names every changed file, and a file the
    project excludes must stay excluded then."""
    found: List[str] = []
    for given in paths:
        if os.path.isfile(given):
            if not _excluded(given, exclude):
                found.append(given)
            continue
        if not os.path.isdir(given):
            raise UsageError(f"{given}: no such file or directory")
        if given not in (".", "..") and _excluded(given, exclude):
            continue
        for directory, dirs, files in os.walk(given):
            dirs[:] = sorted(d for d in dirs if not _excluded(os.path.join(directory, d), exclude))
            for name in sorted(files):
                path = os.path.join(directory, name)
                if name.endswith(".py") and not _excluded(path, exclude):
                    found.append(path)
    return sorted(dict.fromkeys(found))


def _excluded(path: str, patterns: Sequence[str]) -> bool:
    """flake8's test: the base name, or the absolute path, matches a pattern (patterns
    with a ``/`` are made absolute from the current directory first)."""
    return matches_filename(path, patterns)


# -- checking ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _knowledge(settings: Settings) -> Knowledge:
    return Knowledge.build(settings)


def check_text(
    source: str, display: str, filename: Optional[str], options: Options
) -> Tuple[List[Reported], Optional[str]]:
    """Findings of one file's text, selected and ``noqa``-filtered, or the one-line
    reason it could not be checked (a syntax error: the result is incomplete, exit
    status 2).  Never raises: an internal failure is an FCX999 at line 1, as in the
    flake8 plugin."""
    noqa = NoqaLines(source)
    if noqa.file_ignored():
        return [], None  # ``# flake8: noqa``: flake8 skips the file
    tree: Optional[ast.AST] = None
    if too_big_to_parse(source, options.settings.max_nodes) is None:
        # Far over the limit the file is not parsed here: ``check_source`` skips it when
        # the text prefilter sees nothing, or declines it (FCX999) before any parse.
        tree, problem = parse_source(source, display)
        if problem is not None:
            return [], problem
    try:
        analysed = analysed_modules()
        findings = check_source(
            source, _knowledge(options.settings), filename, options.settings, tree=tree
        )
        if analysed_modules() != analysed:
            heap.settle()
        reported = [
            Reported(display, f.line, f.column, f.code, f.message, tuple(
                Step(step.message, _relative(step.path) if step.path else display,
                     step.line, step.column)
                for step in f.steps
            ))
            for f in findings
        ]
    except Exception as error:  # the FCX999 shield
        reported = [Reported(display, 1, 0, "FCX999", failure_message(error))]
    return [
        r for r in reported
        if options.selection.reports(r.code, display) and not noqa.suppressed(r.line, r.code)
    ], None


def check_path(path: str, options: Options) -> Tuple[List[Reported], Optional[str]]:
    """Findings of one file, or a one-line problem (unreadable, undecodable)."""
    source, problem = read_source(path)
    if source is None:
        return [], problem
    return check_text(source, path, path, options)


def _check_chunk(
    paths: Sequence[str], options: Options
) -> List[Tuple[List[Reported], Optional[str]]]:
    return [check_path(p, options) for p in paths]


def run_checks(
    files: Sequence[str], options: Options, progress: bool
) -> Iterator[Tuple[List[Reported], Optional[str]]]:
    """Results in the order of ``files``; in parallel when there are many."""
    if options.jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        for number, path in enumerate(files, 1):
            _progress(progress, number, len(files))
            yield check_path(path, options)
        return
    size = max(1, min(16, len(files) // (options.jobs * 4)))
    chunks = [files[i:i + size] for i in range(0, len(files), size)]
    done = 0
    with ProcessPoolExecutor(max_workers=options.jobs) as pool:
        for results in pool.map(functools.partial(_check_chunk, options=options), chunks):
            for result in results:
                done += 1
                _progress(progress, done, len(files))
                yield result


def _progress(enabled: bool, done: int, total: int) -> None:
    if not enabled:
        return
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
    if done == total:
        sys.stderr.write("\r" + " " * (width + 24) + "\r")
    sys.stderr.flush()


# -- main -------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        explained = _explain(argv)
        if explained is not None:
            return explained
        options = parse_options(argv)
        return _run(options)
    except (UsageError, config.ConfigError) as error:
        print(f"flake8-flask-ctx: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 2


def _explain(argv: Optional[Sequence[str]]) -> Optional[int]:
    """``--explain [CODE]``: the rule's documentation, from the installed package."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not any(a == "--explain" or a.startswith("--explain=") for a in args):
        return None
    code = build_parser().parse_args(args).explain or ""
    from ..rules.codes import CODES
    from ..rules.docs import code_list, rule_text

    if not code:
        sys.stdout.write(code_list())
        return 0
    code = code.upper()
    if code not in CODES:
        raise UsageError(f"--explain: unknown code {code!r} (known: {', '.join(CODES)})")
    sys.stdout.write(rule_text(code))
    return 0


def _fix(options: Options) -> Optional[int]:
    """``--fix``: rewrite files (or print the diff, or the fixed stdin).  Returns the
    exit status when nothing is left to do, ``None`` to go on and report."""
    from .fix import fix_files, fix_source

    knowledge = _knowledge(options.settings)
    if options.paths == ("-",):
        data = sys.stdin.buffer.read()
        try:
            source = decode(data)
        except (UnicodeDecodeError, SyntaxError, LookupError) as error:
            raise UsageError(f"stdin: cannot read: {error}") from None
        display = options.stdin_filename or "stdin"
        _, problem = parse_source(source, display)
        fixed = source if problem else fix_source(
            source, knowledge, options.stdin_filename, options.settings
        )
        if problem:
            # The editor gets its buffer back unchanged, and the reason.
            print(f"flake8-flask-ctx: {problem}", file=sys.stderr)
        if options.diff:
            from .fix import unified_diff

            sys.stdout.write(unified_diff(display, source, fixed))
            return 2 if problem else (1 if fixed != source else 0)
        sys.stdout.flush()
        sys.stdout.buffer.write(fixed.encode(_stdin_encoding(data)))
        sys.stdout.buffer.flush()
        return 2 if problem else 0
    files = discover(options.paths, options.exclude)
    result = fix_files(files, knowledge, options.settings, write=not options.diff)
    for problem in result.problems:
        print(f"flake8-flask-ctx: {problem}", file=sys.stderr)
    if options.diff:
        sys.stdout.write("".join(result.diffs))
        return 2 if result.problems else (1 if result.changed else 0)
    for path in result.changed:
        print(f"flake8-flask-ctx: fixed {path}", file=sys.stderr)
    return None


def _stdin_encoding(data: bytes) -> str:
    """How stdin was encoded (its coding cookie or BOM), to answer in kind."""
    from .fix import _encoding

    try:
        return _encoding(data)
    except (SyntaxError, LookupError):
        return "utf-8"


def _files(options: Options) -> List[str]:
    """The files to check: those named (or found under the directories named), and
    with ``--with-importers`` the project modules that import them."""
    files = discover(options.paths, options.exclude)
    if options.with_importers and options.settings.cross_module and files:
        from ..index.importers import importers_of

        more = importers_of(files, _knowledge(options.settings), options.settings.project_root)
        files = sorted(dict.fromkeys(
            [*files, *(_relative(p) for p in more if not _excluded(p, options.exclude))]
        ))
    return files


def _relative(path: str) -> str:
    """``path`` from the current directory when it lies below it (as named files are)."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _run(options: Options) -> int:
    if options.fix:
        status = _fix(options)
        if status is not None:
            return status
    reported: List[Reported] = []
    problems: List[str] = []
    if options.paths == ("-",):
        try:
            source = decode(sys.stdin.buffer.read())
        except (UnicodeDecodeError, SyntaxError, LookupError) as error:
            raise UsageError(f"stdin: cannot read: {error}") from None
        display = options.stdin_filename or "stdin"
        reported, problem = check_text(source, display, options.stdin_filename, options)
        if problem:
            problems.append(problem)
    else:
        files = _files(options)
        progress = sys.stderr.isatty() and len(files) > PARALLEL_THRESHOLD
        for found, problem in run_checks(files, options, progress):
            reported.extend(found)
            if problem:
                problems.append(problem)
    for problem in problems:
        print(f"flake8-flask-ctx: {problem}", file=sys.stderr)
    sys.stdout.write(FORMATS[options.format](reported))
    sys.stdout.flush()
    if problems or any(r.code == "FCX999" for r in reported):
        return 2  # the result is incomplete: some file was not (fully) checked
    if reported and not options.exit_zero:
        return 1
    return 0
