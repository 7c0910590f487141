from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

# Runtime ground truth: terminal summary of tests/test_runtime_truth.py (works under xdist).
from runtime import summary as runtime_summary  # noqa: E402

#: ``record_property(SUMMARY_PROPERTY, text)``: a line for the terminal summary (counts
#: and times of the smoke and fuzz runs), shown also under pytest-xdist, where a
#: passing test's own output is swallowed.
SUMMARY_PROPERTY = "fcx_summary"
_summary_lines: List[str] = []


def pytest_runtest_logreport(report: Any) -> None:
    runtime_summary.pytest_runtest_logreport(report)
    if report.when == "call":
        for name, value in getattr(report, "user_properties", ()):
            if name == SUMMARY_PROPERTY:
                _summary_lines.append(str(value))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    runtime_summary.pytest_terminal_summary(terminalreporter)
    if _summary_lines and not hasattr(terminalreporter.config, "workerinput"):
        terminalreporter.section("flake8-flask-ctx robustness")
        for line in sorted(_summary_lines):
            terminalreporter.write_line(line)
