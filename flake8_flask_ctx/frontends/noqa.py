"""``# noqa`` comments, read as flake8 reads them, for the standalone command.

``# noqa`` alone silences every code on its line; ``# noqa: FCX100,FCX110`` silences
those codes (a listed prefix such as ``FCX1`` silences the codes it starts).  The flake8
plugin needs none of this: flake8 applies ``noqa`` itself.
"""

from __future__ import annotations

import re
from typing import Sequence

NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?", re.IGNORECASE
)


def suppressed(lines: Sequence[str], line: int, code: str) -> bool:
    """Whether the physical ``line`` (1-based) carries a ``noqa`` that covers ``code``."""
    if not 1 <= line <= len(lines):
        return False
    for match in NOQA.finditer(lines[line - 1]):
        codes = match.group("codes")
        if not codes:
            return True
        if any(code.upper().startswith(c.upper()) for c in re.split(r"[,\s]+", codes) if c):
            return True
    return False
