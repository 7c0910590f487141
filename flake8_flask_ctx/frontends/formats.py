"""How the standalone command prints findings: text, JSON, SARIF 2.1.0, GitHub.

Each format is a function from the list of ``Reported`` findings to the text printed
on stdout.  SARIF carries the rule metadata from ``codes.CODES`` (name, summary, a help
text with the fix and a link to the rule's section of the documentation) so GitHub
code scanning can show it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Sequence

from ..version import __version__
from ..rules.codes import CODES

#: Where each rule is documented, in the source distribution (no web home is assumed).
DOCS_PATH = "docs/rules.md"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class Reported:
    """One finding of one file, as printed (1-based line, 0-based column)."""

    path: str
    line: int
    column: int
    code: str
    message: str

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
            "path": f.path,
            "line": f.line,
            "column": f.column + 1,
            "code": f.code,
            "rule": CODES[f.code].slug if f.code in CODES else f.code,
            "message": f.text,
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
    """The help text of a rule: what it means and where to read more."""
    rule = CODES[code]
    return f"{rule.code} ({rule.slug}): {rule.summary}. See {DOCS_PATH}, {rule.code}."


def sarif(findings: Sequence[Reported]) -> str:
    rules = [
        {
            "id": rule.code,
            "name": _pascal(rule.slug),
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": rule_help(rule.code), "markdown": _help_markdown(rule.code)},
            "defaultConfiguration": {"level": "error" if rule.code != "FCX999" else "warning"},
            "properties": {"tags": ["flask", "concurrency", "correctness"]},
        }
        for rule in CODES.values()
    ]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results: List[Dict[str, Any]] = [
        {
            "ruleId": f.code,
            "ruleIndex": index.get(f.code, 0),
            "level": "error" if f.code != "FCX999" else "warning",
            "message": {"text": f.text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line, "startColumn": f.column + 1},
                    }
                }
            ],
        }
        for f in findings
    ]
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
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _help_markdown(code: str) -> str:
    rule = CODES[code]
    return (
        f"**{rule.code} — {rule.slug}**\n\n{rule.summary}.\n\n"
        f"See `{DOCS_PATH}`, section {rule.code}."
    )


def _pascal(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.split("-"))


def _uri(path: str) -> str:
    cleaned = path.replace("\\", "/")
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    return cleaned


FORMATS: Mapping[str, Callable[[Sequence[Reported]], str]] = {
    "text": text,
    "json": as_json,
    "sarif": sarif,
    "github": github,
}
