"""One configuration, every channel (issue 29): a project configured for flake8 gets the
same findings from flake8 and from the standalone command, whichever file holds the
configuration; the configuration is found from the checked paths; mistakes in it are
one-line errors in both front ends.

The project is an app-factory shop with a home-made ``defer()`` queue (configured as a
dispatcher), a thread pool, a legacy module silenced by ``per-file-ignores`` and a
vendored directory left out by ``extend-exclude``: each setting changes the findings, so
a front end that ignored one would print something else.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest

from test_cli import cli

FILES: Dict[str, str] = {
    "myshop/__init__.py": "",
    "myshop/services.py": """\
        import queue
        import threading

        JOBS = queue.Queue()


        def defer(job, *args):
            JOBS.put((job, args))


        def _work():
            while True:
                job, args = JOBS.get()
                job(*args)


        threading.Thread(target=_work, daemon=True).start()
    """,
    "myshop/orders.py": """\
        from concurrent.futures import ThreadPoolExecutor

        from flask import Blueprint, request, session

        from myshop.services import defer

        bp = Blueprint("orders", __name__)
        pool = ThreadPoolExecutor(2)


        def email_receipt(order_id):
            return (order_id, session["email"])


        def audit(order_id):
            return (order_id, request.remote_addr)


        @bp.post("/orders/<int:order_id>")
        def place(order_id):
            defer(email_receipt, order_id)
            pool.submit(audit, order_id)
            return {"placed": order_id}
    """,
    "myshop/legacy.py": """\
        from concurrent.futures import ThreadPoolExecutor

        from flask import Blueprint, request

        bp = Blueprint("legacy", __name__)
        pool = ThreadPoolExecutor(2)


        def audit():
            return request.path


        @bp.post("/legacy")
        def legacy():
            pool.submit(audit)
            return {}
    """,
    "myshop/vendor/__init__.py": "",
    "myshop/vendor/jobs.py": """\
        import threading

        from flask import request


        def work():
            return request.path


        def start():
            threading.Thread(target=work).start()
    """,
}

#: The settings, as flake8 spells them in an INI file.
INI_SETTINGS = """\
    [flake8]
    max-line-length = 100
    flask-ctx-dispatchers = myshop.services.defer
    per-file-ignores = myshop/legacy.py:FCX100
    extend-exclude = myshop/vendor
"""
PYPROJECT_SETTINGS = """\
    [tool.flake8-flask-ctx]
    flask-ctx-dispatchers = ["myshop.services.defer"]
    per-file-ignores = ["myshop/legacy.py:FCX100"]
    extend-exclude = ["myshop/vendor"]
"""
#: What both front ends must print with those settings (path:line:column code).
EXPECTED = [
    "myshop/orders.py:21:11 FCX100",
    "myshop/orders.py:22:17 FCX100",
]


def make_project(root: Path, config_name: str, settings: str) -> None:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    (root / config_name).write_text(textwrap.dedent(settings), encoding="utf-8")


def flake8(args: List[str], cwd: Path) -> "subprocess.CompletedProcess[str]":
    """flake8 as a user runs it: reading the project's configuration."""
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--select=FCX", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def findings(output: str, prefix: str = "") -> List[str]:
    found = []
    for line in output.splitlines():
        location, _, message = line.partition(": ")
        path, row, column = location.rsplit(":", 2)
        path = path.removeprefix("./").removeprefix(prefix)
        found.append(f"{path}:{row}:{column} {message.split()[0]}")
    return sorted(found)


@pytest.mark.parametrize("config_name", ["setup.cfg", "tox.ini", ".flake8"])
def test_both_front_ends_read_flake8s_configuration(tmp_path: Path, config_name: str) -> None:
    make_project(tmp_path, config_name, INI_SETTINGS)
    theirs = flake8(["."], tmp_path)
    ours = cli(["."], cwd=tmp_path)
    assert findings(theirs.stdout) == EXPECTED, theirs.stdout + theirs.stderr
    assert findings(ours.stdout) == EXPECTED, ours.stdout + ours.stderr
    assert ours.returncode == theirs.returncode == 1


def test_pyproject_table_gives_what_flake8_gives_with_the_same_settings(
    tmp_path: Path,
) -> None:
    make_project(tmp_path, "pyproject.toml", PYPROJECT_SETTINGS)
    theirs = flake8([
        "--flask-ctx-dispatchers=myshop.services.defer",
        "--per-file-ignores=myshop/legacy.py:FCX100", "--extend-exclude=myshop/vendor", ".",
    ], tmp_path)
    ours = cli(["."], cwd=tmp_path)
    assert findings(ours.stdout) == findings(theirs.stdout) == EXPECTED


@pytest.mark.parametrize("config_name, settings", [
    ("setup.cfg", INI_SETTINGS), ("pyproject.toml", PYPROJECT_SETTINGS),
])
def test_configuration_is_found_from_the_checked_paths(
    tmp_path: Path, config_name: str, settings: str
) -> None:
    """``flake8-flask-ctx shop/`` from the parent applies ``shop/setup.cfg`` (or
    ``shop/pyproject.toml``), and its relative patterns stay relative to that file (as
    ruff and flake8 do)."""
    project = tmp_path / "shop"
    project.mkdir()
    make_project(project, config_name, settings)
    from_parent = cli(["shop"], cwd=tmp_path)
    assert findings(from_parent.stdout, "shop/") == EXPECTED, from_parent.stdout
    inside = cli(["orders.py", "legacy.py"], cwd=project / "myshop")
    assert findings(inside.stdout) == ["orders.py:21:11 FCX100", "orders.py:22:17 FCX100"]


def test_two_files_that_disagree_are_named(tmp_path: Path) -> None:
    make_project(tmp_path, "setup.cfg", INI_SETTINGS)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flake8-flask-ctx]\nper-file-ignores = ["myshop/orders.py:FCX1"]\n'
    )
    done = cli(["."], cwd=tmp_path)
    assert done.returncode == 1
    assert findings(done.stdout) == ["myshop/legacy.py:15:17 FCX100"]
    note = [line for line in done.stderr.splitlines() if "note:" in line]
    assert len(note) == 1 and "pyproject.toml" in note[0] and "setup.cfg" in note[0], note


@pytest.mark.parametrize("line, complaint", [
    ("flask-ctx-server-name = maybe", "'maybe' is not a boolean"),
    ("flask-ctx-dispatcher = myshop.services.defer", "flask-ctx-dispatcher: unknown key"),
    ("flask_ctx_max_nodes = lots", "'lots' is not a whole number"),
])
def test_a_bad_setting_is_one_line_in_both_front_ends(
    tmp_path: Path, line: str, complaint: str
) -> None:
    make_project(tmp_path, "setup.cfg", f"[flake8]\n{line}\n")
    for done in (flake8(["."], tmp_path), cli(["."], cwd=tmp_path)):
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert "Traceback" not in done.stderr
        lines = [text for text in done.stderr.splitlines() if text.strip()]
        assert len(lines) == 1 and complaint in lines[0], done.stderr


FIXABLE = """\
    from concurrent.futures import ThreadPoolExecutor

    from flask import Flask, request

    app = Flask(__name__)
    pool = ThreadPoolExecutor(2)


    def audit():
        return request.remote_addr


    @app.post("/orders")
    def place_order():
        pool.submit(audit)
        return {}
"""


@pytest.mark.parametrize("config_name, settings, offered", [
    ("setup.cfg", "[flake8]\nmax-line-length = 40\n", False),
    ("setup.cfg", "[flake8]\nmax-line-length = 100\n", True),
    ("pyproject.toml", "[tool.ruff]\nline-length = 40\n", False),
    ("pyproject.toml", "[tool.flake8-flask-ctx]\nmax-line-length = 70\n", True),
])
def test_a_fix_keeps_lines_within_the_configured_length(
    tmp_path: Path, config_name: str, settings: str, offered: bool
) -> None:
    """``pool.submit(copy_current_request_context(audit))`` is 52 characters: past a
    40-character limit the rewrite is not offered, nor past 60, where the import line
    ``from flask import Flask, request, copy_current_request_context`` (62) would be
    too long (issue 29, point 8)."""
    (tmp_path / "orders.py").write_text(textwrap.dedent(FIXABLE), encoding="utf-8")
    (tmp_path / config_name).write_text(settings, encoding="utf-8")
    done = cli(["--fix", "--diff", "orders.py"], cwd=tmp_path)
    assert done.returncode == (1 if offered else 0), done.stderr
    assert ("copy_current_request_context(audit)" in done.stdout) is offered
    if offered:
        added = [line[1:] for line in done.stdout.splitlines() if line.startswith("+ ")]
        assert added and all(len(line) <= 70 for line in added), added


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(language: str, containing: str) -> str:
    """The README's first ``language`` code block that contains ``containing``."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text("utf-8"), re.DOTALL)
    return next(block for block in blocks if containing in block)


def test_the_readme_configuration_works_in_both_front_ends(tmp_path: Path) -> None:
    make_project(tmp_path, "setup.cfg", readme_block("ini", "[flake8]"))
    for done in (flake8(["."], tmp_path), cli(["."], cwd=tmp_path)):
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "myshop/orders.py:22:17: FCX100" in done.stdout, done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed for pre-commit")
def test_the_readme_pre_commit_configuration_runs(tmp_path: Path) -> None:
    """The ``repo: local`` snippet as written, with the package installed in the
    environment that runs pre-commit (this one); no package index needed."""
    make_project(tmp_path, "setup.cfg", INI_SETTINGS)
    (tmp_path / ".pre-commit-config.yaml").write_text(
        readme_block("yaml", "repo: local"), encoding="utf-8"
    )
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "."], cwd=tmp_path, check=True)
    environment = dict(os.environ)
    environment["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), environment.get("PATH", "")]
    )
    environment["PRE_COMMIT_HOME"] = str(tmp_path / ".cache")
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=environment,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "myshop/orders.py:21:11: FCX100" in done.stdout, done.stdout
    assert "myshop/legacy.py" not in done.stdout  # per-file-ignores of setup.cfg applied


def test_an_editor_a_changed_files_hook_and_a_whole_run_agree(tmp_path: Path) -> None:
    """The same module's findings, whichever way it is checked: a whole run, an editor
    piping the buffer (both front ends), and the hook given only the changed helper
    module (its importer, the view, is checked too)."""
    make_project(tmp_path, "setup.cfg", INI_SETTINGS)
    whole = [f for f in findings(cli(["."], cwd=tmp_path).stdout) if "orders.py" in f]
    buffer = (tmp_path / "myshop" / "orders.py").read_bytes()
    editor = cli(["-", "--stdin-display-name", "myshop/orders.py"], cwd=tmp_path, stdin=buffer)
    flake8_editor = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=FCX", "--stdin-display-name",
         "myshop/orders.py", "-"],
        cwd=tmp_path, input=buffer.decode(), capture_output=True, text=True, timeout=300,
    )
    hook = cli(["--with-importers", "myshop/services.py"], cwd=tmp_path)
    assert whole == EXPECTED
    assert findings(editor.stdout) == EXPECTED, editor.stdout + editor.stderr
    assert findings(flake8_editor.stdout) == EXPECTED, flake8_editor.stdout
    assert findings(hook.stdout) == EXPECTED, hook.stdout + hook.stderr


def test_each_file_gets_its_nearest_configuration(tmp_path: Path) -> None:
    """Two sub-projects checked in one run from their parent: each file is checked with
    the configuration nearest to it, as ruff does (the run's own has none here)."""
    strict, lenient = tmp_path / "strict", tmp_path / "lenient"
    for root in (strict, lenient):
        root.mkdir()
    make_project(strict, "setup.cfg", INI_SETTINGS)
    make_project(lenient, "pyproject.toml", "[tool.flake8-flask-ctx]\nignore = [\"FCX1\"]\n")
    done = cli(["."], cwd=tmp_path)
    assert findings(done.stdout) == [f"strict/{line}" for line in EXPECTED], done.stdout
    assert done.returncode == 1
    assert findings(cli(["strict"], cwd=tmp_path).stdout) == [
        f"strict/{line}" for line in EXPECTED
    ]
    assert cli(["lenient"], cwd=tmp_path).stdout == ""
