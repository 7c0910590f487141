"""The plugin through the real flake8, the way users and editors run it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from expectations import MARKER, expected_in, fixture_files, isolated_fixture, options_in
from flake8_runner import flake8

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SEED = TESTS.parent.parent / "shared" / "seed_check"


def expected_reports(paths: list[Path], shown_as: dict[Path, str]) -> list[tuple[str, int, str]]:
    found = []
    for path in paths:
        for e in expected_in(path.read_text(encoding="utf-8")):
            found.append((shown_as[path], e.line, e.code))
    return sorted(found)


def parsed(reports: list[str]) -> list[tuple[str, int, str]]:
    out = []
    for line in reports:
        match = re.match(r"^(.*?):(\d+):\d+: (FCX\d{3}) ", line)
        assert match, line
        out.append((match.group(1), int(match.group(2)), match.group(3)))
    return sorted(out)


def test_version_lists_the_plugin() -> None:
    assert "flake8-flask-ctx" in flake8(["--version"]).stdout


def _default_option_fixtures() -> list[Path]:
    return [p for p in fixture_files(FIXTURES) if not options_in(p.read_text(encoding="utf-8"))]


def _option_fixtures() -> list[Path]:
    return [p for p in fixture_files(FIXTURES) if options_in(p.read_text(encoding="utf-8"))]


def test_whole_fixture_tree_in_parallel_matches_markers(tmp_path: Path) -> None:
    """``-j 2`` over every fixture gives exactly the markers (that ``-j 1`` gives the
    same output, byte for byte, is ``test_determinism``'s).  Each fixture sits in a
    folder of its own: it models an application of its own
    (``expectations.isolated_fixture``)."""
    paths = _default_option_fixtures()
    shown = {
        p: isolated_fixture(p, tmp_path).relative_to(tmp_path).as_posix() for p in paths
    }
    names = [shown[p] for p in paths]
    parallel = flake8(["--select=FCX", "-j", "2", *names], cwd=tmp_path)
    assert parsed(parallel.reports) == expected_reports(paths, shown)


@pytest.mark.parametrize("path", _option_fixtures(), ids=lambda p: p.stem)
def test_fixture_options_on_the_command_line(path: Path, tmp_path: Path) -> None:
    """Fixtures with ``# options:`` through real flake8's option parsing, with -j 2."""
    relative = isolated_fixture(path, tmp_path).relative_to(tmp_path).as_posix()
    options = options_in(path.read_text(encoding="utf-8"))
    result = flake8(["--select=FCX", "-j", "2", *options, relative, relative], cwd=tmp_path)
    want = expected_reports([path], {path: relative})
    assert sorted(set(parsed(result.reports))) == want


@pytest.mark.parametrize("path", _option_fixtures()[:1], ids=lambda p: p.stem)
def test_fixture_options_in_setup_cfg(tmp_path: Path, path: Path) -> None:
    """The same options written in a setup.cfg, in the ini syntax the README shows."""
    lines = ["[flake8]", "extend-select = FCX"]
    for option in options_in(path.read_text(encoding="utf-8")):
        name, _, value = option.partition("=")
        lines.append(f"{name.lstrip('-')} = {value or 'true'}")
    (tmp_path / "setup.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(path, tmp_path / path.name)
    result = flake8(["--select=FCX", path.name], cwd=tmp_path, isolated=False)
    assert parsed(result.reports) == expected_reports([path], {path: path.name})


def test_a_wrong_option_value_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    command = [sys.executable, "-m", "flake8", "--flask-ctx-dispatchers=my-app.defer", "a.py"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "flake8-flask-ctx: --flask-ctx-dispatchers" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["first_positive", "first_negative"])
def test_stdin_gives_identical_output(name: str) -> None:
    """Editors pipe the buffer through stdin; the output must not change."""
    paths = fixture_files(FIXTURES)
    positives = [p for p in paths if expected_in(p.read_text(encoding="utf-8"))]
    negatives = [p for p in paths if p not in positives]
    path = (positives if name == "first_positive" else negatives)[0]
    relative = f"fixtures/{path.name}"
    by_path = flake8(["--select=FCX", relative], cwd=TESTS)
    by_stdin = flake8(
        ["--select=FCX", f"--stdin-display-name={relative}", "-"],
        cwd=TESTS,
        stdin=path.read_bytes(),
    )
    assert by_stdin.stdout == by_path.stdout
    assert bool(by_path.reports) == (name == "first_positive")


def test_noqa_silences_every_marked_line(tmp_path: Path) -> None:
    """Each ``# error: X`` turned into ``# noqa: X`` must silence exactly that line
    (fixtures grouped by the options they need; those without markers have nothing to
    silence, and their silence is the whole-tree test's)."""
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path in fixture_files(FIXTURES):
        if not expected_in(path.read_text(encoding="utf-8")):
            continue
        options = tuple(options_in(path.read_text(encoding="utf-8")))
        groups.setdefault(options, []).append(path)
    for number, (options, paths) in enumerate(sorted(groups.items())):
        directory = tmp_path / f"group{number}"
        directory.mkdir()
        for path in paths:
            out = []
            for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
                codes = [m.group(1) for m in MARKER.finditer(line)]
                if codes and "# error:" in line:
                    head = line[: line.index("# error:")].rstrip()
                    line = f"{head}  # noqa: {','.join(codes)}\n"
                out.append(line)
            (directory / path.name).write_text("".join(out), encoding="utf-8")
        result = flake8(["--select=FCX", *options, "."], cwd=directory)
        assert result.reports == [], (options, result.reports)


def test_setup_cfg_per_file_ignores(tmp_path: Path) -> None:
    """The config syntax the README documents works in a user's setup.cfg."""
    positive = next(
        p for p in fixture_files(FIXTURES)
        if any(e.code == "FCX100" for e in expected_in(p.read_text(encoding="utf-8")))
    )
    shutil.copy(positive, tmp_path / "ignored.py")
    shutil.copy(positive, tmp_path / "checked.py")
    (tmp_path / "setup.cfg").write_text(
        "[flake8]\n"
        "extend-select = FCX\n"
        "per-file-ignores =\n"
        "    ignored.py: FCX100\n",
        encoding="utf-8",
    )
    result = flake8(["--select=FCX", "ignored.py", "checked.py"], cwd=tmp_path, isolated=False)
    files = {line.split(":")[0] for line in result.reports}
    assert "checked.py" in files
    assert not any(
        line.startswith("ignored.py") and " FCX100 " in line for line in result.reports
    )


@pytest.mark.skipif(not SEED.is_dir(), reason="../shared/seed_check is not beside this checkout")
def test_seed_examples() -> None:
    bug = flake8(["--select=FCX", str(SEED / "bug_thread_pool.py")])
    fixed = flake8(["--select=FCX", str(SEED / "fixed_thread_pool.py")])
    assert [line.split(":")[1:2] + [line.split()[1]] for line in bug.reports] == [["13", "FCX100"]]
    assert fixed.reports == []
