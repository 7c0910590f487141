"""The runtime ground truth rejects what it must: planted defects in copies of real fixtures.

Each case copies one fixture, applies a textual mutation (data below), runs the copy
through the real harness (a fresh interpreter under Flask, like ``test_runtime_truth``)
and requires a disagreement that names the defect.  If the harness ever accepts one of
these, a fixture's label could be wrong and still pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List

import pytest

from expectations import expected_in, runtime_no_work_reason
from runtime.harness import run_isolated
from runtime.verdict import judge

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Planted:
    name: str
    fixture: str
    replacements: List[List[str]]
    """``[old, new]`` pairs; each ``old`` must occur exactly once in the fixture."""
    rejected_with: str
    """A fragment of the disagreement the harness must report."""


PLANTED = [
    Planted(
        "a marker on a dispatch of harmless work (another marker's failure must not prove it)",
        "reach_handler_table.py",
        [['pool.submit(EXPORTERS["csv"], report_id)', 'pool.submit(EXPORTERS["pdf"], report_id)']],
        "FCX100 (reach_handler_table.py line 38) expects a failure of kind request at its "
        "own line, but Flask raised none there",
    ),
    Planted(
        "a negative whose worker is built but never started",
        "thread_timer.py",
        [["  # error: FCX100 @38", ""], ["    reminder.start()\n", ""]],
        "the fixture built work it never started",
    ),
    Planted(
        "a negative whose work is never dispatched at all",
        "thread_timer.py",
        [
            ["  # error: FCX100 @38", ""],
            ["    reminder = threading.Timer(0.01, send_cart_reminder)\n", ""],
            ["    reminder.daemon = True\n    reminder.start()\n", ""],
        ],
        "a negative whose run completed no dispatched work proves nothing",
    ),
    Planted(
        "a marker moved off its dispatch to another line of the view",
        "thread_timer.py",
        [
            ["  # error: FCX100 @38", ""],
            [
                '    return {"reminder": "scheduled"}, 202',
                '    return {"reminder": "scheduled"}, 202  # error: FCX100',
            ],
        ],
        "no marker at",
    ),
]


@pytest.mark.parametrize("case", PLANTED, ids=[c.name for c in PLANTED])
def test_the_harness_rejects_a_planted_defect(case: Planted, tmp_path: Path) -> None:
    source = (FIXTURES / case.fixture).read_text(encoding="utf-8")
    for old, new in case.replacements:
        assert source.count(old) == 1, f"the mutation no longer applies to {case.fixture}: {old!r}"
        source = source.replace(old, new)
    copy = tmp_path / case.fixture
    copy.write_text(source, encoding="utf-8")
    run = run_isolated(copy)
    verdict = judge(copy.name, expected_in(source), run, runtime_no_work_reason(source))
    assert not verdict.ok, f"the harness accepted {case.name}:\n{verdict.report()}"
    assert any(case.rejected_with in problem for problem in verdict.problems), verdict.report()
