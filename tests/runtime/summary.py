"""pytest hooks: a terminal summary of the runtime ground truth, also under pytest-xdist.

Each runtime test attaches one JSON record to its report (``user_properties``); reports
travel from xdist workers to the controller, so the controller can count executed fixtures,
confirmed positives, clean negatives, disagreements and declared skips (with reasons), and
measure the wall time from the first fixture start to the last fixture end.  Registered by
importing these functions into ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Sequence

PROPERTY = "fcx_runtime"

CONFIRMED = "confirmed"
CLEAN = "clean"
SKIPPED = "skipped"
DISAGREES = "disagrees"
UNCHECKED = "unchecked"
"""Ran and agreed, but every marker's code lacks runtime evidence (e.g. FCX999)."""

_records: List[Dict[str, Any]] = []


def runtime_record(
    fixture: str,
    status: str,
    started: float,
    reason: str = "",
    wall: float = 0.0,
    unchecked: Sequence[str] = (),
) -> tuple[str, str]:
    """The ``(name, value)`` pair a test passes to ``record_property``."""
    record = {
        "fixture": fixture,
        "status": status,
        "reason": reason,
        "unchecked": list(unchecked),
        "started": started,
        "ended": time.time(),
        "wall": round(wall, 3),
    }
    return PROPERTY, json.dumps(record)


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call":
        return
    for name, value in getattr(report, "user_properties", ()):
        if name == PROPERTY:
            _records.append(json.loads(value))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _records or hasattr(terminalreporter.config, "workerinput"):
        return
    by_status: Dict[str, List[Dict[str, Any]]] = {}
    for record in sorted(_records, key=lambda r: r["fixture"]):
        by_status.setdefault(record["status"], []).append(record)
    executed = [r for r in _records if r["status"] != SKIPPED]
    write = terminalreporter.write_line
    terminalreporter.section("runtime ground truth (fixtures run under real Flask)")
    write(
        f"executed {len(executed)}: confirmed positives {len(by_status.get(CONFIRMED, []))}, "
        f"clean negatives {len(by_status.get(CLEAN, []))}, "
        f"unchecked {len(by_status.get(UNCHECKED, []))}, "
        f"disagreements {len(by_status.get(DISAGREES, []))}; "
        f"skipped {len(by_status.get(SKIPPED, []))}"
    )
    for record in by_status.get(SKIPPED, []):
        write(f"  not run here: {record['fixture']} ({record['reason']})")
    for record in by_status.get(DISAGREES, []):
        write(f"  DISAGREES {record['fixture']}: {record['reason']}")
    for record in sorted(_records, key=lambda r: r["fixture"]):
        if record.get("unchecked"):
            codes = ", ".join(record["unchecked"])
            write(f"  unchecked {record['fixture']}: {codes} (no runtime evidence defined)")
    if executed:
        wall = max(r["ended"] for r in executed) - min(r["started"] for r in executed)
        cpu = sum(r["wall"] for r in executed)
        slowest = max(executed, key=lambda r: r["wall"])
        # Information, not a verdict: the time is the machine's (a busy CI runner
        # takes longer), and no test depends on it (speed is benchmarks/' business).
        write(
            f"took {wall:.1f} s of wall time and {cpu:.1f} s in fixture interpreters; "
            f"slowest {slowest['fixture']} {slowest['wall']:.2f} s"
        )
