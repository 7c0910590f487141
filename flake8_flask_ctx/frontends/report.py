"""What the standalone command writes after the analysis: the chosen format, and the
extras flake8 users count on (``--show-source``, ``-q``/``-qq``, ``--statistics``,
``--count``, ``--output-file``), with the same meaning as in flake8.

The report goes to standard output or to ``--output-file``; the count goes last to
standard output, as flake8 prints it (``N=$(flake8-flask-ctx --count -qq .)``).
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Dict, List, Optional, Sequence

from .cli_options import Options, UsageError
from .formats import FORMATS, Reported


def render(
    reported: Sequence[Reported], options: Options, known: Optional[Dict[str, str]] = None
) -> str:
    """The report in the chosen format, with the text extras (``known``: texts that
    cannot be read again, such as stdin's, by displayed path)."""
    if options.format not in ("text", "github"):
        return FORMATS[options.format](reported)  # JSON, SARIF: everything
    if not options.show_chain:
        reported = [_as_headline(finding) for finding in reported]
    if options.format == "github":
        return FORMATS["github"](reported)
    if options.quiet >= 2:
        lines: List[str] = []
    elif options.quiet == 1:
        lines = [f"{path}\n" for path in dict.fromkeys(r.path for r in reported)]
    else:
        lines = []
        sources: Dict[str, Optional[List[str]]] = {
            path: text.splitlines() for path, text in (known or {}).items()
        }
        for finding in reported:
            lines.append(FORMATS["text"]([finding]))
            if options.show_source:
                lines.append(_source_lines(finding, sources))
    if options.statistics:
        lines.append(statistics(reported))
    return "".join(lines)


def _as_headline(finding: Reported) -> Reported:
    """The finding as text and GitHub show it by default: its headline as the message."""
    if not finding.headline:
        return finding
    return Reported(
        finding.path, finding.line, finding.column, finding.code, finding.headline,
        finding.steps, finding.headline,
    )


def statistics(reported: Sequence[Reported]) -> str:
    """flake8's ``--statistics``: per code, how many, and the first message."""
    counts = Counter(r.code for r in reported)
    first: Dict[str, str] = {}
    for finding in reported:
        first.setdefault(finding.code, finding.text)
    return "".join(
        f"{counts[code]:<5} {code} {_clip(first[code], 100)}\n" for code in sorted(counts)
    )


def write(text: str, options: Options, found: int) -> None:
    """To ``--output-file`` (created or replaced) or standard output; with ``--count``
    the number of findings last on standard output, as flake8 prints it."""
    if options.output_file:
        try:
            with open(options.output_file, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise UsageError(f"--output-file: {error}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if options.count:
        print(found, flush=True)


def _source_lines(finding: Reported, cache: Dict[str, Optional[List[str]]]) -> str:
    """The finding's line and a caret under its column (``--show-source``)."""
    if finding.path not in cache:
        from .unreadable import read_source

        source, _problem = read_source(finding.path)
        cache[finding.path] = source.splitlines() if source is not None else None
    lines = cache[finding.path]
    if not lines or not 0 < finding.line <= len(lines):
        return ""
    line = lines[finding.line - 1]
    indent = "".join(c if c.isspace() else " " for c in line[: finding.column])
    return f"{line}\n{indent}^\n"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
