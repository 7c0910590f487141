"""Every fixture gives exactly the diagnostics its ``# error:`` comments name."""

from __future__ import annotations

from pathlib import Path

import pytest

from expectations import compare, expected_in, fixture_files, isolated_fixture, options_in
from flake8_flask_ctx.knowledge import Knowledge
from flake8_flask_ctx.frontends.plugin import Plugin
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
) -> list[tuple[int, str, str]]:
    lines = source.splitlines(keepends=True)
    results = []
    plugin = Plugin(None, lines, filename)  # type: ignore[arg-type]
    plugin.knowledge = Knowledge.build(settings_from(options or []))
    for line, _column, message, _type in plugin.run():
        results.append((line, message.split()[0], message))
    return results


def test_there_are_enough_fixtures() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture(path: Path, tmp_path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    alone = isolated_fixture(path, tmp_path)
    problems = compare(expected_in(source), run_plugin(source, str(alone), options_in(source)))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
