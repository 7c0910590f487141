"""Every fixture gives exactly the diagnostics its ``# error:`` comments name."""

from __future__ import annotations

from pathlib import Path

import pytest

from expectations import compare, expected_in, fixture_files
from flake8_flask_ctx.plugin import Plugin

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = fixture_files(FIXTURES)


def run_plugin(source: str, filename: str = "fixture.py") -> list[tuple[int, str, str]]:
    lines = source.splitlines(keepends=True)
    results = []
    plugin = Plugin(None, lines, filename)  # type: ignore[arg-type]
    for line, _column, message, _type in plugin.run():
        results.append((line, message.split()[0], message))
    return results


def test_there_are_enough_fixtures() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    problems = compare(expected_in(source), run_plugin(source, str(path)))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
