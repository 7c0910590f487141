"""Cross-module reach on multi-module fixture projects (``tests/fixtures/projects``).

Each project is linted the way a user lints a repository: real flake8, run from the
project's root, over the whole tree; every module's diagnostics must equal its own
markers.  ``test_runtime_truth.py`` runs the same projects under Flask.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from expectations import compare, project_dirs, project_markers
from flake8_runner import flake8
from flake8_flask_ctx.index import project as project_module
from flake8_flask_ctx.engine import units as units_module
from flake8_flask_ctx.checker.check import check_source
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE
from flake8_flask_ctx.options.settings import Settings

PROJECTS = Path(__file__).resolve().parent / "fixtures" / "projects"
DIRS = project_dirs(PROJECTS)

Reports = Dict[str, List[Tuple[int, str, str, int]]]


def by_file(stdout: str) -> Reports:
    """flake8's default format ``./path:line:col: CODE message`` grouped by path."""
    found: Reports = defaultdict(list)
    for line in stdout.splitlines():
        path, row, col, message = line.split(":", 3)
        message = message.strip()
        found[path.removeprefix("./")].append((int(row), message.split()[0], message, int(col)))
    return found


def test_there_are_project_scenarios() -> None:
    assert len(DIRS) >= 8
    assert sum(1 for d in DIRS if any(project_markers(d).values())) >= 6


@pytest.mark.parametrize("project", DIRS, ids=[d.name for d in DIRS])
def test_project_through_flake8(project: Path) -> None:
    result = flake8(["--select=FCX", "--flask-ctx-show-chain", "."], cwd=project)
    reports = by_file(result.stdout)
    markers = project_markers(project)
    assert set(reports) <= set(markers), reports
    problems = []
    for name, expected in markers.items():
        for problem in compare(expected, reports.get(name, [])):
            problems.append(f"{name}: {problem}")
    assert not problems, "\n".join(problems)


def test_single_module_option_turns_cross_module_reach_off() -> None:
    result = flake8(["--select=FCX", "--flask-ctx-single-module", "."],
                    cwd=PROJECTS / "worker_imported")
    assert result.reports == []
    # Without the package's __init__.py, the FlaskTask base is not seen: the task
    # looks context-free (what the single-module analysis has to assume).
    result = flake8(["--select=FCX", "--flask-ctx-single-module", "."],
                    cwd=PROJECTS / "celery_flask_task")
    assert [r.split()[1] for r in result.reports] == ["FCX110"]


def test_stdin_uses_the_display_name_to_find_the_project() -> None:
    project = PROJECTS / "worker_imported"
    source = (project / "shop" / "views.py").read_bytes()
    result = flake8(
        ["--select=FCX", "--stdin-display-name=shop/views.py", "-"], cwd=project, stdin=source
    )
    assert [r.split(":")[:2] + [r.split()[1]] for r in result.reports] == [
        ["shop/views.py", "14", "FCX100"]
    ]
    assert "(shop/tasks.py:10)" in result.stdout


def test_project_root_option_when_run_from_elsewhere(tmp_path: Path) -> None:
    project = PROJECTS / "helper_two_modules"
    views = project / "billing" / "app.py"
    # From an unrelated directory, the walk-up from the file still finds the root...
    found = flake8(["--select=FCX", str(views)], cwd=tmp_path)
    assert [r.split()[1] for r in found.reports] == ["FCX110"]
    # ...and a wrong explicit root means the project's imports cannot be found.
    wrong = flake8(["--select=FCX", f"--flask-ctx-project-root={tmp_path}", str(views)],
                   cwd=tmp_path)
    assert wrong.reports == []
    right = flake8(["--select=FCX", f"--flask-ctx-project-root={project}", str(views)],
                   cwd=tmp_path)
    assert right.reports == found.reports


# -- the engine, in process ---------------------------------------------------------------


def write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def lint(path: Path, **settings: object) -> List[Tuple[int, str, str]]:
    source = path.read_text(encoding="utf-8")
    options = Settings(**settings)  # type: ignore[arg-type]
    findings = check_source(source, DEFAULT_KNOWLEDGE, str(path), options)
    return [(f.line, f.code, f.message) for f in findings]


VIEW = """\
    import threading
    from flask import Flask
    from .work import job

    app = Flask(__name__)


    @app.route("/")
    def index():
        threading.Thread(target=job).start()
        return "ok"
"""


def test_each_module_is_parsed_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/views.py": VIEW,
        "app/other_views.py": VIEW,
        "app/work.py": "from flask import request\n\ndef job():\n    return request.args\n",
    })
    project_module.clear_cache()
    parsed: List[str] = []
    real_load = units_module._load

    def counting_load(project, path, root, module, name=None, wanted=frozenset()):  # type: ignore[no-untyped-def]  # noqa: E501
        key_count = len(units_module._UNITS)
        unit = real_load(project, path, root, module, name, wanted)
        if len(units_module._UNITS) > key_count:
            parsed.append(path.name)
        return unit

    monkeypatch.setattr(units_module, "_load", counting_load)
    assert [c for _, c, _ in lint(tmp_path / "app" / "views.py")] == ["FCX100"]
    assert [c for _, c, _ in lint(tmp_path / "app" / "other_views.py")] == ["FCX100"]
    assert parsed == ["work.py"]
    # An edited module is parsed again (size and mtime are part of the key).
    work = tmp_path / "app" / "work.py"
    work.write_text("def job():\n    return 'no context needed'\n", encoding="utf-8")
    os.utime(work, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert lint(tmp_path / "app" / "views.py") == []
    assert parsed == ["work.py", "work.py"]


def test_cycles_and_missing_modules_terminate(tmp_path: Path) -> None:
    """Mutually recursive modules, a self-import, a star import of a missing module, a
    re-export loop and a 300-module call chain: no hang, no crash, the right result."""
    files = {
        "deep/__init__.py": "from .loop_a import *\nfrom .nowhere import *\n",
        "deep/loop_a.py": "from .loop_b import ping as ping\n",
        "deep/loop_b.py": "from .loop_a import ping as ping\n",
        "deep/selfish.py": "from . import selfish\n\ndef run():\n    return selfish.run()\n",
        "deep/views.py": """\
            import threading
            from flask import Flask
            from . import selfish
            from .loop_a import ping
            from .missing import gone
            from .m0 import step

            app = Flask(__name__)


            @app.route("/")
            def index():
                threading.Thread(target=ping).start()
                threading.Thread(target=gone).start()
                threading.Thread(target=selfish.run).start()
                threading.Thread(target=step).start()
                return "ok"
        """,
    }
    depth = 300
    for i in range(depth):
        files[f"deep/m{i}.py"] = (
            f"from .m{i + 1} import step as nxt\n\ndef step():\n    return nxt()\n"
        )
    files[f"deep/m{depth}.py"] = (
        "from flask import session\n\ndef step():\n    return session['x']\n"
    )
    write(tmp_path, files)
    project_module.clear_cache()
    started = time.monotonic()
    found = lint(tmp_path / "deep" / "views.py")
    assert time.monotonic() - started < 120
    assert [(line, code) for line, code, _ in found] == [(16, "FCX100")]
    assert f"deep/m{depth}.py:4" in found[0][2]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlinks_out_of_the_project_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    evil = "from flask import request\n\ndef job():\n    return request.args\n"
    write(outside, {"evil.py": evil})
    project = tmp_path / "proj"
    write(project, {"app/__init__.py": "", "app/views.py": VIEW})
    (project / "app" / "work.py").symlink_to(outside / "evil.py")
    project_module.clear_cache()
    assert lint(project / "app" / "views.py", project_root=str(project)) == []
    shutil.copy(outside / "evil.py", project / "app" / "work.py.tmp")
    (project / "app" / "work.py").unlink()
    (project / "app" / "work.py.tmp").rename(project / "app" / "work.py")
    found = lint(project / "app" / "views.py", project_root=str(project))
    assert [c for _, c, _ in found] == ["FCX100"]


def test_broken_project_modules_are_unknown_not_fatal(tmp_path: Path) -> None:
    """A syntax error, undecodable bytes, an empty file and a directory named like a
    module: each is "not followed" -- the checked file still gets its own findings."""
    write(tmp_path, {
        "app/__init__.py": "",
        "app/broken.py": "def job(:\n    pass\n",
        "app/empty.py": "",
        "app/views.py": """\
            import threading
            from flask import Flask, request
            from .broken import job
            from .empty import nothing
            from .latin import other
            from .folder import thing

            app = Flask(__name__)


            def mine():
                return request.args


            @app.route("/")
            def index():
                threading.Thread(target=job).start()
                threading.Thread(target=nothing).start()
                threading.Thread(target=other).start()
                threading.Thread(target=thing).start()
                threading.Thread(target=mine).start()
                return "ok"
        """,
    })
    (tmp_path / "app" / "latin.py").write_bytes(b"def other():\n    return '\xff\xfe'\n")
    (tmp_path / "app" / "folder.py").mkdir()
    project_module.clear_cache()
    assert [(line, code) for line, code, _ in lint(tmp_path / "app" / "views.py")] == [
        (21, "FCX100")
    ]


def test_prefilter_skips_projects_that_never_name_flask(tmp_path: Path) -> None:
    """Cross-module reach must not make every file with a project import and a
    dispatch word parseable: a project that never names Flask cannot reach a
    context-local.  One that does, three imports away, is still analysed."""
    from flake8_flask_ctx.index.prefilter import might_have_findings
    from flake8_flask_ctx.index.project import project_of

    write(tmp_path, {
        "lib/__init__.py": "",
        "lib/util.py": (
            "import threading\n\ndef run(fn):\n    threading.Thread(target=fn).start()\n"
        ),
        "lib/jobs.py": "from .util import run\n\ndef go():\n    run(print)\n",
        "web/__init__.py": "",
        "web/a.py": "from .b import f\n",
        "web/b.py": "from .c import f\n",
        "web/c.py": "from flask import request\n\ndef f():\n    return request.args\n",
        "web/jobs.py": "import threading\nfrom .a import f\n\nthreading.Thread(target=f).start()\n",
    })
    knowledge = DEFAULT_KNOWLEDGE

    def passes(name: str) -> bool:
        path = tmp_path / name
        project = project_of(str(path), knowledge)
        module, _ = project.module_name(path)
        return might_have_findings(path.read_text(), knowledge, project, module)

    assert not passes("lib/jobs.py")
    assert passes("web/jobs.py")
    found = lint(tmp_path / "web" / "jobs.py")
    assert [(line, code) for line, code, _ in found] == [(4, "FCX100")]
    assert "via f() at web/a.py" not in found[0][2]  # a re-export, not a call


def test_installed_code_is_its_own_project(tmp_path: Path) -> None:
    """Linting a package inside site-packages must not treat every other installed
    distribution as part of the project (third-party code is never followed)."""
    from flake8_flask_ctx.index.project import project_of

    site = tmp_path / "lib" / "site-packages"
    write(site, {
        "mypkg/__init__.py": "",
        "mypkg/views.py": VIEW.replace(".work", "otherdist"),
        "otherdist.py": "from flask import request\n\ndef job():\n    return request.args\n",
    })
    path = site / "mypkg" / "views.py"
    project = project_of(str(path), DEFAULT_KNOWLEDGE)
    assert project.top_level_names() == frozenset({"mypkg"})
    assert lint(path) == []
    # The same layout outside site-packages is one project: otherdist is followed.
    write(tmp_path / "repo", {
        "mypkg/__init__.py": "",
        "mypkg/views.py": VIEW.replace(".work", "otherdist"),
        "otherdist.py": "from flask import request\n\ndef job():\n    return request.args\n",
    })
    assert [c for _, c, _ in lint(tmp_path / "repo" / "mypkg" / "views.py")] == ["FCX100"]
