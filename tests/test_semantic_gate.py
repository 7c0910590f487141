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
from flake8_flask_ctx.index.semantic_gate import SWITCH, SemanticGate, gate_enabled
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
