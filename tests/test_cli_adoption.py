"""What a new user meets around the analysis (issue 17), end to end through a real
subprocess: configuration errors, files that cannot be checked, flake8's selection
and ``noqa`` semantics, excludes on named files, ``--with-importers``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from test_cli import cli, codes_of, view

TASKS = """\
    import logging

    log = logging.getLogger(__name__)


    def index_product(product_id):
        log.info("indexing %s", product_id)
"""

VIEWS = """\
    from concurrent.futures import ThreadPoolExecutor

    from flask import Flask

    from shop.tasks import index_product

    app = Flask(__name__)
    pool = ThreadPoolExecutor(2)


    @app.post("/products/<int:product_id>/index")
    def reindex(product_id):
        pool.submit(index_product, product_id)
        return {"queued": product_id}, 202
"""


def flake8(args: List[str], cwd: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def test_every_config_value_is_checked_before_the_analysis(tmp_path: Path) -> None:
    view(tmp_path)
    for table, complaint in [
        ('format = "JSON"', "'JSON' is not a format (choose from github, json, sarif, text)"),
        ("format = 3", "expected a string"),
        ("flask-ctx-server-name = \"yes\"", "expected true or false"),
        ("per-file-ignores = 3", "expected a string or a list of strings"),
        ("nonsense = 1", "unknown key"),
        ('flask-ctx-project-root = "missing-dir"', "'missing-dir' is not a directory"),
        ('flask-ctx-dispatchers = ["not a name"]', "not a dotted name"),
    ]:
        (tmp_path / "pyproject.toml").write_text(f"[tool.flake8-flask-ctx]\n{table}\n")
        done = cli(["views.py"], cwd=tmp_path)
        assert done.returncode == 2, table
        assert complaint in done.stderr, (table, done.stderr)
        assert done.stdout == "", "nothing is analysed with a wrong configuration"


def test_pyproject_is_read_with_a_real_toml_parser(tmp_path: Path) -> None:
    """Multi-line arrays with comments, triple-quoted strings, other tables: what the
    small reader used on Python < 3.11 rejected (now tomli there, tomllib here)."""
    view(tmp_path)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''\
        [project]
        name = "demo"
        description = """A demo
        with "quotes" and [brackets]"""

        [tool.flake8-flask-ctx]
        ignore = [
            "FCX2",  # crossing findings are reviewed elsewhere
            # "FCX100",
        ]
        per-file-ignores = """
            legacy/*.py:FCX100
        """
        format = 'text'
    '''))
    done = cli(["views.py"], cwd=tmp_path)
    assert (done.returncode, codes_of(done.stdout)) == (1, ["FCX100"]), done.stderr


def test_missing_project_root_is_an_error_in_both_front_ends(tmp_path: Path) -> None:
    view(tmp_path)
    standalone = cli(["--flask-ctx-project-root=nowhere", "views.py"], cwd=tmp_path)
    assert standalone.returncode == 2 and "'nowhere' is not a directory" in standalone.stderr
    plugin = flake8(["--select=FCX", "--flask-ctx-project-root=nowhere", "views.py"], tmp_path)
    assert plugin.returncode == 2 and "'nowhere' is not a directory" in plugin.stderr
    assert "Traceback" not in plugin.stderr


@pytest.mark.parametrize("content, says", [
    (b"def broken(:\n    pass\n", "broken.py:1: not checked: Python"),
    (b"\x00\x01\x02 binary", "broken.py: not checked"),
    (b"# -*- coding: klingon -*-\nname = 1\n", "broken.py: not checked: cannot read it"),
    (b"\xff\xfe\x00 not utf-8 \xc3\x28", "broken.py: not checked"),
])
def test_a_file_that_cannot_be_checked_makes_the_result_incomplete(
    tmp_path: Path, content: bytes, says: str
) -> None:
    view(tmp_path)
    (tmp_path / "broken.py").write_bytes(content)
    done = cli(["."], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert codes_of(done.stdout) == ["FCX100"], "the other files are still reported"
    if content.startswith(b"def broken"):
        assert cli(["--exit-zero", "."], cwd=tmp_path).returncode == 2


NEWER_SYNTAX = [
    ((3, 12), "type Alias = list[int]\n"),  # PEP 695
    ((3, 14), "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"),  # PEP 758
]
"""(first Python that parses it, a module): syntax newer than some interpreter."""


def test_syntax_newer_than_the_interpreter_is_named(tmp_path: Path) -> None:
    newer = [text for since, text in NEWER_SYNTAX if sys.version_info[:2] < since]
    if not newer:
        pytest.skip("no syntax newer than this Python is listed in NEWER_SYNTAX")
    (tmp_path / "future.py").write_text(newer[0])
    done = cli(["future.py"], cwd=tmp_path)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert done.returncode == 2
    assert f"future.py:1: not checked: Python {version} cannot parse it" in done.stderr or (
        f"future.py:3: not checked: Python {version} cannot parse it" in done.stderr
    ), done.stderr


def test_selection_matches_flake8(tmp_path: Path) -> None:
    """Every combination is run through both front ends: the same codes, always."""
    view(tmp_path)
    view(tmp_path, name="legacy_views.py")
    for args in [
        ["--select=FCX", "--ignore=FCX1"], ["--select=FCX100", "--ignore=FCX"],
        ["--extend-ignore=FCX100"], ["--ignore=FCX", "--extend-select=FCX100"],
        ["--per-file-ignores=legacy_*.py:FCX100 views.py:FCX2"],
    ]:
        ours = cli([*args, "views.py", "legacy_views.py"], cwd=tmp_path)
        theirs = flake8([*(args or ["--select=FCX"]), "views.py", "legacy_views.py"], tmp_path)
        assert ours.stdout == theirs.stdout, args
        assert ours.returncode == theirs.returncode, args


def test_a_misspelt_selection_is_an_error(tmp_path: Path) -> None:
    """flake8 takes ``--select=fcx100`` or ``FXC`` and silently reports nothing; the
    standalone command says so and exits 2 (issue 29, point 1), on the command line
    and in a configuration file.  Ignoring everything on purpose stays allowed."""
    view(tmp_path)
    for args in (["--select=fcx100"], ["--select=FXC"], ["--extend-select=FCX-100"]):
        ours = cli([*args, "views.py"], cwd=tmp_path)
        assert ours.returncode == 2 and ours.stdout == "", args
        assert len(ours.stderr.splitlines()) == 2 and "select" in ours.stderr, ours.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.flake8-flask-ctx]\nselect = ["FXC"]\n')
    configured = cli(["views.py"], cwd=tmp_path)
    assert configured.returncode == 2 and "FXC" in configured.stderr
    (tmp_path / "pyproject.toml").unlink()
    assert cli(["--ignore=FCX", "views.py"], cwd=tmp_path).returncode == 0
    # flake8 decides its own selection; the plugin says what it sees, in one line.
    for args in (["--select=fcx100"], ["--select=E9,FXC"]):
        theirs = flake8([*args, "views.py"], tmp_path)
        warning = theirs.stderr.strip().splitlines()
        assert len(warning) == 1 and "misspelt FCX code" in warning[0], theirs.stderr
    assert flake8(["--select=FCX", "views.py"], tmp_path).stderr == ""


NOQA_COMMENTS = [
    "  # noqa: FCX100", "  # NOQA: fcx100", "  # noqa:FCX1", "  #noqa", "  # noqa: FCX",
    "  # noqa : FCX100", "  # noqa: E501", "  # NoQa:E501,FCX100", "  # noqa: FCX110",
    "  # noqa:FCX100 trailing words", "",
]


def test_noqa_matches_flake8(tmp_path: Path) -> None:
    """One module, one dispatch per comment: both front ends report the same lines."""
    lines = ["import threading", "from flask import Flask, request", "",
             "app = Flask(__name__)", "", "", "def work():", "    return request.args", "",
             "", '@app.route("/")', "def index():"]
    for comment in NOQA_COMMENTS:
        lines.append(f"    threading.Thread(target=work).start(){comment}")
    lines.append('    return "ok"')
    (tmp_path / "views.py").write_text("\n".join(lines) + "\n")
    ours = cli(["views.py"], cwd=tmp_path)
    theirs = flake8(["--select=FCX", "views.py"], tmp_path)
    assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode)
    reported = {int(line.split(":")[1]) for line in ours.stdout.splitlines()}
    first = 13
    silenced = {
        comment for number, comment in enumerate(NOQA_COMMENTS)
        if first + number not in reported
    }
    # flake8's reading: codes are case-sensitive (``fcx100`` silences nothing), a code
    # list it cannot read (``FCX``, `` : FCX100``) leaves a bare ``# noqa``, and
    # ``#noqa`` without the space is no comment of flake8's.
    assert silenced == {
        "  # noqa: FCX100", "  # noqa:FCX1", "  # noqa: FCX", "  # noqa : FCX100",
        "  # NoQa:E501,FCX100", "  # noqa:FCX100 trailing words",
    }, ours.stdout


def test_file_level_noqa_and_stdin_display_name(tmp_path: Path) -> None:
    path = view(tmp_path)
    source = path.read_bytes()
    for option in ("--stdin-display-name", "--stdin-filename"):
        done = subprocess.run(
            [sys.executable, "-m", "flake8_flask_ctx", "-", f"{option}=app/views.py"],
            cwd=tmp_path, input=source.decode(), capture_output=True, text=True, timeout=300,
        )
        assert done.stdout.startswith("app/views.py:13:"), option
    path.write_text("# flake8: noqa\n" + path.read_text())
    assert cli(["views.py"], cwd=tmp_path).returncode == 0
    assert flake8(["--select=FCX", "views.py"], tmp_path).returncode == 0


def test_excludes_apply_to_named_files_as_in_flake8(tmp_path: Path) -> None:
    (tmp_path / "generated").mkdir()
    view(tmp_path / "generated")
    view(tmp_path)
    named = ["generated/views.py", "views.py"]
    for args in (["--exclude=generated"], ["--extend-exclude=views.py"], []):
        ours = cli([*args, *named], cwd=tmp_path)
        theirs = flake8(["--select=FCX", *args, *named], tmp_path)
        assert ours.stdout == theirs.stdout, args


def shop(tmp_path: Path) -> Path:
    """A package whose view dispatches a task of another module; returns tasks.py."""
    return _shop(tmp_path)


def add_request_read(tasks: Path) -> None:
    """The change a developer commits: the task now reads the request."""
    tasks.write_text(tasks.read_text().replace(
        "import logging\n", "import logging\n\nfrom flask import request\n").replace(
        'log.info("indexing %s", product_id)',
        'log.info("indexing %s for %s", product_id, request.remote_addr)'))


def _shop(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "tasks.py").write_text(textwrap.dedent(TASKS))
    (tmp_path / "shop" / "views.py").write_text(textwrap.dedent(VIEWS))
    return tmp_path / "shop" / "tasks.py"


def test_with_importers_reports_the_view_of_a_changed_task(tmp_path: Path) -> None:
    """The read is new in tasks.py; the finding is at the unchanged view."""
    tasks = _shop(tmp_path)
    assert cli(["shop/tasks.py"], cwd=tmp_path).returncode == 0
    add_request_read(tasks)
    alone = cli(["shop/tasks.py"], cwd=tmp_path)
    assert alone.returncode == 0, "the changed file alone has no finding of its own"
    both = cli(["--with-importers", "shop/tasks.py"], cwd=tmp_path)
    assert both.returncode == 1
    assert both.stdout.startswith("shop/views.py:13:") and "FCX100" in both.stdout
    assert "(shop/tasks.py:9)" in both.stdout
    hook = subprocess.run(
        [sys.executable, "-c", "import sys; from flake8_flask_ctx.frontends.hook import main;"
         " sys.exit(main(sys.argv[1:]))", "--select=FCX", "shop/tasks.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert hook.returncode == 1 and hook.stdout.startswith("shop/views.py:13:"), hook.stderr


NAMED_JOBS = """\
    import queue

    JOBS = queue.Queue()


    def defer(fn, *args):
        JOBS.put((fn, args))


    def defer_report(fn):
        defer(fn)
"""

NAMED_VIEWS = """\
    from flask import Flask, request

    from .jobs import defer, defer_report
    from .tenancy import current_tenant

    app = Flask(__name__)


    def work():
        return request.args


    def tenant_work():
        return current_tenant.id


    class Outbox:
        def later(self, fn):
            fn()


    @app.route("/")
    def index():
        defer(work)
        defer_report(work)
        Outbox().later(tenant_work)
        return "ok"
"""

TENANCY = """\
    from flask import g
    from werkzeug.local import LocalProxy

    current_tenant = LocalProxy(lambda: g.tenant)
"""


def test_name_options_match_relative_imports_and_own_module_names(tmp_path: Path) -> None:
    """``from .jobs import defer`` is ``app.jobs.defer``; ``defer`` called in its own
    module is too; ``*.later`` matches a method of a class of the checked module."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    for name, text in (("jobs", NAMED_JOBS), ("views", NAMED_VIEWS), ("tenancy", TENANCY)):
        (tmp_path / "app" / f"{name}.py").write_text(textwrap.dedent(text))
    plain = cli(["--select=FCX1", "app/views.py"], cwd=tmp_path)
    assert plain.returncode == 0, plain.stdout
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.flake8-flask-ctx]
        flask-ctx-dispatchers = ["app.jobs.defer:0", "*.later:0"]
        flask-ctx-app-locals = ["app.tenancy.current_tenant"]
        select = ["FCX1"]
    """))
    done = cli(["--show-chain", "app/views.py"], cwd=tmp_path)
    got = [(line.split(":")[1], line.split()[1], line.split()[2]) for line in
           done.stdout.splitlines()]
    assert got == [
        ("24", "FCX100", "flask.request"),
        ("25", "FCX100", "flask.request"),
        ("26", "FCX110", "app.tenancy.current_tenant"),
    ], done.stdout
