"""The experimental semantic gate (``index/semantic_gate.py``, off by default).

It may only ever skip modules the engine reports nothing in: with the gate on, every
fixture and fixture project gives exactly the findings it gives with the gate off.
The shape tests show it can also fail: each names a module it must let through, and
one it must rule out.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import List

import pytest

from expectations import fixture_files, project_dirs
from flake8_runner import flake8
from flake8_flask_ctx.index.semantic_gate import SemanticGate
from flake8_flask_ctx.options.settings import SEMANTIC_GATE_SWITCH as SWITCH
from flake8_flask_ctx.options.settings import semantic_gate_enabled as gate_enabled
from flake8_flask_ctx.index.project_taint import Explorer, taint_for
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECTS = FIXTURES / "projects"


def _reports(monkeypatch: pytest.MonkeyPatch, value: str, args: List[str], cwd: Path) -> List[str]:
    monkeypatch.setenv(SWITCH, value)
    return flake8(["--select=FCX", *args], cwd=cwd).reports


def test_the_gate_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SWITCH, raising=False)
    assert not gate_enabled()
    monkeypatch.setenv(SWITCH, "on")
    assert gate_enabled()


def test_the_gate_changes_no_finding_on_any_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [path.name for path in fixture_files(FIXTURES)]
    off = _reports(monkeypatch, "off", ["-j2", *names], FIXTURES)
    on = _reports(monkeypatch, "on", ["-j2", *names], FIXTURES)
    assert len(off) > 150
    assert on == off


@pytest.mark.parametrize("project", project_dirs(PROJECTS), ids=lambda p: p.name)
def test_the_gate_changes_no_finding_on_any_project(
    monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    off = _reports(monkeypatch, "off", ["-j1", "."], project)
    assert _reports(monkeypatch, "on", ["-j1", "."], project) == off


def _may_report(source: str) -> bool:
    text = textwrap.dedent(source)
    tree = ast.parse(text)
    found = taint_for(tree, text, DEFAULT_KNOWLEDGE, None, None, (None, False), False, False)
    assert found is not None
    explorer, context = found
    gate = SemanticGate(tree, DEFAULT_KNOWLEDGE, explorer, context, frozenset(), frozenset())
    return gate.may_report()


HEADER = """
import threading
from functools import partial
from flask import Flask, request
import flask
app = Flask(__name__)
"""

LET_THROUGH = {
    "helper reads request": "def helper():\n    return request.args\n"
    "def work():\n    helper()\n"
    "@app.post('/')\ndef view():\n    threading.Thread(target=work).start()\n",
    "module attribute": "def work():\n    return flask.request.args\n"
    "def view():\n    threading.Thread(target=work).start()\n",
    "partial in a local": "def work(x):\n    return request.args\n"
    "def view():\n    job = partial(work, 1)\n    threading.Thread(target=job).start()\n",
    "proxy as argument": "def view():\n"
    "    threading.Thread(target=print, args=(request,)).start()\n",
    "lifetime object": "def view():\n    f = request.files['f']\n"
    "    threading.Thread(target=print, args=(f,)).start()\n",
    "forwarded parameter": "def run_async(fn):\n    threading.Thread(target=fn).start()\n"
    "def work():\n    return request.args\n"
    "def view():\n    run_async(work)\n",
    "thread subclass": "class W(threading.Thread):\n    def run(self):\n        request.args\n",
    "handler table": "def work():\n    return request.args\n"
    "HANDLERS = {'a': work}\n"
    "def view(k):\n    threading.Thread(target=HANDLERS.get(k)).start()\n",
    "method via self": "class Job:\n    def go(self):\n        return request.args\n"
    "    def start(self):\n        threading.Thread(target=self.go).start()\n",
}

RULED_OUT = {
    "worker touches nothing": "def work(data):\n    return len(data)\n"
    "def view():\n    threading.Thread(target=work, args=(request.get_json(),)).start()\n",
    "a parameter shadows the name": "def helper(request):\n    return request.args\n"
    "def work():\n    helper(None)\n"
    "def view():\n    threading.Thread(target=work).start()\n",
    "data read from a proxy": "def work(args):\n    return args\n"
    "def view():\n    threading.Thread(target=work, args=(request.form,)).start()\n",
}


@pytest.mark.parametrize("name", sorted(LET_THROUGH))
def test_a_site_that_may_reach_a_context_local_is_let_through(name: str) -> None:
    assert _may_report(HEADER + LET_THROUGH[name])


@pytest.mark.parametrize("name", sorted(RULED_OUT))
def test_a_site_that_cannot_reach_one_is_ruled_out(name: str) -> None:
    assert not _may_report(HEADER + RULED_OUT[name])


def test_another_modules_function_does_not_taint_a_modules_own_global(tmp_path: Path) -> None:
    """A pytest fixture ``def app()`` that reads ``request`` elsewhere does not make
    ``app = Flask(__name__)`` of this module a way to a context-local."""
    (tmp_path / "conftest.py").write_text("from flask import request\ndef app():\n"
                                          "    return request.args\n")
    (tmp_path / "main.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    explorer = Explorer({p: p.stem for p in tmp_path.glob("*.py")}, DEFAULT_KNOWLEDGE, True)
    assert explorer.query([(("o", str(tmp_path / "conftest.py"), "app"), "")])
    assert not explorer.query([(("o", str(tmp_path / "main.py"), "app"), "")])
    assert str(tmp_path / "main.py") in explorer.loaded  # asked about, so read


def _project(tmp_path: Path, files: dict) -> "dict[Path, str]":
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return {tmp_path / name: name[:-3] for name in files}


def test_a_module_nothing_asks_about_is_never_read(tmp_path: Path) -> None:
    modules = _project(tmp_path, {
        "work.py": "def crunch(rows):\n    return len(rows)\n",
        "views.py": "from flask import request\ndef form():\n    return request.form\n",
        "models.py": "class Row:\n    def get(self):\n        return 1\n",
    })
    explorer = Explorer(modules, DEFAULT_KNOWLEDGE, True)
    assert not explorer.query([(("o", str(tmp_path / "work.py"), "crunch"), "")])
    assert explorer.loaded == {str(tmp_path / "work.py")}
    assert explorer.query([(("o", str(tmp_path / "views.py"), "form"), "")])


def test_self_method_is_matched_in_the_class_and_its_ancestors_only(tmp_path: Path) -> None:
    """``self.get()`` of a dict-like model is not an API resource's ``get``; a base
    class's ``get`` is the subclass's."""
    modules = _project(tmp_path, {
        "api.py": "from flask import request\nclass Resource:\n"
                  "    def get(self):\n        return request.args\n",
        "model.py": "class Watch(dict):\n    def label(self):\n        return self.get('x')\n",
        "child.py": "from api import Resource\nclass Tags(Resource):\n"
                    "    def list(self):\n        return self.get()\n",
    })
    explorer = Explorer(modules, DEFAULT_KNOWLEDGE, True)
    assert not explorer.query([(("m", "get"), "Watch")])
    assert explorer.query([(("m", "get"), "Tags")])


def test_past_its_budget_the_gate_lets_everything_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flake8_flask_ctx.index import project_taint

    modules = _project(tmp_path, {
        "a.py": "from b import step\ndef work():\n    return step()\n",
        "b.py": "from c import last\ndef step():\n    return last()\n",
        "c.py": "def last():\n    return 1\n",
    })
    explorer = Explorer(modules, DEFAULT_KNOWLEDGE, True)
    assert not explorer.query([(("o", str(tmp_path / "a.py"), "work"), "")])
    monkeypatch.setattr(project_taint, "MAX_LOADED_MODULES", 1)
    explorer = Explorer(modules, DEFAULT_KNOWLEDGE, True)
    assert explorer.query([(("o", str(tmp_path / "a.py"), "work"), "")])  # cannot tell
    assert explorer.failed


@pytest.mark.parametrize("path", fixture_files(FIXTURES)[::7], ids=lambda p: p.name)
def test_a_modules_bindings_from_its_statements_match_its_summary(path: Path) -> None:
    from flake8_flask_ctx.index.summaries import module_bindings, summarise

    tree = ast.parse(path.read_text(encoding="utf-8"))
    watched = frozenset(DEFAULT_KNOWLEDGE.watched_packages)
    light, full = module_bindings(tree, watched), summarise(tree, watched)
    assert light.imports == full.imports
    assert light.watched_imports == full.watched_imports
    assert full.own <= light.own
