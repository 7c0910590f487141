"""The rule documentation: one text in the source tree and in the installed package,
with what every rule's section must say."""

from __future__ import annotations

from pathlib import Path

from flake8_flask_ctx.rules.codes import CODES
from flake8_flask_ctx.rules.docs import rule_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "rules.md"
PACKAGED = ROOT / "flake8_flask_ctx" / "rules" / "rules.md"


def test_the_packaged_rules_are_the_docs() -> None:
    """``--explain`` and SARIF read the packaged copy; docs/rules.md is what people
    browse.  One text: edit docs/rules.md and copy it over."""
    assert PACKAGED.read_text(encoding="utf-8") == DOCS.read_text(encoding="utf-8")


def test_every_code_has_an_example_in_what_explain_prints() -> None:
    """(The headings and the other parts: ``test_quality``.)"""
    for code in CODES:
        section = rule_text(code)
        assert section.startswith(f"## {code} — "), code
        assert "**Example.**" in section and "**Use instead.**" in section, code


def test_no_stale_statement_about_reach() -> None:
    """Reach follows other modules of the project: no rule says it stays in one."""
    text = DOCS.read_text(encoding="utf-8").lower()
    for stale in ("same module only", "same-module", "in the same module"):
        assert stale not in text, stale
