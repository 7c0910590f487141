"""The standalone command, run as users run it: a subprocess, real files, real config."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import jsonschema
import pytest

from expectations import expected_in
from flake8_flask_ctx.rules.codes import CODES

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
PROJECTS = FIXTURES / "projects"
SARIF_SCHEMA = TESTS / "data" / "sarif-2.1.0-rtm.5.json"


def cli(
    args: Sequence[str], cwd: Optional[Path] = None, stdin: Optional[bytes] = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "flake8_flask_ctx", *args],
        cwd=cwd, input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def codes_of(stdout: str) -> List[str]:
    return [line.split()[1] for line in stdout.splitlines() if line.strip()]


VIEW = """\
    import threading
    from flask import Flask, request

    app = Flask(__name__)


    def work():
        return request.args


    @app.route("/")
    def index():
        threading.Thread(target=work).start(){noqa}
        return "ok"
"""


def view(tmp_path: Path, noqa: str = "", name: str = "views.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(VIEW.format(noqa=noqa)), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "project",
    sorted(p for p in PROJECTS.iterdir() if (p / "wsgi.py").exists()),
    ids=lambda p: p.name,
)
def test_command_agrees_with_flake8_on_the_projects(project: Path) -> None:
    """One project per test, so parallel workers share them."""
    ours = cli(["."], cwd=project)
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select=FCX",
                             "."], cwd=project, capture_output=True, text=True, timeout=300)
    assert ours.stdout == flake8.stdout, project.name
    expected = sum(len(expected_in(p.read_text())) for p in project.rglob("*.py"))
    assert len(codes_of(ours.stdout)) == expected
    assert ours.returncode == (1 if expected else 0)


def test_the_console_script_is_the_module(tmp_path: Path) -> None:
    """``flake8-flask-ctx`` (the installed console script) is ``python -m
    flake8_flask_ctx``: the same output and exit status."""
    script = Path(sys.executable).with_name("flake8-flask-ctx")
    assert script.exists(), "the console script is installed with the package"
    view(tmp_path)
    via_script = subprocess.run([str(script), "."], cwd=tmp_path, capture_output=True,
                                text=True, timeout=300)
    ours = cli(["."], cwd=tmp_path)
    assert (via_script.returncode, via_script.stdout) == (ours.returncode, ours.stdout)
    assert codes_of(ours.stdout) == ["FCX100"]


def test_exit_status_and_noqa(tmp_path: Path) -> None:
    view(tmp_path)
    found = cli(["views.py"], cwd=tmp_path)
    assert (found.returncode, codes_of(found.stdout)) == (1, ["FCX100"])
    assert found.stdout.startswith("views.py:13:")
    for comment, silenced in [
        ("  # noqa: FCX100", True), ("  # noqa:FCX1", True), ("  # noqa", True),
        ("  # NOQA: E501,FCX100", True), ("  # noqa: E501", False), ("  # noqa: FCX110", False),
    ]:
        view(tmp_path, comment)
        done = cli(["views.py"], cwd=tmp_path)
        assert done.returncode == (0 if silenced else 1), comment
    view(tmp_path)
    assert cli(["--exit-zero", "views.py"], cwd=tmp_path).returncode == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = cli(["nowhere.py"], cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere.py" in missing.stderr
    bad = cli(["--flask-ctx-dispatchers=not-a-name", "."], cwd=tmp_path)
    assert bad.returncode == 2 and "not a dotted name" in bad.stderr
    # Lists split at commas and whitespace, as flake8 splits them (issue 29, point 6).
    spaced = cli(["--flask-ctx-dispatchers=shop.defer  shop.later", "."], cwd=tmp_path)
    assert spaced.returncode == 0, spaced.stderr
    # One line and a hint, not the whole usage text (issue 29, point 8).
    unknown = cli(["--bogus", "."], cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == [
        "flake8-flask-ctx: unrecognized arguments: --bogus", "see flake8-flask-ctx --help",
    ]
    assert cli(["--format=xml", "."], cwd=tmp_path).returncode == 2
    (tmp_path / "pyproject.toml").write_text('[tool.flake8-flask-ctx]\nselect = 3\n')
    config = cli(["."], cwd=tmp_path)
    assert config.returncode == 2 and "expected a list of strings" in config.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.flake8-flask-ctx]\nunknown-key = true\n')
    assert cli(["."], cwd=tmp_path).returncode == 2


def test_select_ignore_from_the_command_line(tmp_path: Path) -> None:
    view(tmp_path)
    assert codes_of(cli(["--select=FCX1", "."], cwd=tmp_path).stdout) == ["FCX100"]
    assert cli(["--select=FCX2", "."], cwd=tmp_path).returncode == 0
    assert cli(["--ignore=FCX100", "."], cwd=tmp_path).returncode == 0


def test_pyproject_table(tmp_path: Path) -> None:
    """The option fixture needs a configured dispatcher; pyproject.toml gives it, as a
    TOML list with the flake8 option's name; the command line overrides the file."""
    fixture = FIXTURES / "opt_dispatcher_method_run_later.py"
    shutil.copy(fixture, tmp_path / "jobs_view.py")
    shutil.copytree(FIXTURES / "support", tmp_path / "support")
    plain = cli(["--flask-ctx-single-module", "jobs_view.py"], cwd=tmp_path)
    assert plain.returncode == 0
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "demo"

        [tool.flake8-flask-ctx]
        flask-ctx-dispatchers = ["*.run_later:1"]  # the method's callable is argument 1
        flask-ctx-single-module = true
        ignore = []
        format = "text"
    """))
    configured = cli(["jobs_view.py"], cwd=tmp_path)
    want = sorted((e.line, e.code) for e in expected_in(fixture.read_text()))
    got = sorted((int(line.split(":")[1]), line.split()[1])
                 for line in configured.stdout.splitlines())
    assert got == want and configured.returncode == 1
    assert cli(["--ignore=FCX", "jobs_view.py"], cwd=tmp_path).returncode == 0
    assert cli(["--isolated", "--flask-ctx-single-module", "jobs_view.py"],
               cwd=tmp_path).returncode == 0


def test_stdin(tmp_path: Path) -> None:
    source = view(tmp_path).read_bytes()
    done = cli(["-", "--stdin-filename=app/views.py"], cwd=tmp_path, stdin=source)
    assert done.stdout.startswith("app/views.py:13:") and done.returncode == 1
    anonymous = cli(["-"], cwd=tmp_path, stdin=source)
    assert anonymous.stdout.startswith("stdin:13:")


def test_json_github_and_sarif_formats(tmp_path: Path) -> None:
    view(tmp_path)
    rows = json.loads(cli(["--format=json", "."], cwd=tmp_path).stdout)
    assert [(r["path"], r["line"], r["code"], r["rule"]) for r in rows] == [
        ("views.py", 13, "FCX100", "request-local-outside-request")
    ]
    annotations = cli(["--format=github", "."], cwd=tmp_path).stdout.splitlines()
    assert len(annotations) == 1
    assert annotations[0].startswith("::error file=./views.py,line=13,col=")
    assert annotations[0].endswith(
        ",title=FCX100::request.args outside the request (line 8): work() runs in a new "
        "threading.Thread"
    ), annotations[0]

    log = json.loads(cli(["--format=sarif", "."], cwd=tmp_path).stdout)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(CODES)
    assert all(r["help"]["text"] and r["shortDescription"]["text"]
               for r in run["tool"]["driver"]["rules"])
    (result,) = run["results"]
    assert result["ruleId"] == "FCX100"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "views.py"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 13
    # An empty run is a valid log too.
    clean = json.loads(cli(["--format=sarif", "--select=FCX9", "."], cwd=tmp_path).stdout)
    jsonschema.validate(clean, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from flake8_flask_ctx.frontends import cli as module

    module._progress(False, 3, 10)
    assert capsys.readouterr().err == ""
    module._progress(True, 3, 10)
    module._progress(True, 10, 10)
    err = capsys.readouterr().err
    assert "3/10 files" in err and "10/10 files" in err and err.endswith("\r")


def _package_index_unreachable() -> str:
    """Why pip cannot install from the package index here ("" when it can).

    ``pre-commit try-repo`` builds each hook's virtualenv with pip, which downloads the
    hooks' dependencies: without the index that is a failure of the machine, not of the
    hooks."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
                 "--disable-pip-version-check", "-q", "-d", scratch, "pyflakes"],
                capture_output=True, text=True, timeout=120,
            )
        except subprocess.TimeoutExpired:
            return "pip download timed out"
    return "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]


@pytest.mark.network
def test_pre_commit_hooks_run_against_a_repository(tmp_path: Path) -> None:
    """Both hooks of .pre-commit-hooks.yaml, installed by pre-commit from this
    checkout (``try-repo``: the working tree as it is), on a git repository with
    one buggy view.  Needs the package index (pre-commit installs the hooks)."""
    if shutil.which("git") is None:
        pytest.skip("git is needed for pre-commit")
    unreachable = _package_index_unreachable()
    if unreachable:
        pytest.skip(f"the package index is unreachable, pre-commit cannot install the hooks: "
                    f"{unreachable}")
    repo = tmp_path / "repo"
    repo.mkdir()
    view(repo)
    (repo / "clean.py").write_text("print('hello')\n")
    env_cmd = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*env_cmd, "add", "."], cwd=repo, check=True)
    subprocess.run([*env_cmd, "commit", "-qm", "init"], cwd=repo, check=True)
    checkout = TESTS.parent
    cache = tmp_path / "cache"
    hooks = _run_hooks(checkout, repo, cache, ["--all-files"])
    assert set(hooks) == {"flake8-flask-ctx", "flake8-flask-ctx-flake8"}, hooks
    for hook, output in hooks.items():
        assert "views.py:13:" in output and "FCX100" in output, (hook, output)
        assert "clean.py:" not in output

    # Changed files only (what pre-commit passes on a commit): a new request read in
    # shop/tasks.py is reported at the unchanged view that dispatches into it.
    from test_cli_adoption import add_request_read, shop

    shop_repo = tmp_path / "shop-repo"
    shop_repo.mkdir()
    tasks = shop(shop_repo)
    subprocess.run(["git", "init", "-q"], cwd=shop_repo, check=True)
    subprocess.run([*env_cmd, "add", "."], cwd=shop_repo, check=True)
    subprocess.run([*env_cmd, "commit", "-qm", "init"], cwd=shop_repo, check=True)
    add_request_read(tasks)
    subprocess.run([*env_cmd, "add", "shop/tasks.py"], cwd=shop_repo, check=True)
    hooks = _run_hooks(checkout, shop_repo, cache, [])
    assert set(hooks) == {"flake8-flask-ctx", "flake8-flask-ctx-flake8"}, hooks
    for hook, output in hooks.items():
        assert "shop/views.py:13:" in output and "FCX100" in output, (hook, output)


def _run_hooks(checkout: Path, repo: Path, cache: Path, extra: List[str]) -> Dict[str, str]:
    """Every hook of the checkout on ``repo`` in one ``try-repo`` run (each run installs
    the hooks' environment afresh: the working tree is a new revision every time), which
    must fail; the verbose output of each hook by its id."""
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(checkout), *extra, "--verbose"],
        cwd=repo, capture_output=True, text=True, timeout=600,
        env={**_env(), "PRE_COMMIT_HOME": str(cache)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    sections: Dict[str, str] = {}
    for block in done.stdout.split("- hook id: ")[1:]:
        hook, _, rest = block.partition("\n")
        sections[hook.strip()] = rest
    return sections


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
