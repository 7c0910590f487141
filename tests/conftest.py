from __future__ import annotations

import compileall
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


def pytest_configure(config: Any) -> None:
    """Compile the package under test and the runtime harness to bytecode once,
    before any worker starts.

    Why: hundreds of tests run flake8 or the command in a child process, and each child
    imports the package (and every runtime-harness child the harness).  ``pip install
    -e`` writes no bytecode for the checkout, and where ``PYTHONDONTWRITEBYTECODE`` is
    set (CI images often set it; the harness sets it for its children) no child writes
    any either, so every child compiled them again (0.12 s and 0.05 s each, about a
    minute of the suite).  An installed wheel has its bytecode; this gives the checkout
    the same.  Best effort: a read-only checkout just runs slower."""
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller did it
    for directory in (TESTS.parent / "flake8_flask_ctx", TESTS / "runtime"):
        try:
            compileall.compile_dir(directory, quiet=2)
        except OSError:
            pass


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
