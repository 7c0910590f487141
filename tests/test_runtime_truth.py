"""Every fixture's verdict holds under real Flask: markers predict exactly what fails.

Each fixture in ``tests/fixtures`` (or in ``$FCX_RUNTIME_FIXTURES``, to try other samples)
runs in its own interpreter through :mod:`runtime.harness`: its routes are driven with the
test client and everything the requests started is waited for.  A fixture with
``# error: FCX1xx`` must make Flask raise the missing-context error it predicts (or leave
Flask-Login's ``current_user`` None); a fixture without markers must run clean; a fixture
that cannot run faithfully here says ``# runtime: skip <reason>``.  Parallel-friendly
(``-n auto``); the terminal summary counts the outcomes and measures the wall time.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import pytest

from expectations import (
    Expected,
    expected_in,
    fixture_files,
    project_dirs,
    project_markers,
    runtime_no_work_reason,
    runtime_skip_reason,
)
from runtime import kinds
from runtime.harness import HarnessRun, run_isolated
from runtime.probes import Observation
from runtime.sites import covers
from runtime.summary import CLEAN, CONFIRMED, DISAGREES, SKIPPED, UNCHECKED, runtime_record
from runtime.verdict import Verdict, apply_rule, judge

FIXTURES = Path(
    os.environ.get("FCX_RUNTIME_FIXTURES") or Path(__file__).resolve().parent / "fixtures"
)
FILES = fixture_files(FIXTURES)
PROJECTS = project_dirs(FIXTURES / "projects") if (FIXTURES / "projects").is_dir() else []

RecordProperty = Callable[[str, object], None]


#: Codes whose run-time evidence depends on thread timing (FCX400: a copied context
#: entered twice at once), retried up to ``TIMING_ATTEMPTS`` runs in all.
TIMING_CODES = frozenset({"FCX400"})
TIMING_ATTEMPTS = 3
#: How ``verdict.judge`` words an expected failure that did not happen (the only kind of
#: disagreement a retry may clear; an unexpected failure is never retried away).
MISSING_EVIDENCE = "but Flask raised none"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture_runtime_truth(path: Path, record_property: RecordProperty) -> None:
    source = path.read_text(encoding="utf-8")
    started = time.time()
    reason = runtime_skip_reason(source)
    if reason:
        record_property(*runtime_record(path.name, SKIPPED, started, reason))
        pytest.skip(f"runtime: {reason}")
    no_work = runtime_no_work_reason(source)
    run = run_isolated(path)
    verdict = judge(path.name, expected_in(source), run, no_work)
    codes = {e.code for e in verdict.expected}
    attempts = 1
    while (
        not verdict.ok and codes & TIMING_CODES and attempts < TIMING_ATTEMPTS
        and all(MISSING_EVIDENCE in problem for problem in verdict.problems)
    ):
        # The evidence needs two workers to overlap (the same copied context entered
        # concurrently); on a busy machine they may run one after the other.  A bug is
        # proven by one run that shows it; a run that shows something else still fails.
        run = run_isolated(path)
        verdict = judge(path.name, expected_in(source), run, no_work)
        attempts += 1
    unchecked = sorted(codes - set(kinds.CODE_KINDS))
    if not verdict.ok:
        status, note = DISAGREES, verdict.problems[0]
    elif not codes:
        status, note = CLEAN, ""
    else:
        status, note = (UNCHECKED if len(unchecked) == len(codes) else CONFIRMED), ""
    record_property(*runtime_record(path.name, status, started, note, run.wall, unchecked))
    print(verdict.report())
    assert verdict.ok, verdict.report()


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_project_runtime_truth(project: Path, record_property: RecordProperty) -> None:
    """A multi-module project runs from its ``wsgi.py``; the markers of all its modules
    together predict what fails (the harness imports it with the project root on
    ``sys.path``, as ``flask --app wsgi`` would)."""
    started = time.time()
    expected = [
        replace(e, path=module)
        for module, markers in project_markers(project).items()
        for e in markers
    ]
    no_work = runtime_no_work_reason((project / "wsgi.py").read_text(encoding="utf-8"))
    run = run_isolated(project / "wsgi.py")
    verdict = judge(f"projects/{project.name}", expected, run, no_work)
    status = DISAGREES if not verdict.ok else (CONFIRMED if expected else CLEAN)
    note = verdict.problems[0] if not verdict.ok else ""
    record_property(*runtime_record(f"projects/{project.name}", status, started, note, run.wall))
    print(verdict.report())
    assert verdict.ok, verdict.report()


# --- the verdict rule itself ------------------------------------------------------------------
Marker = Tuple[int, str]


def _verdict(
    markers: Sequence[Union[Marker, Expected]],
    observed: Sequence[Union[str, Tuple[str, int]]],
    fragment: Optional[str] = None,
    completed: int = 1,
    no_work: Optional[str] = None,
) -> Verdict:
    """A verdict over made-up markers and observations.  An observation given as a kind
    alone happened at the first marker's line (or nowhere, without markers); as
    ``(kind, line)`` it happened at ``line``."""
    expected: List[Expected] = [
        m if isinstance(m, Expected) else Expected(m[0], m[1], fragment, path="f.py")
        for m in markers
    ]
    first = expected[0].line if expected else 0
    observations = []
    for item in observed:
        kind, line = (item, first) if isinstance(item, str) else item
        observations.append(
            Observation(
                kind=kind, source="Thread", callable="w()", thread="T", exc_type="E",
                message="m", sites=(f"f.py:{line}-{line}",) if line else (),
            )
        )
    done = [{"route": "GET /", "work": "Thread running w()", "raised": ""}] * completed
    verdict = Verdict(
        "f.py", "positive" if expected else "negative", expected, observations, [], done
    )
    apply_rule(verdict, no_work)
    return verdict


def test_rule_negative_must_observe_nothing() -> None:
    assert _verdict([], []).ok
    assert not _verdict([], [kinds.REQUEST]).ok


def test_rule_every_marked_kind_is_observed() -> None:
    assert _verdict([(5, "FCX100")], [kinds.REQUEST, kinds.REQUEST]).ok
    assert not _verdict([(5, "FCX100")], []).ok
    assert not _verdict([(5, "FCX100"), (9, "FCX110")], [kinds.REQUEST]).ok


def test_rule_each_marker_is_proven_at_its_own_line() -> None:
    """Issue 24's planted defect in small: two FCX100 markers, one failure.  The failure
    at line 5 does not prove the marker at line 9 (whose dispatch ran something harmless)."""
    two = [(5, "FCX100"), (9, "FCX100")]
    assert _verdict(two, [(kinds.REQUEST, 5), (kinds.REQUEST, 9)]).ok
    lonely = _verdict(two, [(kinds.REQUEST, 5)])
    assert not lonely.ok
    assert lonely.problems == [
        "FCX100 (f.py line 9) expects a failure of kind request at its own line, but Flask "
        "raised none there (the request failures came from f.py:5-5)"
    ]
    # a multi-line site proves every line it spans
    spanning = Observation("request", "Thread", "w()", "T", "E", "m", sites=("f.py:8-10",))
    verdict = Verdict("f.py", "positive", [Expected(9, "FCX100", None, path="f.py")],
                      [spanning], [])
    apply_rule(verdict)
    assert verdict.ok


def test_rule_a_failure_at_an_unmarked_line_is_unexpected() -> None:
    verdict = _verdict([(5, "FCX100")], [(kinds.REQUEST, 5), (kinds.REQUEST, 12)])
    assert not verdict.ok
    assert "no marker at f.py:12-12 predicts a request failure" in verdict.problems[0]


def test_rule_observed_kinds_are_a_subset_of_marked_ones() -> None:
    assert not _verdict([(5, "FCX100")], [kinds.REQUEST, kinds.APP]).ok
    assert not _verdict([(5, "FCX110")], [kinds.REQUEST]).ok


def test_rule_one_failure_proves_two_codes_only_where_the_fixture_says_so() -> None:
    both = [(5, "FCX100"), (5, "FCX110")]
    assert not _verdict(both, [kinds.REQUEST]).ok
    declared = [
        Expected(5, "FCX100", None, path="f.py"),
        Expected(5, "FCX110", None, proven_by="FCX100", path="f.py"),
    ]
    verdict = _verdict(declared, [kinds.REQUEST])
    assert verdict.ok and any("first read" in n for n in verdict.notes)
    # ...and the declared partner must itself be proven at that line
    assert not _verdict(declared, [(kinds.REQUEST, 7)]).ok
    orphan = [Expected(5, "FCX110", None, proven_by="FCX100", path="f.py")]
    assert not _verdict(orphan, [kinds.REQUEST]).ok


def test_rule_crashes_and_view_failures_always_disagree() -> None:
    assert not _verdict([(5, "FCX100")], [kinds.REQUEST, kinds.OTHER]).ok
    assert not _verdict([], [kinds.VIEW_ERROR]).ok
    assert not _verdict([(5, "FCX100")], [kinds.REQUEST, kinds.HUNG]).ok


def test_rule_a_negative_must_have_run_its_work() -> None:
    """Issue 24's other planted defect in small: a negative whose work never ran."""
    assert _verdict([], []).ok
    vacuous = _verdict([], [], completed=0)
    assert not vacuous.ok and "proves nothing" in vacuous.problems[0]
    assert _verdict([], [], completed=0, no_work="the map runs in the view").ok
    # the declaration must be true
    assert not _verdict([], [], completed=1, no_work="the map runs in the view").ok
    # work built and never started is a problem, unless the fixture says so
    assert not _verdict([], [(kinds.NOT_STARTED, 7)]).ok
    assert _verdict([], [(kinds.NOT_STARTED, 7)], completed=0, no_work="run() inline").ok


def test_rule_unknown_codes_are_not_checked_but_said() -> None:
    verdict = _verdict([(1, "FCX999")], [])
    assert verdict.ok and any("cannot be checked" in n for n in verdict.notes)


def test_rule_fcx200_accepts_either_tier() -> None:
    assert _verdict([(5, "FCX200")], [kinds.APP]).ok
    assert _verdict([(5, "FCX200")], [kinds.REQUEST]).ok


def test_rule_fcx210_for_a_lazy_query_is_proven_by_the_context_error() -> None:
    """A lazy query fails where it is iterated with the app-context error (a worker) or
    while the body streams; an uploaded file, only with a closed file."""
    lazy = "the lazy query"
    assert _verdict([(5, "FCX210")], [kinds.APP], lazy).ok
    assert _verdict([(5, "FCX210")], [kinds.STREAM], lazy).ok
    assert not _verdict([(5, "FCX210")], [kinds.CLOSED_FILE], lazy).ok
    assert not _verdict([(5, "FCX210")], [kinds.APP]).ok
    assert _verdict([(5, "FCX210")], [kinds.CLOSED_FILE]).ok


def test_sites_cover_their_lines_in_their_file_only() -> None:
    assert covers(["f.py:3-5"], "f.py", 4)
    assert not covers(["f.py:3-5"], "f.py", 6)
    assert not covers(["pkg/f.py:3-5"], "f.py", 4)
    assert not covers(["garbage"], "f.py", 4)


def test_classification_of_flask_messages() -> None:
    outside_request = "Working outside of request context.\n\nThis typically means..."
    outside_app = "Working outside of application context."
    url_for = ("flask.helpers", "url_for")
    assert kinds.classify("RuntimeError", outside_request, "Thread")[0] == kinds.REQUEST
    assert kinds.classify("RuntimeError", outside_app, "Thread")[0] == kinds.APP
    assert kinds.classify("RuntimeError", outside_app, "Thread", url_for)[0] == kinds.REQUEST
    server_name = kinds.entry_tiers(server_name=True)  # url_for is app-tier then
    kind, _note = kinds.classify("RuntimeError", outside_app, "Thread", url_for, False, server_name)
    assert kind == kinds.APP
    assert kinds.classify("RuntimeError", outside_request, kinds.SOURCE_BODY)[0] == kinds.STREAM
    closed = "I/O operation on closed file."
    assert kinds.classify("ValueError", closed, "Thread")[0] == kinds.CLOSED_FILE
    assert kinds.classify("KeyError", "'x'", "Thread")[0] == kinds.OTHER


def test_a_harness_failure_is_a_disagreement() -> None:
    run = HarnessRun(Path("f.py"), None, 1, "Traceback ...\nBoom", 0.1)
    verdict = judge("f.py", [], run)
    assert not verdict.ok and "could not be run" in verdict.problems[0]


# --- harness pieces that need no fixture interpreter --------------------------------------------
def test_post_import_hook_runs_after_the_module_body(tmp_path: Path) -> None:
    import sys

    from runtime.imports import when_imported

    (tmp_path / "fcx_hooked_module.py").write_text("VALUE = 1\n", encoding="utf-8")
    seen: List[int] = []
    sys.path.insert(0, str(tmp_path))
    try:
        when_imported("fcx_hooked_module", lambda module: seen.append(module.VALUE))
        import fcx_hooked_module  # type: ignore[import-not-found]  # noqa: F401

        assert seen == [1]
        when_imported("fcx_hooked_module", lambda module: seen.append(2))  # already imported
        assert seen == [1, 2]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fcx_hooked_module", None)


def test_task_arguments_are_checked_against_the_signature() -> None:
    from runtime.probes import FixtureConventionError
    from runtime.taskqueues import declared_arguments

    def task(account_id: int, full: bool = False) -> None:
        pass

    declared = {"task": ((7,), {"full": True})}
    assert declared_arguments(declared, "task", task) == ((7,), {"full": True})
    with pytest.raises(FixtureConventionError, match="RUNTIME_TASK_ARGS"):
        declared_arguments({}, "task", task)
    with pytest.raises(FixtureConventionError, match="pair"):
        declared_arguments({"task": 7}, "task", task)


def test_a_first_chunk_failure_is_the_body_not_the_view() -> None:
    from flask import Flask, Response, request

    from runtime.harness import raised_by_body

    app = Flask("fcx_body_probe")
    app.testing = True  # the view's own exception propagates out of client.open()

    @app.route("/view")
    def view() -> str:
        raise RuntimeError("the view")

    @app.route("/body")
    def body() -> Response:
        return Response(request.args["q"] for _ in range(1))  # noqa: FCX300 - on purpose

    client = app.test_client()
    for url, from_body in (("/view", False), ("/body", True)):
        with pytest.raises(RuntimeError) as caught:
            client.get(url)
        assert raised_by_body(caught.value) is from_body


def test_rule_only_a_missing_observation_is_worded_as_retryable() -> None:
    """The FCX400 retry clears only "expected a failure, Flask raised none"."""
    missing = _verdict([(5, "FCX400")], [])
    assert missing.problems and all(MISSING_EVIDENCE in p for p in missing.problems)
    unexpected = _verdict([(5, "FCX400")], [kinds.REQUEST])
    assert any(MISSING_EVIDENCE not in p for p in unexpected.problems)
