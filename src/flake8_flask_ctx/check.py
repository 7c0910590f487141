"""Source text in, findings out: the cheap skip, the parse, the analysis.

Front ends (the flake8 plugin today, a standalone CLI later) call ``check_source``;
it never opens files, so stdin and editors work the same as paths.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, List

import libcst as cst

from .analysis import Finding, ModuleAnalysis
from .knowledge import DEFAULT_KNOWLEDGE, Knowledge
from .names import ModuleIndex

#: LibCST's visitors recurse once per tree level; deeply nested (generated) code
#: needs more than Python's default 1,000 frames.
RECURSION_LIMIT = 20_000


def might_have_findings(source: str, knowledge: Knowledge = DEFAULT_KNOWLEDGE) -> bool:
    """Cheap text test: can this file hold a finding?

    Findings need a context-local imported from a watched package (Flask, Flask-Login,
    the packages of configured locals) and a dispatch site, task decorator or
    streamed response in the same file (reach stays inside the module), so a file
    lacking either word is skipped without parsing.  Sound for this version's rules.
    """
    if not any(package in source for package in knowledge.watched_packages):
        return False
    return any(word in source for word in knowledge.prefilter_words)


def check_source(source: str, knowledge: Knowledge = DEFAULT_KNOWLEDGE) -> List[Finding]:
    """All findings for one module's text.  Syntax errors give no findings.

    Other exceptions propagate: the front end turns them into FCX999.
    """
    if not might_have_findings(source, knowledge):
        return []
    with _recursion_limit(RECURSION_LIMIT):
        try:
            module = cst.parse_module(source)
        except cst.ParserSyntaxError:
            return []  # flake8 reports E999 itself
        index = ModuleIndex(module, knowledge)
        findings = ModuleAnalysis(index, knowledge).findings()
    return sorted(findings, key=lambda f: (f.line, f.column, f.code))


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    if previous < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
