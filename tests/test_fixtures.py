"""Every fixture gives exactly the diagnostics its ``# error:`` comments name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from expectations import compare, expected_in, fixture_files, isolated_fixture, options_in
from flake8_flask_ctx.knowledge import Knowledge
from flake8_flask_ctx.frontends.plugin import Plugin
from flake8_flask_ctx.rules.headlines import headline_of
from flake8_flask_ctx.options.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = fixture_files(FIXTURES)


def settings_from(options: list[str]) -> Settings:
    """The fixture's ``# options:`` as Settings (real flake8 parses them in the e2e test)."""
    values: dict[str, list[str]] = {}
    server_name = False
    for option in options:
        name, _, value = option.partition("=")
        if name == "--flask-ctx-server-name":
            server_name = True
            continue
        key = name.removeprefix("--flask-ctx-").replace("-", "_")
        values.setdefault(key, []).extend(v for v in value.split(",") if v)
    return Settings.from_values(server_name=server_name, **values)


def run_plugin(
    source: str, filename: str = "fixture.py", options: list[str] | None = None
) -> list[tuple[int, str, str, int]]:
    """(line, code, message, column) with the column 1-based, as flake8 prints it."""
    lines = source.splitlines(keepends=True)
    results = []
    plugin = Plugin(None, lines, filename)  # type: ignore[arg-type]
    plugin.show_chain = True  # the markers' fragments name hops of the chain
    plugin.knowledge = Knowledge.build(settings_from(options or []))
    for line, column, message, _type in plugin.run():
        results.append((line, message.split()[0], message, column + 1))
    return results


def node_starts(source: str) -> set[tuple[int, int]]:
    """(line, 1-based column) where an expression, a statement, a keyword argument or a
    decorator's ``@`` starts: the places a finding may point at.  ``ast`` counts columns
    in UTF-8 bytes, flake8 in characters: converted."""
    lines = source.splitlines()
    starts: set[tuple[int, int]] = set()

    def add(line: int, byte_offset: int) -> None:
        text = lines[line - 1]
        starts.add((line, len(text.encode("utf-8")[:byte_offset].decode("utf-8")) + 1))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.expr, ast.stmt, ast.keyword)):
            add(node.lineno, node.col_offset)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                text = lines[decorator.lineno - 1].encode("utf-8")
                at = text.rfind(b"@", 0, decorator.col_offset)
                if at >= 0:
                    add(decorator.lineno, at)
    return starts


def test_there_are_enough_fixtures() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture(path: Path, tmp_path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    alone = isolated_fixture(path, tmp_path)
    findings = run_plugin(source, str(alone), options_in(source))
    problems = compare(expected_in(source), findings)
    # A column off by one fails here: every finding starts exactly where an expression,
    # statement, keyword or decorator does (``@N`` markers pin some columns exactly).
    starts = node_starts(source)
    problems += [
        f"column   line {line:4d} {code}: @{column} is not the start of an expression"
        for line, code, _message, column in findings
        if (line, column) not in starts
    ]
    problems += [
        f"headline line {line:4d} {code}: {problem}"
        for line, code, message, _column in findings
        for problem in headline_problems(code, message)
    ]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


#: Where a headline says the read is: ``(line 12)`` or ``(billing/models.py:12)``.
READ_LOCATION = re.compile(r" \((?:line \d+|[\w./-]+\.py:\d+)\): ")
#: How long a headline may be without its location (issue 29: "about 120 characters").
MAX_HEADLINE = 130


def headline_problems(code: str, message: str) -> list[str]:
    """What flake8 prints by default (``headline_of``) must be read at a glance: no
    advice, the read's location for the reach codes, about 120 characters."""
    headline = headline_of(message)
    problems = []
    if not headline.startswith(code + " ") or "; " in headline:
        problems.append(f"not a headline: {headline!r}")
    location = READ_LOCATION.search(headline)
    if code in ("FCX100", "FCX110", "FCX300") and location is None:
        problems.append(f"no read location: {headline!r}")
    shown = len(headline) - (len(location.group(0)) if location else 0)
    if code != "FCX999" and shown > MAX_HEADLINE:
        problems.append(f"{shown} characters: {headline!r}")
    return problems
