"""Other modules cut to what reach needs (``outline.py``), and the ``ast`` export
tables (``exports.py``) that answer "does this name leave the project?" without LibCST.

The cut must never change a finding: what is kept is closed over names, the lines of a
cut module map back to the file's, and a lookup of a name that was cut grows the unit.
The export tables must answer exactly what the LibCST units answer.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flake8_flask_ctx.index import project as project_module
from flake8_flask_ctx.engine import units as units_module
from flake8_flask_ctx.checker.check import check_source
from flake8_flask_ctx.index.exports import MODULE, PROJECT, external_name, may_run_code
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE
from flake8_flask_ctx.index.outline import Outline
from flake8_flask_ctx.index.project import project_of


def write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def lint(path: Path) -> List[Tuple[int, str, str]]:
    findings = check_source(path.read_text(encoding="utf-8"), DEFAULT_KNOWLEDGE, str(path))
    return [(f.line, f.code, f.message) for f in findings]


MODULE_TEXT = """\
import os

LIMIT = 3


def unrelated():
    return os.getcwd()


@decorate
def helper():
    return LIMIT


def wanted():
    return helper()


class Model:
    def save(self):
        return unrelated()


def later():  # named only in a comment of nothing kept
    return 1
"""


def test_kept_is_closed_over_names() -> None:
    outline = Outline(MODULE_TEXT)
    names = [s.name for s in outline.statements]
    assert names == ["unrelated", "helper", "wanted", "Model", "later"]
    kept = outline.kept(["wanted"])
    assert sorted(outline.kept_names(kept)) == ["helper", "wanted"]
    kept = outline.kept(["Model"])
    assert sorted(outline.kept_names(kept)) == ["Model", "unrelated"]
    assert outline.kept_names(outline.kept([])) == frozenset()


def test_cut_text_maps_every_line_back() -> None:
    outline = Outline(MODULE_TEXT)
    cut = outline.source(outline.kept(["wanted"]))
    assert cut is not None
    text, numbers = cut
    original = MODULE_TEXT.splitlines()
    for line, number in zip(text.splitlines(), numbers):
        assert original[number - 1] == line
    assert "def unrelated" not in text and "@decorate" in text and "def wanted" in text
    # Nothing cut: the file's own text is used.
    assert outline.source(frozenset(range(len(outline.statements)))) is None


def test_form_feeds_and_carriage_returns_count_as_python_counts_lines() -> None:
    text = "x = 1\x0c\ndef a():\r\n    return 1\rdef b():\n    return x\n"
    outline = Outline(text)
    assert [(s.name, s.first, s.last) for s in outline.statements] == [
        ("a", 2, 3), ("b", 4, 5),
    ]
    cut = outline.source(outline.kept(["b"]))
    assert cut is not None and cut[1] == [1, 4, 5]


VIEWS = """\
    import threading
    from flask import Flask
    from .work import job, other_job

    app = Flask(__name__)


    @app.route("/")
    def index():
        threading.Thread(target=job).start()
        return "ok"


    @app.route("/other")
    def other():
        threading.Thread(target=other_job).start()
        return "ok"
"""

WORK = """\
    from flask import request


    def filler_one():
        return 1


    def filler_two():
        return 2


    def job():
        return load()


    def load():
        return request.args


    def other_job():
        return request.json
"""


def test_findings_name_the_lines_of_the_file_not_of_the_cut_text(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/views.py": VIEWS, "app/work.py": WORK})
    project_module.clear_cache()
    found = lint(tmp_path / "app" / "views.py")
    assert [(line, code) for line, code, _ in found] == [(10, "FCX100"), (16, "FCX100")]
    # ``load`` is line 17 of work.py and ``request.json`` line 21: the cut text has
    # neither ``filler_*`` function, so its own line numbers would be 9 and 13.
    assert "app/work.py:17" in found[0][2] and "via load()" in found[0][2]
    assert "app/work.py:21" in found[1][2]
    # One version of work.py: views.py imports both ``job`` and ``other_job``, so the
    # cut made for ``job`` keeps ``other_job`` too and never had to grow.
    cached = [u for u in units_module._UNITS.values() if u is not None and u.name == "app.work"]
    assert len(cached) == 1
    assert cached[0].cut is not None and cached[0].cut.growths == 0
    assert "other_job" in cached[0].top_level()
    assert "filler_one" not in cached[0].top_level()  # the fillers are still cut


def test_a_name_no_import_asked_for_grows_the_cut(tmp_path: Path) -> None:
    """``work.other_job`` through ``from . import work``: nothing said in advance that
    ``other_job`` is wanted, so the cut made for ``job`` grows for it."""
    views = VIEWS.replace("from .work import job, other_job", "from . import work").replace(
        "target=job", "target=work.job").replace("target=other_job", "target=work.other_job")
    write(tmp_path, {"app/__init__.py": "", "app/views.py": views, "app/work.py": WORK})
    project_module.clear_cache()
    found = lint(tmp_path / "app" / "views.py")
    assert [(line, code) for line, code, _ in found] == [(10, "FCX100"), (16, "FCX100")]
    cached = [u for u in units_module._UNITS.values() if u is not None and u.name == "app.work"]
    assert len(cached) == 1
    assert cached[0].cut is not None and cached[0].cut.growths == 1
    assert "filler_one" not in cached[0].top_level()


def test_the_same_findings_as_the_whole_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/views.py": VIEWS, "app/work.py": WORK})
    project_module.clear_cache()
    cut = lint(tmp_path / "app" / "views.py")
    project_module.clear_cache()
    monkeypatch.setattr(units_module, "_outline_of", lambda path: None)
    assert lint(tmp_path / "app" / "views.py") == cut


PROJECT_FILES = {
    "shop/__init__.py": "from .compat import request as req\nfrom .jobs import *\n",
    "shop/compat.py": (
        "from flask import request\ntry:\n    from flask import g\nexcept ImportError:\n"
        "    g = None\n"
    ),
    "shop/jobs.py": """\
        from functools import partial as bind
        from .models import User

        def send():
            pass

        later = bind(send, 1)
        limit = 10
        alias = send
        runner = lambda: send()
        """,
    "shop/models.py": """\
        class Base:
            def __init__(self):
                pass

        class User(Base):
            pass

        class Plain:
            def save(self):
                pass
        """,
}


@pytest.mark.parametrize(
    "qualified, external",
    [
        ("shop.req", "flask.request"),
        ("shop.compat.request", "flask.request"),
        ("shop.compat.g", PROJECT),  # the ``except`` binding is the last one
        ("shop.send", PROJECT),  # through the star import
        ("shop.jobs", MODULE),
        ("shop.jobs.User", PROJECT),
        ("shop.models.Plain.save", PROJECT),
        ("shop.models.Plain.missing", None),
        ("shop.nothing", None),
    ],
)
def test_external_name_answers_as_the_units(
    tmp_path: Path, qualified: str, external: object
) -> None:
    write(tmp_path, PROJECT_FILES)
    project_module.clear_cache()
    project = project_of(str(tmp_path / "shop" / "__init__.py"), DEFAULT_KNOWLEDGE)
    assert project is not None
    assert external_name(project, qualified) == external
    symbol = project.symbol(qualified)
    if symbol is None:
        assert external is None
    else:
        assert symbol.external or (PROJECT if symbol.node is not None else MODULE) == external


@pytest.mark.parametrize(
    "qualified, classes, runs",
    [
        ("shop.jobs.send", True, True),
        ("shop.jobs.later", True, True),  # ``partial as bind``
        ("shop.jobs.alias", True, True),
        ("shop.jobs.runner", True, True),
        ("shop.jobs.limit", True, False),
        ("shop.models.User", True, True),  # ``Base.__init__``
        ("shop.models.User", False, False),
        ("shop.models.Plain", True, False),
        ("shop.req", True, False),  # a library object
        ("shop.jobs", True, False),  # a module
    ],
)
def test_may_run_code(tmp_path: Path, qualified: str, classes: bool, runs: bool) -> None:
    write(tmp_path, PROJECT_FILES)
    project_module.clear_cache()
    project = project_of(str(tmp_path / "shop" / "__init__.py"), DEFAULT_KNOWLEDGE)
    assert project is not None
    assert may_run_code(project, qualified, frozenset({"partial"}), classes) is runs
