from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

# Runtime ground truth: terminal summary of tests/test_runtime_truth.py (works under xdist).
from runtime.summary import (  # noqa: E402,F401
    pytest_runtest_logreport,
    pytest_terminal_summary,
)
