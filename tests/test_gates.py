"""The two cheap gates before the LibCST parse must be sound: they may let through a
module without findings, never reject one with findings."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from expectations import expected_in, fixture_files, options_in
from flake8_flask_ctx.candidates import has_candidates, project_import_names
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE, Knowledge
from flake8_flask_ctx.prefilter import might_have_findings
from flake8_flask_ctx.project import project_of
from test_fixtures import settings_from

FIXTURES = Path(__file__).resolve().parent / "fixtures"
POSITIVES = [p for p in fixture_files(FIXTURES) if expected_in(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", POSITIVES, ids=[p.stem for p in POSITIVES])
def test_every_positive_fixture_passes_both_gates(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    knowledge = Knowledge.build(settings_from(options_in(source)))
    project = project_of(str(path), knowledge)
    module, _ = project.module_name(path)
    assert might_have_findings(source, knowledge, project, module)
    tree = ast.parse(source)
    names = project_import_names(tree, project.top_level_names())
    assert has_candidates(tree, knowledge, names)


NO_SITE = """\
    from flask import Flask, Response, jsonify, request

    app = Flask(__name__)
    TASKS = {"map": "a task list"}


    def totals(rows):
        return list(map(sum, rows))  # builtin map: synchronous


    @app.route("/tasks")
    def tasks():
        return jsonify(task=TASKS["map"], totals=totals([[1, 2]]), q=request.args.get("q"))
"""

SITES = {
    "aliased thread": "from threading import Thread as Job\nJob(target=print).start()\n",
    "aliased task decorator": "from celery import shared_task as st\n@st\ndef t():\n    pass\n",
    "thread subclass": "import threading\nclass W(threading.Thread):\n    pass\n",
    "pool method": "def f(pool, fn):\n    pool.submit(fn)\n",
    "streamed view": (
        "@app.route('/')\ndef v():\n    def gen():\n        yield 1\n    return gen()\n"
    ),
    "import-time copy": (
        "from flask import copy_current_request_context\n"
        "@copy_current_request_context\ndef w():\n    pass\n"
    ),
}


def test_a_flask_module_with_dispatch_words_but_no_site_is_rejected() -> None:
    source = textwrap.dedent(NO_SITE)
    assert might_have_findings(source, DEFAULT_KNOWLEDGE)  # the words are there...
    assert not has_candidates(ast.parse(source), DEFAULT_KNOWLEDGE)  # ...the sites are not


@pytest.mark.parametrize("name", sorted(SITES))
def test_each_kind_of_site_is_a_candidate(name: str) -> None:
    assert has_candidates(ast.parse(SITES[name]), DEFAULT_KNOWLEDGE)


def test_a_call_of_a_project_function_with_a_callable_is_a_candidate() -> None:
    tree = ast.parse(
        "from .utils import run_async\n\ndef work():\n    pass\n\n"
        "def v(user):\n    run_async(work)\n    job = work\n    run_async(job)\n"
    )
    assert not has_candidates(tree, DEFAULT_KNOWLEDGE)
    assert has_candidates(tree, DEFAULT_KNOWLEDGE, frozenset({"run_async"}))
    # A project function called with a plain value (``db.session.add(user)``) is not.
    plain = ast.parse("from .ext import db\n\ndef v(user):\n    db.session.add(user)\n")
    assert not has_candidates(plain, DEFAULT_KNOWLEDGE, frozenset({"db"}))
