"""The rule documentation installed with the package (``rules.md``, the same text as
the source tree's ``docs/rules.md``): what ``--explain`` prints and SARIF carries as
each rule's help.  Read lazily: the flake8 plugin never needs it."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Dict

from .codes import CODES

_SECTION = re.compile(r"^## (FCX\d{3}) — ", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _sections() -> Dict[str, str]:
    # Next to this module (package data); a plain file read: the package imports
    # nothing it could run (``tests/test_safety.py``).
    text = Path(__file__).with_name("rules.md").read_text(encoding="utf-8")
    found: Dict[str, str] = {}
    starts = list(_SECTION.finditer(text))
    for number, match in enumerate(starts):
        end = starts[number + 1].start() if number + 1 < len(starts) else len(text)
        found[match.group(1)] = text[match.start():end].strip() + "\n"
    return found


def rule_text(code: str) -> str:
    """The documentation of ``code`` (markdown), or a one-line summary if the installed
    file lacks it."""
    section = _sections().get(code)
    if section is not None:
        return section
    rule = CODES[code]
    return f"## {rule.code} — {rule.slug}\n\n{rule.summary}.\n"


def code_list() -> str:
    """Every code with its summary, one per line (``--explain`` without a code)."""
    return "".join(f"{rule.code}  {rule.slug}: {rule.summary}\n" for rule in CODES.values())
