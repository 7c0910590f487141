"""Expected diagnostics written in fixture files, and a readable comparison.

A fixture states what it expects as trailing comments on the exact line:
``# error: FCX100`` or, to also pin part of the message, ``# error: FCX100 "via load()"``;
``@17`` pins the 1-based column too (``# error: FCX100 @17 "via load()"``).
Several markers may share a line (``# error: FCX100 # error: FCX110``).  A file
without markers must produce nothing.

At run time each marker needs a failure of its own at its line.  One failure may prove
two markers only where the fixture says so: ``# error: FCX110 (runtime: FCX100)`` means
"this line's worker fails at its first read, which the FCX100 marker's failure proves; it
never gets to the app-tier read".
"""

from __future__ import annotations

import io
import re
import shlex
import shutil
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

MARKER = re.compile(
    r'error:\s*(FCX\d{3})(?:\s+@(\d+))?(?:\s+"([^"]*)")?(?:\s+\(runtime:\s*(FCX\d{3})\))?'
)
RUNTIME_SKIP = re.compile(r"^#\s*runtime:\s*skip\s+(.+)$", re.MULTILINE)
RUNTIME_NO_WORK = re.compile(r"^#\s*runtime:\s*nothing dispatched\s+(.+)$", re.MULTILINE)
OPTIONS = re.compile(r"^#\s*options:\s*(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Expected:
    line: int
    code: str
    fragment: Optional[str]
    column: Optional[int] = None
    """1-based, as flake8 prints it; None when the marker does not pin it."""
    proven_by: Optional[str] = None
    """At run time: the code of the same line's marker whose failure proves this one too."""
    path: str = ""
    """The marker's file, relative to the fixture directory or project root (run time)."""


def expected_in(source: str) -> List[Expected]:
    """Markers from comments only (a marker inside a string is not one)."""
    found: List[Expected] = []
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        for match in MARKER.finditer(token.string):
            code, column, fragment, proven_by = match.groups()
            found.append(
                Expected(
                    token.start[0],
                    code,
                    fragment,
                    int(column) if column else None,
                    proven_by,
                )
            )
    return found


def options_in(source: str) -> List[str]:
    """flake8 command-line options a fixture needs (``# options: --flask-ctx-...``)."""
    match = OPTIONS.search(source)
    return shlex.split(match.group(1)) if match else []


def runtime_skip_reason(source: str) -> Optional[str]:
    match = RUNTIME_SKIP.search(source)
    return match.group(1).strip() if match else None


def runtime_no_work_reason(source: str) -> Optional[str]:
    """``# runtime: nothing dispatched <why>``: a negative that starts no work on purpose
    (without it, a negative whose run completed no dispatched work proves nothing)."""
    match = RUNTIME_NO_WORK.search(source)
    return match.group(1).strip() if match else None


Finding = Tuple[int, str, str, int]
"""(line, code, message, column): the column 1-based, as flake8 prints it."""


def compare(expected: Sequence[Expected], actual: Iterable[Finding]) -> List[str]:
    """Problems as lines of text (empty when the file behaves as its markers say).

    ``actual`` holds (line, code, message, column).  Lines and codes are compared as exact
    multisets; each quoted fragment must occur in the message of its line's code, and
    each pinned column (``@N``) must be the column of its line's code.
    """
    findings = list(actual)
    actual_list = [(line, code, message) for line, code, message, _column in findings]
    problems: List[str] = []
    want = Counter((e.line, e.code) for e in expected)
    got = Counter((line, code) for line, code, _ in actual_list)
    for key in sorted(want - got):
        problems.append(f"missing  line {key[0]:4d} {key[1]}")
    for key in sorted(got - want):
        message = next(m for line, code, m in actual_list if (line, code) == key)
        problems.append(f"extra    line {key[0]:4d} {key[1]}: {message}")
    for e in expected:
        if e.fragment is None:
            continue
        messages = [m for line, code, m in actual_list if (line, code) == (e.line, e.code)]
        if messages and not any(e.fragment in m for m in messages):
            problems.append(
                f"message  line {e.line:4d} {e.code}: wanted {e.fragment!r} in {messages[0]!r}"
            )
    for e in expected:
        if e.column is None:
            continue
        columns = sorted(c for line, code, _m, c in findings if (line, code) == (e.line, e.code))
        if columns and e.column not in columns:
            problems.append(
                f"column   line {e.line:4d} {e.code}: wanted @{e.column}, got {columns}"
            )
    return problems


def isolated_fixture(path: Path, where: Path) -> Path:
    """A copy of the single-module fixture ``path`` alone in ``where/<stem>/``, with the
    shared ``support`` package beside it when the fixture imports it.

    Each single-module fixture models an application of its own, but the fixtures
    directory is one project to the linter, and project-wide facts (``SERVER_NAME``,
    an installed Celery task base, a CLI-started worker: SPEC section 3) found in one
    module apply to all the others.  Checked alone, a fixture sees only its own."""
    home = where / path.stem
    home.mkdir(parents=True, exist_ok=True)
    copy = home / path.name
    shutil.copy(path, copy)
    support = path.parent / "support"
    imports_support = re.search(r"^\s*(from|import)\s+support\b", copy.read_text("utf-8"), re.M)
    if imports_support and support.is_dir() and not (home / "support").exists():
        shutil.copytree(support, home / "support")
    return copy


def fixture_files(root: Path) -> List[Path]:
    return sorted(p for p in root.glob("*.py") if not p.name.startswith("_"))


def project_dirs(root: Path) -> List[Path]:
    """Multi-module fixture projects: one directory per scenario, ``wsgi.py`` at its root."""
    return sorted(p for p in root.iterdir() if (p / "wsgi.py").is_file())


def project_markers(project: Path) -> Dict[str, List[Expected]]:
    """The markers of every module of a project, by path relative to the project root."""
    return {
        path.relative_to(project).as_posix(): expected_in(path.read_text(encoding="utf-8"))
        for path in sorted(project.rglob("*.py"))
    }
