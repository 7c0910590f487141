"""How the standalone command prints findings: text, JSON, SARIF 2.1.0, GitHub.

Each format is a function from the list of ``Reported`` findings to the text printed
on stdout.  SARIF carries the rule metadata from ``codes.CODES`` (name, summary, a help
text with the fix and a link to the rule's section of the documentation) so GitHub
code scanning can show it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple
from urllib.parse import quote

from ..version import __version__
from ..rules.codes import CODES
from ..rules.docs import rule_text

#: Each rule's documentation travels in the log itself (``help``: its section of
#: ``docs/rules.md``, installed with the package).  No ``helpUri``: the package has no
#: public page yet, and a link to a page that does not exist is worse than none.
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class Step:
    """One hop of a finding's chain, or its read, as printed (path as given or
    relative to the current directory; 1-based line, 0-based column)."""

    message: str
    path: str
    line: int
    column: int


@dataclass(frozen=True)
class Reported:
    """One finding of one file, as printed (1-based line, 0-based column).  ``steps``:
    the whole chain from the site to the read (JSON and SARIF show it)."""

    path: str
    line: int
    column: int
    code: str
    message: str
    steps: Tuple[Step, ...] = ()
    #: The message without its chain and advice (what text and GitHub show by default).
    headline: str = ""

    @property
    def text(self) -> str:
        """The message without its leading code."""
        return self.message.split(" ", 1)[1] if " " in self.message else self.message


def text(findings: Sequence[Reported]) -> str:
    """flake8's default format: ``path:line:col: CODE message`` (column 1-based)."""
    return "".join(f"{f.path}:{f.line}:{f.column + 1}: {f.message}\n" for f in findings)


def as_json(findings: Sequence[Reported]) -> str:
    rows = [
        {
            "path": _plain(f.path),
            "line": f.line,
            "column": f.column + 1,
            "code": f.code,
            "rule": CODES[f.code].slug if f.code in CODES else f.code,
            "message": f.text,
            "headline": f.headline.split(" ", 1)[1] if " " in f.headline else f.text,
            "chain": [
                {"path": _plain(step.path), "line": step.line, "column": step.column + 1,
                 "message": step.message}
                for step in f.steps
            ],
        }
        for f in findings
    ]
    return json.dumps(rows, indent=2) + "\n"


def github(findings: Sequence[Reported]) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    out = []
    for f in findings:
        level = "error" if f.code != "FCX999" else "warning"
        out.append(
            f"::{level} file={_escape_property(f.path)},line={f.line},col={f.column + 1},"
            f"title={f.code}::{_escape_data(f.text)}\n"
        )
    return "".join(out)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def rule_help(code: str) -> str:
    """The help text of a rule: its whole documentation (what it flags, why it fails,
    an example, the fix), as ``--explain`` prints it."""
    return rule_text(code)


def _plain(path: str) -> str:
    """A path as JSON shows it everywhere, top and chain alike: ``views.py``, never
    ``./views.py`` (flake8's text keeps the ``./`` of ``flake8 .``; text does too)."""
    return path[2:] if path.startswith("./") else path


def sarif(findings: Sequence[Reported]) -> str:
    rules = [
        {
            "id": rule.code,
            "name": _pascal(rule.slug),
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": rule_help(rule.code), "markdown": rule_help(rule.code)},
            "defaultConfiguration": {"level": "error" if rule.code != "FCX999" else "warning"},
            "properties": {"tags": ["flask", "concurrency", "correctness"]},
        }
        for rule in CODES.values()
    ]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results: List[Dict[str, Any]] = []
    for f in findings:
        result: Dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index.get(f.code, 0),
            "level": "error" if f.code != "FCX999" else "warning",
            "message": {"text": f.text},
            "locations": [{"physicalLocation": _physical(f.path, f.line, f.column)}],
        }
        if f.steps:
            # The chain: each hop as a related location, and the whole path as a code
            # flow (GitHub code scanning draws it step by step).
            result["relatedLocations"] = [
                {
                    "id": number,
                    "message": {"text": step.message},
                    "physicalLocation": _physical(step.path, step.line, step.column),
                }
                for number, step in enumerate(f.steps, 1)
            ]
            flow = [{
                "location": {
                    "message": {"text": "handed over here"},
                    "physicalLocation": _physical(f.path, f.line, f.column),
                }
            }] + [
                {
                    "location": {
                        "message": {"text": step.message},
                        "physicalLocation": _physical(step.path, step.line, step.column),
                    }
                }
                for step in f.steps
            ]
            result["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flake8-flask-ctx",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _root_uri()}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _pascal(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.split("-"))


def _physical(path: str, line: int, column: int) -> Dict[str, Any]:
    location: Dict[str, Any] = {"uri": _uri(path)}
    if not os.path.isabs(location["uri"]) and not location["uri"].startswith("file:"):
        location["uriBaseId"] = "%SRCROOT%"
    return {
        "artifactLocation": location,
        "region": {"startLine": line, "startColumn": column + 1},
    }


def _uri(path: str) -> str:
    """The path relative to ``%SRCROOT%`` (the current directory) whatever form it was
    given in (``./x.py``, ``/abs/x.py``), with ``/`` separators; a file outside that
    directory gets an absolute ``file:`` URI."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    if relative.startswith(".."):
        return Path(absolute).as_uri()
    return quote(relative.replace(os.sep, "/"))


def _root_uri() -> str:
    return Path(os.getcwd()).as_uri() + "/"


FORMATS: Mapping[str, Callable[[Sequence[Reported]], str]] = {
    "text": text,
    "json": as_json,
    "sarif": sarif,
    "github": github,
}
