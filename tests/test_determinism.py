"""The same input gives the same output, byte for byte and in the same order: however
many jobs flake8 or the standalone command uses, whether the file comes from a path or
from stdin, and whatever the process checked before (its caches)."""

from __future__ import annotations

import functools
import random
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from expectations import fixture_files, project_dirs, project_markers
from flake8_flask_ctx.index import project as project_module
from flake8_flask_ctx.engine import units as units_module
from flake8_flask_ctx.checker.check import check_source
from flake8_runner import flake8

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
PROJECTS = FIXTURES / "projects"
Result = List[Tuple[int, int, str]]


def project_modules() -> List[Path]:
    return [
        path
        for project in project_dirs(PROJECTS)
        for path in sorted(project.rglob("*.py"))
    ]


def test_flake8_output_is_identical_with_one_and_four_jobs() -> None:
    """Raw stdout, order included, over the fixtures and every project."""
    targets = ["fixtures"]
    runs = [
        flake8(["--select=FCX", "-j", jobs, *targets], cwd=TESTS).stdout
        for jobs in ("1", "4")
    ]
    assert runs[0] == runs[1]
    assert runs[0].count("\n") > 150  # the fixtures' positives are in it


def test_standalone_output_is_identical_with_one_and_four_jobs() -> None:
    """Also: no progress bar when stderr is not a terminal."""
    runs = [
        subprocess.run(
            [sys.executable, "-m", "flake8_flask_ctx", "--isolated", "-j", jobs, "fixtures"],
            cwd=TESTS, capture_output=True, text=True, timeout=300,
        )
        for jobs in ("1", "4")
    ]
    assert runs[0].stderr == runs[1].stderr == ""
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout.count("\n") > 150


def reporting_project_modules() -> List[Path]:
    """The project modules that have diagnostics (where placement matters)."""
    return [
        project / relative
        for project in project_dirs(PROJECTS)
        for relative, expected in project_markers(project).items()
        if expected
    ]


@pytest.mark.parametrize(
    "module", reporting_project_modules(), ids=lambda p: str(p.relative_to(PROJECTS))
)
def test_stdin_equals_path_in_cross_module_projects(module: Path) -> None:
    """An editor pipes the buffer with its path as the display name: the module is
    placed in its project exactly as when flake8 reads the file (a module reached
    from other modules, read through stdin, must not be confused with its file)."""
    project = next(p for p in project_dirs(PROJECTS) if p in module.parents)
    relative = module.relative_to(project).as_posix()
    by_path = _by_path(project).get(relative, "")
    by_stdin = flake8(
        ["--select=FCX", f"--stdin-display-name={relative}", "-"],
        cwd=project, stdin=module.read_bytes(),
    )
    assert by_stdin.stdout == by_path
    assert by_path.strip()


@functools.lru_cache(maxsize=None)
def _by_path(project: Path) -> Dict[str, str]:
    """flake8's output for each reporting module of ``project``, from one run over all
    of them (what a module gives does not depend on what the process checked before:
    ``test_results_do_not_depend_on_what_the_process_checked_before``)."""
    relatives = [
        module.relative_to(project).as_posix()
        for module in reporting_project_modules() if project in module.parents
    ]
    output = flake8(["--select=FCX", *relatives], cwd=project).stdout
    found: Dict[str, str] = {}
    for line in output.splitlines(keepends=True):
        shown = line.split(":", 1)[0]
        found[shown] = found.get(shown, "") + line
    return found


def _check_all(paths: List[Path]) -> Dict[Path, Result]:
    return {
        path: [
            (f.line, f.column, f.message)
            for f in check_source(path.read_text(encoding="utf-8"), filename=str(path))
        ]
        for path in paths
    }


def test_results_do_not_depend_on_what_the_process_checked_before() -> None:
    """The per-process caches (projects, parsed units) never change a result: every
    fixture and project module, checked in three different orders in one process."""
    paths = fixture_files(FIXTURES) + project_modules()
    project_module.clear_cache()
    forward = _check_all(paths)
    backward = _check_all(list(reversed(paths)))
    assert forward == backward
    project_module.clear_cache()
    shuffled_paths = project_modules()
    random.Random(20261126).shuffle(shuffled_paths)
    assert _check_all(shuffled_paths) == {path: forward[path] for path in shuffled_paths}
    assert sum(1 for found in forward.values() if found) > 100


def make_package(root: Path, workers: str) -> Path:
    """``pkg/`` under ``root`` with an empty ``__init__.py`` and ``workers.py``."""
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", "utf-8")
    (package / "workers.py").write_text(workers, "utf-8")
    return package


def test_an_unsaved_edit_is_not_answered_from_the_previous_text(tmp_path: Path) -> None:
    """An editor lints a buffer through stdin while other modules' parsed units are
    cached: those units followed an import back into the previous text of this file.
    Removing the read in the buffer must remove the finding, and the next check of
    the saved text must find it again."""
    package = make_package(tmp_path, "def audit():\n    from .views import label\n    label()\n")
    saved = (
        "import threading\nfrom flask import request\n\n\n"
        "def label():\n    return request.path\n\n\n"
        "def view():\n    from .workers import audit\n    threading.Thread(target=audit).start()\n"
    )
    views = package / "views.py"
    views.write_text(saved, "utf-8")
    edited = saved.replace("return request.path", "return 'fixed'")
    project_module.clear_cache()

    def lint(text: str) -> List[Tuple[int, str]]:
        return [(f.line, f.code) for f in check_source(text, filename=str(views))]

    assert lint(saved) == [(11, "FCX100")]
    assert lint(saved) == [(11, "FCX100")]
    assert lint(edited) == []
    assert lint(saved) == [(11, "FCX100")]


@pytest.mark.parametrize("encoding, newline", [("utf-8", "\r\n"), ("latin-1", "\n")])
def test_saved_files_are_not_unsaved_edits(tmp_path: Path, encoding: str, newline: str) -> None:
    """flake8 hands over the text decoded by the file's coding cookie, newlines
    translated: a CRLF or latin-1 file is the saved file, so the parsed-module cache
    stays (dropping it on every check would re-parse the project for each file)."""
    package = make_package(
        tmp_path, "from flask import request\n\n\ndef audit():\n    return request.path\n"
    )
    text = (
        "# -*- coding: latin-1 -*-\n" if encoding == "latin-1" else ""
    ) + (
        "import threading\n\nfrom .workers import audit\n\n# caf\u00e9\n"
        "threading.Thread(target=audit).start()\n"
    )
    views = package / "views.py"
    views.write_bytes(text.replace("\n", newline).encode(encoding))
    project_module.clear_cache()
    first = check_source(text, filename=str(views))
    cached = dict(units_module._UNITS)
    assert check_source(text, filename=str(views)) == first
    assert [f.code for f in first] == ["FCX100"]
    assert cached and all(units_module._UNITS.get(key) is unit for key, unit in cached.items())
