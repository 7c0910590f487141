"""Quality gates that run with the suite: types, self-lint, and one code registry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from expectations import expected_in, fixture_files
from flake8_flask_ctx.rules.codes import CODES
from flake8_runner import flake8

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict_on_the_package() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "flake8_flask_ctx"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_repository_lints_itself_with_the_plugin() -> None:
    result = flake8([], cwd=ROOT, isolated=False)
    assert result.reports == [], "\n".join(result.reports)


def test_readme_rule_table_matches_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (FCX\d{3}) \| ([a-z-]+) \|", readme, re.MULTILINE))
    assert table == {code: c.slug for code, c in CODES.items()}
    rules = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (FCX\d{3}) — ([a-z-]+)$", rules, re.MULTILINE)
    assert sections == [(code, c.slug) for code, c in CODES.items()]
    for body in re.split(r"^## FCX\d{3} — [a-z-]+$", rules, flags=re.MULTILINE)[1:]:
        for part in ("**What it flags.**", "**Why it fails.**", "**Use instead.**"):
            assert part in body, (part, body[:80])


def test_every_code_but_fcx999_has_a_fixture_and_no_fixture_uses_unknown_codes() -> None:
    used = {
        e.code
        for path in fixture_files(ROOT / "tests" / "fixtures")
        for e in expected_in(path.read_text(encoding="utf-8"))
    }
    assert used <= set(CODES) - {"FCX999"}
    assert used == set(CODES) - {"FCX999"}
