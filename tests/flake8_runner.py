"""Run the real flake8 as a user does: a subprocess of the test interpreter."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence


@dataclass(frozen=True)
class Flake8Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def reports(self) -> List[str]:
        return sorted(line for line in self.stdout.splitlines() if line.strip())


def flake8(
    args: Sequence[str],
    cwd: Optional[Path] = None,
    stdin: Optional[bytes] = None,
    isolated: bool = True,
) -> Flake8Result:
    """flake8 with ``args``; ``isolated`` ignores any config file around ``cwd``.

    Asserts that flake8 itself did not crash: a plugin must never break the run.
    """
    command = [sys.executable, "-m", "flake8", *(["--isolated"] if isolated else []), *args]
    done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, timeout=300)
    result = Flake8Result(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), (result.returncode, result.stderr)
    return result
