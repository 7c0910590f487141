"""Edges of the one configuration model (issue 29), from an independent review: where
the standalone command and flake8 must still read the same files the same way, and
where ``--fix`` must respect what the configuration says."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_flask_ctx.rules.codes import _named
from flake8_flask_ctx.rules.headlines import short_mechanism
from test_cli import cli
from test_config_channels import EXPECTED, FIXABLE, INI_SETTINGS, findings, flake8, make_project


def test_a_symlinked_path_keeps_the_excludes_and_ignores(tmp_path: Path) -> None:
    make_project(tmp_path / "real", "setup.cfg", INI_SETTINGS)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for given in ("link", str(tmp_path / "link")):
        done = cli([given], cwd=tmp_path)
        shown = [line.split("/", 1)[1] if "/" in line else line for line in findings(
            done.stdout.replace(str(tmp_path) + "/", "")
        )]
        assert shown == EXPECTED, done.stdout


def test_a_pyproject_without_our_table_does_not_hide_the_projects(tmp_path: Path) -> None:
    make_project(tmp_path, "pyproject.toml", textwrap.dedent("""\
        [tool.flake8-flask-ctx]
        flask-ctx-dispatchers = ["myshop.services.defer"]
        per-file-ignores = ["myshop/legacy.py:FCX100"]
        extend-exclude = ["myshop/vendor"]
    """))
    (tmp_path / "myshop" / "pyproject.toml").write_text('[project]\nname = "myshop"\n')
    assert findings(cli(["."], cwd=tmp_path).stdout) == EXPECTED


def test_flake8_reads_and_passes_over_the_files_it_does(tmp_path: Path) -> None:
    """The plugin's check of its keys looks at the file flake8 reads, and no other."""
    (tmp_path / "views.py").write_text("print('hello')\n")
    # not UTF-8 and no [flake8]: flake8 passes over it, so must the check
    (tmp_path / "setup.cfg").write_bytes(b"[metadata]\nauthor = Jos\xe9\n")
    assert flake8(["views.py"], tmp_path).returncode == 0
    # [flake8:local-plugins] makes setup.cfg flake8's file: tox.ini is not read
    (tmp_path / "setup.cfg").write_text("[flake8:local-plugins]\npaths = .\n")
    (tmp_path / "tox.ini").write_text("[flake8]\nflask-ctx-dispatcher = a.b\n")
    assert flake8(["views.py"], tmp_path).returncode == 0
    # an abbreviated --config names the file flake8 reads
    (tmp_path / "other.cfg").write_text("[flake8]\nflask-ctx-dispatcher = a.b\n")
    for args in (["--conf", "other.cfg"], ["--config=other.cfg"]):
        done = flake8([*args, "views.py"], tmp_path)
        assert done.returncode == 2 and "flask-ctx-dispatcher" in done.stderr, args
    # --version and --help answer whatever the files say
    (tmp_path / "setup.cfg").write_text("[flake8]\nflask-ctx-dispatcher = a.b\n")
    assert flake8(["--version"], tmp_path).returncode == 0
    assert flake8(["--help"], tmp_path).returncode == 0


def test_the_home_directory_is_read_when_it_is_where_the_run_starts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    make_project(home, "setup.cfg", INI_SETTINGS)
    environment = {**os.environ, "HOME": str(home)}
    ours = subprocess.run(
        [sys.executable, "-m", "flake8_flask_ctx", "."], cwd=home, env=environment,
        capture_output=True, text=True, timeout=300,
    )
    theirs = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=FCX", "."], cwd=home, env=environment,
        capture_output=True, text=True, timeout=300,
    )
    assert findings(ours.stdout) == findings(theirs.stdout) == EXPECTED


def test_a_project_root_in_a_file_is_relative_to_that_file(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / "src").mkdir(parents=True)
    (project / "setup.cfg").write_text("[flake8]\nflask-ctx-project-root = src\n")
    (project / "src" / "app.py").write_text("print('hello')\n")
    assert cli(["shop"], cwd=tmp_path).returncode == 0
    assert cli(["src"], cwd=project).returncode == 0


def test_a_bad_value_in_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text("print('hello')\n")
    (tmp_path / "setup.cfg").write_text("[flake8]\nflask-ctx-dispatchers = not-a-name\n")
    done = cli(["views.py"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"flake8-flask-ctx: {tmp_path / 'setup.cfg'}: [flake8] flask-ctx-dispatchers: "
        "'not-a-name' is not a dotted name"
    ]


def test_count_is_printed_last_on_standard_output_as_flake8_prints_it(tmp_path: Path) -> None:
    make_project(tmp_path, "setup.cfg", INI_SETTINGS)
    ours = cli(["--count", "-qq", "."], cwd=tmp_path)
    theirs = flake8(["--count", "-qq", "."], tmp_path)
    assert ours.stdout == theirs.stdout == "2\n"


def test_headlines_name_the_context_local_and_keep_code_in_parentheses() -> None:
    assert _named("flask.g", "ctx_globals.user") == "ctx_globals.user (flask.g)"
    assert _named("flask.g", "g.user") == "g.user"
    assert short_mechanism("through .run_later()") == "through .run_later()"
    assert short_mechanism(
        "in a ThreadPoolExecutor (its initializer pushes an app context) worker"
    ) == "in a ThreadPoolExecutor worker"


ONE_LINE_TWO_FIXES = FIXABLE.replace(
    "from flask import Flask, request", "from flask import Flask, current_app, request"
).replace("pool.submit(audit)", "pool.submit(audit, current_app)").replace(
    "def audit():", "def audit(app):"
)


def test_fixes_that_fit_alone_but_not_together_are_not_all_made(tmp_path: Path) -> None:
    (tmp_path / "orders.py").write_text(textwrap.dedent(ONE_LINE_TWO_FIXES))
    (tmp_path / "setup.cfg").write_text("[flake8]\nmax-line-length = 79\n")
    done = cli(["--fix", "orders.py"], cwd=tmp_path)
    # the copied request context also resolves current_app: nothing is left to report
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "orders.py").read_text()
    assert max(len(line) for line in text.splitlines()) <= 79, text
    assert "copy_current_request_context(audit)" in text  # the first one fits
    assert "_get_current_object" not in text


def test_a_silenced_finding_is_not_fixed(tmp_path: Path) -> None:
    source = textwrap.dedent(FIXABLE)
    for name, settings, text in [
        ("setup.cfg", "[flake8]\nper-file-ignores = orders.py:FCX100\n", source),
        ("setup.cfg", "[flake8]\nextend-ignore = FCX1\n", source),
        ("setup.cfg", "[flake8]\n", source.replace(
            "pool.submit(audit)", "pool.submit(audit)  # noqa: FCX100"
        )),
    ]:
        (tmp_path / "orders.py").write_text(text)
        (tmp_path / name).write_text(settings)
        done = cli(["--fix", "--diff", "orders.py"], cwd=tmp_path)
        assert done.stdout == "" and done.returncode == 0, (settings, done.stdout)


def test_a_bug_around_the_analysis_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each file's analysis is shielded (FCX999); a bug in the command around it must
    not end in a traceback with exit status 1, which a hook reads as findings."""
    from flake8_flask_ctx.frontends import cli as command

    def broken(*_args: object) -> None:
        raise ValueError("grouping went wrong")

    monkeypatch.setattr(command, "_groups", broken)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "views.py").write_text("print('hello')\n")
    assert command.main(["views.py"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "ValueError: grouping went wrong" in err[0], err


def test_an_editors_buffer_gets_the_configuration_of_the_file_it_names(tmp_path: Path) -> None:
    """``-`` with ``--stdin-display-name shop/myshop/legacy.py`` from the parent: the
    configuration is found from where the file lives, as for the file itself."""
    make_project(tmp_path / "shop", "setup.cfg", INI_SETTINGS)
    legacy = (tmp_path / "shop" / "myshop" / "legacy.py").read_bytes()
    buffer = cli(["-", "--stdin-display-name", "shop/myshop/legacy.py"], cwd=tmp_path,
                 stdin=legacy)
    on_disk = cli(["shop/myshop/legacy.py"], cwd=tmp_path)
    assert buffer.stdout == on_disk.stdout == "" and buffer.returncode == 0
