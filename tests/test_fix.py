"""``--fix``: every rewrite is proven -- the fixed fixture lints clean and runs clean
under Flask -- and the unsafe ones are not made."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from expectations import expected_in, fixture_files, options_in
from flake8_flask_ctx.checker.check import check_source
from flake8_flask_ctx.frontends.fix import fix_source
from flake8_flask_ctx.knowledge import Knowledge
from runtime.harness import run_isolated
from test_fixtures import settings_from

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The fixtures with findings (a fixture without any is left as it is by ``--fix``,
#: which ``test_fixtures`` proves by finding nothing in it), without options.
FILES = [
    p for p in fixture_files(FIXTURES)
    if expected_in(p.read_text(encoding="utf-8")) and not options_in(p.read_text("utf-8"))
]


@functools.lru_cache(maxsize=None)
def _fixed(path: Path) -> Tuple[str, str]:
    source = path.read_text(encoding="utf-8")
    settings = settings_from([])
    return source, fix_source(source, Knowledge.build(settings), str(path), settings)


@functools.lru_cache(maxsize=None)
def _codes(source: str, path: Path) -> Counter[str]:
    settings = settings_from([])
    found = check_source(source, Knowledge.build(settings), str(path), settings)
    return Counter(f.code for f in found)


@pytest.fixture(scope="module")
def outcomes() -> Dict[str, List[Path]]:
    """Fixtures by what --fix does to them: made clean, improved, untouched."""
    result: Dict[str, List[Path]] = {"clean": [], "improved": [], "untouched": []}
    for path in FILES:
        source, fixed = _fixed(path)
        if fixed == source:
            result["untouched"].append(path)
        elif not _codes(fixed, path):
            result["clean"].append(path)
        else:
            result["improved"].append(path)
    return result


def test_fixes_make_findings_disappear_without_new_ones(outcomes: Dict[str, List[Path]]) -> None:
    assert len(outcomes["clean"]) >= 15, [p.name for p in outcomes["clean"]]
    # Every fixture made clean is run under Flask below: raise MAX_PROVEN if this fails.
    assert len(outcomes["clean"]) <= MAX_PROVEN
    for path in outcomes["clean"] + outcomes["improved"]:
        source, fixed = _fixed(path)
        before, after = _codes(source, path), _codes(fixed, path)
        assert sum(after.values()) < sum(before.values()), path.name
        assert all(after[c] <= before[c] for c in after), path.name
        # Formatting and comments are kept: only the wrapped expressions and the import
        # differ, and every marker comment is still there.
        assert fixed.count("# error:") == source.count("# error:"), path.name
        assert len(fixed.splitlines()) - len(source.splitlines()) in (0, 1), path.name


def test_each_kind_of_fix_is_exercised(outcomes: Dict[str, List[Path]]) -> None:
    texts = [_fixed(p)[1] for p in outcomes["clean"]]
    assert any("copy_current_request_context(" in t and ".submit(copy_current" in t
               for t in texts)
    assert any("target=copy_current_request_context(" in t for t in texts)
    assert any("stream_with_context(" in t for t in texts)
    improved = [_fixed(p)[1] for p in outcomes["clean"] + outcomes["improved"]]
    assert any("current_app._get_current_object()" in t for t in improved)


def test_unsafe_rewrites_are_not_made() -> None:
    for name in (
        "pool_process_pool_spawn.py",       # a process: the copied context cannot travel
        "task_celery_reads_request_args.py",  # a task body
        "pool_executor_map.py",             # map: one wrapper run many times
    ):
        path = FIXTURES / name
        assert path.is_file(), f"{name} is gone: name another fixture of that shape"
        source, fixed = _fixed(path)
        assert fixed == source, name


BODY_VIEW = """\
import threading
from flask import Flask, request

app = Flask(__name__)


def work():
    return request.{read}


@app.route("/", methods=["POST"])
def index():
    threading.Thread(target=work).start()
    return "ok"
"""


@pytest.mark.parametrize("read, fixable", [
    ("args.get('q')", True), ("headers", True), ("get_json()", False), ("form['x']", False),
    ("files['f']", False), ("get_data()", False), ("json", False), ("stream.read()", False),
])
def test_workers_reading_the_body_are_not_wrapped(read: str, fixable: bool) -> None:
    """Under a real server the body may be gone when the worker runs after the
    response: only the view can read it safely."""
    source = BODY_VIEW.format(read=read)
    settings = settings_from([])
    fixed = fix_source(source, Knowledge.build(settings), None, settings)
    assert ("copy_current_request_context(work)" in fixed) is fixable


MAX_PROVEN = 67


@pytest.mark.parametrize("index", range(MAX_PROVEN))
def test_fixed_fixture_runs_clean_under_flask(
    index: int, outcomes: Dict[str, List[Path]], tmp_path: Path
) -> None:
    clean = outcomes["clean"]
    if index >= len(clean):
        pytest.skip("fewer fixed fixtures")
    path = clean[index]
    _, fixed = _fixed(path)
    (tmp_path / path.name).write_text(fixed, encoding="utf-8")
    shutil.copytree(FIXTURES / "support", tmp_path / "support")
    run = run_isolated(tmp_path / path.name)
    assert run.failure() is None, run.stderr[-2000:]
    assert run.observations == [], (path.name, run.observations)
    assert run.result and run.result.get("routes"), "the routes were driven"
    if "stream_with_context(" not in fixed:
        assert run.result.get("completed"), "the fixed work really ran"


def test_cli_fix_and_diff(tmp_path: Path) -> None:
    name = "pool_module_executor_submit.py"
    target = tmp_path / name
    shutil.copy(FIXTURES / name, target)
    original = target.read_text()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flake8_flask_ctx", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    diff = run("--fix", "--diff", name)
    assert diff.returncode == 1 and diff.stdout.startswith(f"--- a/{name}")
    wrapped = "+    export_pool.submit(copy_current_request_context(build_report_export))"
    assert wrapped in diff.stdout
    assert target.read_text() == original  # --diff writes nothing
    assert run("--diff", name).returncode == 2  # --diff alone is a usage error
    fixed = run("--fix", name)
    assert fixed.returncode == 0 and fixed.stdout == "", fixed.stdout
    assert "fixed" in fixed.stderr
    assert target.read_text() != original
    assert run(name).returncode == 0
    again = run("--fix", "--diff", name)
    assert again.returncode == 0 and again.stdout == ""
    stdin = subprocess.run([sys.executable, "-m", "flake8_flask_ctx", "--fix", "-"],
                           input=original, capture_output=True, text=True, cwd=tmp_path)
    assert stdin.stdout == target.read_text()
