"""Where in the fixture an observation comes from, so each marker is proven at its own line.

A failure is evidence for a marker only if it happened *there*: a worker that fails proves
the ``# error: FCX100`` on the line that dispatched it, not a second dispatch of the same
file that ran something harmless.  So every observation carries *sites*: the fixture lines
of the calls that led to it, as ``relative/path.py:FIRST-LAST`` spans --

* the stack when the work was dispatched (``pool.submit(work)``, ``Thread(target=...)``'s
  construction and its ``start()``, ``q.enqueue(job)``, ``response.call_on_close(fn)``...),
  captured by the probe that intercepts the dispatch;
* the traceback of the failure itself (a task body's read, the call in its body that leads
  there);
* for a streamed body, where the generator was handed to Flask (``Response(gen())``, a
  ``return gen()`` from the view or a helper).

A span is the lines of the *call being executed* in that frame (``co_positions``, Python
3.11+): a ``Thread(`` whose ``target=worker`` sits two lines below is one span, and two
dispatches on two lines are two.  Older Pythons have no positions; there the span is the
innermost simple statement holding the frame's line (read from the fixture's ``ast``).

Pure functions plus a small per-file cache: the verdict uses :func:`covers` and
:func:`parse_site` without running anything.
"""

from __future__ import annotations

import ast
import os
import re
from types import CodeType, FrameType, TracebackType
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

Span = Tuple[int, int]

_SITE = re.compile(r"^(?P<path>.+):(?P<first>\d+)-(?P<last>\d+)$")
_REMOTE_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def format_site(path: str, span: Span) -> str:
    return f"{path}:{span[0]}-{span[1]}"


def parse_site(site: str) -> Optional[Tuple[str, Span]]:
    match = _SITE.match(site)
    if match is None:
        return None
    return match.group("path"), (int(match.group("first")), int(match.group("last")))


def covers(sites: Iterable[str], path: str, line: int) -> bool:
    """True when one of ``sites`` is in ``path`` and spans ``line``."""
    for site in sites:
        parsed = parse_site(site)
        if parsed is not None and parsed[0] == path and parsed[1][0] <= line <= parsed[1][1]:
            return True
    return False


def _position_span(code: CodeType, lasti: int) -> Optional[Span]:
    positions = getattr(code, "co_positions", None)
    if positions is None or lasti < 0:
        return None
    for index, position in enumerate(positions()):
        if index == lasti // 2:
            first, last = position[0], position[1]
            if first is None:
                return None
            return first, last if last is not None else first
    return None


class _StatementSpans:
    """Older Pythons: the innermost simple statement (or compound header) holding a line."""

    def __init__(self) -> None:
        self._by_file: Dict[str, List[Span]] = {}
        self._headers: Dict[str, Dict[int, int]] = {}

    def span(self, filename: str, line: int) -> Span:
        spans = self._by_file.get(filename)
        if spans is None:
            spans = self._read(filename)
            self._by_file[filename] = spans
        best: Span = (line, line)
        for first, last in spans:
            if first <= line <= last and (best == (line, line) or last - first < best[1] - best[0]):
                best = (first, last)
        return best

    def header(self, filename: str, first_line: int) -> Span:
        """Lines from a function's first decorator (``co_firstlineno``) to its colon."""
        if filename not in self._headers:
            self._read(filename)
        return first_line, self._headers.get(filename, {}).get(first_line, first_line)

    def _read(self, filename: str) -> List[Span]:
        headers = self._headers.setdefault(filename, {})
        try:
            with open(filename, encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
        except (OSError, SyntaxError, ValueError):
            return []
        spans: List[Span] = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                headers[first] = max(node.lineno, node.body[0].lineno - 1)
            if not isinstance(node, ast.stmt):
                continue
            last = getattr(node, "end_lineno", None) or node.lineno
            body = getattr(node, "body", None)
            if isinstance(body, list) and body:  # a compound statement: its header only
                last = max(node.lineno, body[0].lineno - 1)
            spans.append((node.lineno, last))
        return spans


class SiteFinder:
    """Turns frames and tracebacks into the fixture's sites (other files are left out)."""

    def __init__(self, fixture_dir: str) -> None:
        self.fixture_dir = os.path.abspath(fixture_dir)
        self._statements = _StatementSpans()

    def in_fixture(self, filename: str) -> bool:
        return os.path.abspath(filename).startswith(self.fixture_dir + os.sep)

    def relative(self, filename: str) -> str:
        return os.path.relpath(os.path.abspath(filename), self.fixture_dir).replace(os.sep, "/")

    def _site(self, code: CodeType, lasti: int, lineno: int) -> str:
        span = _position_span(code, lasti) or self._statements.span(code.co_filename, lineno)
        return format_site(self.relative(code.co_filename), span)

    def header(self, fn: object) -> Tuple[str, ...]:
        """The ``def`` header (decorators to the colon) of a fixture function: where its
        default values were bound (``def work(req=request):``)."""
        code = getattr(fn, "__code__", None)
        if not isinstance(code, CodeType) or not self.in_fixture(code.co_filename):
            return ()
        span = self._statements.header(code.co_filename, code.co_firstlineno)
        return (format_site(self.relative(code.co_filename), span),)

    def of_frame(self, frame: FrameType) -> Optional[str]:
        if not self.in_fixture(frame.f_code.co_filename):
            return None
        return self._site(frame.f_code, frame.f_lasti, frame.f_lineno)

    def of_stack(self, frame: Optional[FrameType]) -> Tuple[str, ...]:
        """Every fixture frame from ``frame`` outwards: the calls that are running now."""
        sites: List[str] = []
        while frame is not None:
            site = self.of_frame(frame)
            if site is not None and site not in sites:
                sites.append(site)
            frame = frame.f_back
        return tuple(sites)

    def of_traceback(self, exc: BaseException) -> Tuple[str, ...]:
        """Fixture frames of ``exc``'s traceback, and of the remote traceback text a
        process pool chains to it (its frames only exist as text)."""
        sites: List[str] = []
        tb: Optional[TracebackType] = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if self.in_fixture(code.co_filename):
                site = self._site(code, tb.tb_lasti, tb.tb_lineno)
                if site not in sites:
                    sites.append(site)
            tb = tb.tb_next
        remote = "".join(str(e) for e in (exc.__cause__, exc.__context__) if e is not None)
        sites.extend(s for s in self.of_text(remote) if s not in sites)
        return tuple(sites)

    def of_text(self, text: str) -> Tuple[str, ...]:
        """Sites of a traceback that only exists as text (a spawned child's, a pool's)."""
        sites: List[str] = []
        for filename, lineno, _function in _REMOTE_FRAME.findall(text):
            if self.in_fixture(filename):
                line = int(lineno)
                span = self._statements.span(filename, line)
                site = format_site(self.relative(filename), span)
                if site not in sites:
                    sites.append(site)
        return tuple(sites)


def merge(*groups: Sequence[str]) -> Tuple[str, ...]:
    merged: List[str] = []
    for group in groups:
        merged.extend(site for site in group if site not in merged)
    return tuple(merged)
