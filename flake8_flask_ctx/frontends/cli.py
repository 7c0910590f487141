"""``flake8-flask-ctx PATH...``: the same analysis without flake8.

For teams that moved to ruff (which runs no plugins), CI systems that want SARIF or
annotations, and editors.  Same analysis, same codes, the same ``# noqa: FCXnnn``
comments; options from ``[flake8]`` (as flake8 reads it), ``[tool.flake8-flask-ctx]``
in ``pyproject.toml`` and the command line, with the names of the flake8 options
(``cli_options.py``); the report and its extras are written by ``report.py``.

Exit status (also in ``--help``): 0 nothing found, 1 findings, 2 the result is
incomplete -- a usage or configuration error, a file that could not be read or parsed,
or an FCX999 (the analyzer failed on a file).
"""

from __future__ import annotations

import ast
import functools
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ..options import config, discovery
from ..checker.check import analysed_modules, check_source, too_big_to_parse
from ..rules.codes import failure_message
from . import heap
from . import report
from .formats import Reported, Step
from ..index.sources import decode
from ..knowledge import Knowledge
from .noqa import NoqaLines
from .unreadable import parse_source, read_source
from .selection import matches_filename
from ..options.settings import Settings
from .cli_options import USAGE_HINT, Options, UsageError, build_parser, parse_options

#: Below this many files one process is faster than starting workers.
PARALLEL_THRESHOLD = 24


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
            Reported(display, f.line, f.column, f.code, str(f.message), tuple(
                Step(step.message, _relative(step.path) if step.path else display,
                     step.line, step.column)
                for step in f.steps
            ), f.headline)
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
    except UsageError as error:
        print(f"flake8-flask-ctx: {error}\n{USAGE_HINT}", file=sys.stderr)
        return 2
    except config.ConfigError as error:
        print(f"flake8-flask-ctx: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 2
    except Exception as error:  # a bug around the analysis (each file is shielded)
        # One line and "incomplete", never a traceback whose exit status 1 would
        # read as "findings" to a hook or a CI gate.
        print(f"flake8-flask-ctx: {failure_message(error)}", file=sys.stderr)
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
    from .fix import FixResult, fix_files, fix_source, reported_in

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
            source, knowledge, options.stdin_filename, options.settings,
            options.max_line_length, reported_in(source, display, options.selection),
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
    result = FixResult()
    for group, files in _groups(options, discover(options.paths, options.exclude)):
        done = fix_files(
            files, _knowledge(group.settings), group.settings, write=not options.diff,
            max_line_length=group.max_line_length, selection=group.selection,
        )
        result.changed += done.changed
        result.diffs += done.diffs
        result.problems += done.problems
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


def _groups(options: Options, files: List[str]) -> List[Tuple[Options, List[str]]]:
    """``files`` with the options each is checked with: a file nearer another
    configuration than the run's (a sub-project with its own ``setup.cfg`` or
    ``pyproject.toml``) gets that one's settings, selection and excludes, as ruff
    applies the nearest configuration to each file."""
    if not options.per_directory or not files:
        return [(options, files)]
    run_key = discovery.config_key(discovery.start_directory(options.paths))
    by_key: Dict[Tuple[Optional[Path], Optional[Path]], List[str]] = {}
    for path in files:
        key = discovery.config_key(Path(os.path.dirname(os.path.abspath(path))))
        by_key.setdefault(key, []).append(path)
    groups: List[Tuple[Options, List[str]]] = []
    for key, members in by_key.items():
        if key == run_key or key == (None, None):
            # none found from the file up (the search stops below the home directory,
            # as flake8's does): the run's own, found from where it starts
            groups.append((options, members))
            continue
        nearer = parse_options(options.argv, config_from=[os.path.dirname(members[0]) or "."])
        top = max((str(p.parent) for p in key if p is not None), key=len, default="")
        groups.append((nearer, [
            p for p in members if not _excluded_below(p, nearer.exclude, top)
        ]))
    return groups


def _excluded_below(path: str, patterns: Sequence[str], top: str) -> bool:
    """The file, or a directory between it and ``top`` (the configuration's own
    directory), is excluded: what ``discover`` decides while it walks, decided again
    for files found under another configuration."""
    current = os.path.realpath(path)  # ``top`` is resolved too
    while len(current) > len(top):
        if _excluded(current, patterns):
            return True
        current = os.path.dirname(current)
    return False


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
    known: Dict[str, str] = {}
    if options.paths == ("-",):
        try:
            source = decode(sys.stdin.buffer.read())
        except (UnicodeDecodeError, SyntaxError, LookupError) as error:
            raise UsageError(f"stdin: cannot read: {error}") from None
        display = options.stdin_filename or "stdin"
        known[display] = source
        reported, problem = check_text(source, display, options.stdin_filename, options)
        if problem:
            problems.append(problem)
    else:
        files = _files(options)
        progress = sys.stderr.isatty() and len(files) > PARALLEL_THRESHOLD
        results: Dict[str, Tuple[List[Reported], Optional[str]]] = {}
        for group, members in _groups(options, files):
            for path, result in zip(members, run_checks(members, group, progress)):
                results[path] = result
        for path in files:  # in the order of the files, whatever their group
            found, problem = results.get(path, ([], None))
            reported.extend(found)
            if problem:
                problems.append(problem)
    for problem in problems:
        print(f"flake8-flask-ctx: {problem}", file=sys.stderr)
    report.write(report.render(reported, options, known), options, len(reported))
    if problems or any(r.code == "FCX999" for r in reported):
        return 2  # the result is incomplete: some file was not (fully) checked
    if reported and not options.exit_zero:
        return 1
    return 0
