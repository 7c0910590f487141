"""``# noqa`` comments for the standalone command, matched exactly as flake8 matches them.

The flake8 plugin needs none of this (flake8 applies ``noqa`` itself); the standalone
command must agree with it, or a comment that silences a finding in one front end
reports it in the other.  What flake8 does (7.x, ``violation.py``/``processor.py``):

* the comment is flake8's own pattern (``flake8.defaults.NOQA_INLINE_REGEXP``, imported:
  flake8 is a dependency either way): ``# noqa`` with exactly one space after ``#``,
  ``noqa`` in any case, then optionally ``:`` and codes;
* the codes are compared *case-sensitively*: ``# NOQA: fcx100`` names the code
  ``fcx100``, which silences nothing (the finding is reported);
* a code list the pattern cannot read (``# noqa: FCX``, no digits) leaves a bare
  ``# noqa``, which silences everything on the line;
* a token spanning several lines (a triple-quoted string) puts all its lines under one
  comment: the comment may follow the last of them;
* ``# flake8: noqa`` on a line of its own skips the whole file.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List, Optional, Sequence

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP  # type: ignore[import-untyped]

#: A file that never says ``noqa`` silences nothing (no need to tokenize it).
_ANY_NOQA = re.compile(r"noqa", re.IGNORECASE)
#: flake8's ``utils.COMMA_SEPARATED_LIST_RE``: how the code list is split.
_SEPARATORS = re.compile(r"[,\s]")


class NoqaLines:
    """One file's ``noqa`` view: for each line, the text flake8 searches."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: List[str] = source.splitlines(keepends=True)
        #: Tokenizing the file is the costly part (51 s for a 15 MB one-line module):
        #: done only when a finding asks whether it is silenced.
        self._ranges: Optional[Dict[int, str]] = None
        self._any = _ANY_NOQA.search(source) is not None

    @property
    def _mapping(self) -> Dict[int, str]:
        if self._ranges is None:
            self._ranges = _logical_ranges(self.source, self.lines)
        return self._ranges

    def file_ignored(self) -> bool:
        """``# flake8: noqa`` on a line of its own (flake8 skips such a file)."""
        return any(NOQA_FILE.match(line) for line in self.lines)

    def suppressed(self, line: int, code: str) -> bool:
        """Whether ``code`` reported at ``line`` (1-based) is silenced."""
        if not self._any:
            return False
        text = self._mapping.get(line)
        if text is None:
            text = self.lines[line - 1] if 1 <= line <= len(self.lines) else ""
        match = NOQA_INLINE_REGEXP.search(text)
        if match is None:
            return False
        codes_text = match.groupdict()["codes"]
        if codes_text is None:
            return True
        codes = {c.strip() for c in _SEPARATORS.split(codes_text) if c.strip()}
        return code in codes or code.startswith(tuple(codes))


def suppressed(lines: Sequence[str], line: int, code: str) -> bool:
    """One-off form of :meth:`NoqaLines.suppressed` (the lines of a file)."""
    return NoqaLines("\n".join(lines) + "\n").suppressed(line, code)


def _logical_ranges(source: str, lines: Sequence[str]) -> Dict[int, str]:
    """flake8's ``FileProcessor._noqa_line_mapping``: lines between two NL/NEWLINE
    tokens share the joined text of all of them."""
    mapping: Dict[int, str] = {}
    first, last = len(lines) + 2, -1
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = min(first, token.start[0])
            last = max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(lines[first - 1:last])
                for number in range(first, last + 1):
                    mapping[number] = joined
                first, last = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return {}
    return mapping
