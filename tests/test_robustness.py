"""The plugin must never crash flake8, whatever the file holds."""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path
from typing import List

import libcst as cst
import pytest

from flake8_flask_ctx import __version__
from flake8_flask_ctx.checker import check as check_module
from flake8_flask_ctx.checker.analysis import ModuleAnalysis
from flake8_flask_ctx.checker.check import check_source
from flake8_flask_ctx.rules.codes import failure_message
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE
from flake8_flask_ctx.engine.names import ModuleIndex
from flake8_flask_ctx.frontends.plugin import Plugin
from flake8_runner import flake8

WORKER = (
    "import threading\n"
    "from flask import request\n"
    "\n"
    "\n"
    "def worker():\n"
    "    return request.args\n"
    "\n"
    "\n"
    "threading.Thread(target=worker).start()\n"
)
WORKER_REPORT_LINE = 9


def plugin_reports(source: str) -> List[str]:
    lines = source.splitlines(keepends=True)
    plugin = Plugin(None, lines, "t.py")  # type: ignore[arg-type]
    plugin.show_chain = True  # the chain is what these tests look at
    return [r[2] for r in plugin.run()]


def codes(reports: List[str]) -> List[str]:
    return [r.split()[0] for r in reports]


def test_syntax_error_gives_nothing_and_flake8_reports_e999(tmp_path: Path) -> None:
    broken = WORKER.replace("def worker():", "def worker(:")
    assert plugin_reports(broken) == []
    (tmp_path / "broken.py").write_text(broken, encoding="utf-8")
    result = flake8(["--select=FCX,E999", "broken.py"], cwd=tmp_path)
    assert [line.split()[1] for line in result.reports] == ["E999"]


def test_empty_file(tmp_path: Path) -> None:
    assert plugin_reports("") == []
    (tmp_path / "empty.py").write_bytes(b"")
    assert flake8(["--select=FCX", "empty.py"], cwd=tmp_path).reports == []


def test_latin1_coding_cookie(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n" + '"""Caf\u00e9 r\u00e9sum\u00e9."""\n' + WORKER
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    result = flake8(["--select=FCX", "latin.py"], cwd=tmp_path)
    assert [line.split(":")[1] for line in result.reports] == [str(WORKER_REPORT_LINE + 2)]
    by_stdin = flake8(
        ["--select=FCX", "--stdin-display-name=latin.py", "-"],
        cwd=tmp_path,
        stdin=source.encode("latin-1"),
    )
    assert by_stdin.stdout == result.stdout


def test_utf8_bom_and_crlf() -> None:
    source = "\ufeff" + WORKER.replace("\n", "\r\n")
    assert codes(plugin_reports(source)) == ["FCX100"]


@pytest.mark.parametrize("depth", [200])
def test_deeply_nested_expression(depth: int) -> None:
    nested = "f(" * depth + "request.args" + ")" * depth
    source = WORKER.replace("return request.args", f"return {nested}")
    assert codes(plugin_reports(source)) == ["FCX100"]


def test_deeply_nested_blocks() -> None:
    """90 nested functions (CPython allows 100 indentation levels); the innermost reads."""
    lines = ["import threading", "from flask import request", ""]
    for level in range(90):
        lines.append("    " * level + f"def f{level}():")
    lines.append("    " * 90 + "return request.args")
    for level in range(89, 0, -1):
        lines.append("    " * level + f"return f{level}()")
    lines.append("threading.Thread(target=f0).start()")
    source = "\n".join(lines) + "\n"
    reports = plugin_reports(source)
    assert codes(reports) == ["FCX100"]
    assert "via f1() at line" in reports[0]


@pytest.mark.parametrize("length", [200, 1000])
def test_a_chain_of_helpers_is_followed(length: int) -> None:
    """The reach is a breadth-first search over memoised facts, not recursion."""
    lines = ["import threading", "from flask import request", ""]
    for i in range(length):
        lines += [f"def h{i}():", f"    return h{i + 1}()", ""]
    lines += [f"def h{length}():", "    return request.args", ""]
    lines.append("threading.Thread(target=h0).start()")
    reports = plugin_reports("\n".join(lines) + "\n")
    assert codes(reports) == ["FCX100"]
    assert f"h{length - 1}() at line" in reports[0]


def test_internal_failure_becomes_fcx999(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any bug in the analysis is reported as FCX999 at line 1, never raised."""

    def explode(self: ModuleAnalysis) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(ModuleAnalysis, "findings", explode)
    reports = list(Plugin(None, WORKER.splitlines(True), "t.py").run())  # type: ignore[arg-type]
    assert [(r[0], r[1], r[2].split()[0]) for r in reports] == [(1, 0, "FCX999")]
    # Enough to reproduce without the user's code: type, text, the innermost frame of
    # this package (here the caller of the patched method), and the version.
    check_py = Path(check_module.__file__).read_text(encoding="utf-8").splitlines()
    call_line = next(
        number for number, text in enumerate(check_py, 1) if ".findings()" in text
    )
    where = f"flake8_flask_ctx/checker/check.py:{call_line}"
    assert f"(KeyError: 'boom' at {where} in check_source)" in reports[0][2]
    assert f"flake8-flask-ctx {__version__} failed" in reports[0][2]
    assert "Reporting a crash" in reports[0][2]


def test_fcx999_names_the_innermost_frame_of_the_package() -> None:
    """A failure deep in the engine names that frame, not the front end's."""
    try:
        ModuleIndex(cst.parse_module("x = 1\n"), None)  # type: ignore[arg-type]
    except AttributeError as error:
        message = failure_message(error)
    else:  # pragma: no cover - the engine accepted a missing Knowledge
        pytest.fail("ModuleIndex accepted knowledge=None")
    assert re.search(
        r"\(AttributeError: .* at flake8_flask_ctx/engine/names\.py:\d+ in \w+\)", message
    ), message


def test_fcx999_survives_a_huge_recursion_traceback() -> None:
    """A RecursionError's traceback is walked, not formatted: the message stays short."""

    def dive(depth: int) -> int:
        return dive(depth + 1)

    try:
        dive(0)
    except RecursionError as error:
        message = failure_message(error)
    assert message.startswith("FCX999 ") and "RecursionError" in message
    assert len(message) < 400


def test_check_source_on_real_code_never_fails() -> None:
    """The engine (prefilter bypassed) runs over real modules without an exception."""
    import flask

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    flask_dir = Path(flask.__file__).parent
    roots = [stdlib / "threading.py", stdlib / "concurrent" / "futures" / "thread.py"]
    roots += [flask_dir / name for name in ("ctx.py", "helpers.py", "globals.py", "cli.py")]
    checked = 0
    for path in roots:
        source = path.read_text(encoding="utf-8")
        index = ModuleIndex(cst.parse_module(source), DEFAULT_KNOWLEDGE)
        ModuleAnalysis(index, DEFAULT_KNOWLEDGE).findings()
        check_source(source)
        checked += 1
    assert checked == len(roots)
    assert sys.getrecursionlimit() < 20_000  # the raised limit was restored


SELF_REFERENCES = {
    # Found by fuzzing: the receiver search restarted its depth count through
    # ``pool.submit`` and recursed until RecursionError (FCX999).
    "rebound through its own method": "pool = ThreadPoolExecutor()\npool = pool.submit()\n",
    "attribute of itself": "pool = ThreadPoolExecutor()\npool = pool.executor\n",
    "two names bound to each other": "a = b\nb = a\npool = a\npool = ThreadPoolExecutor()\n",
    "factory of itself": "pool = ThreadPoolExecutor()\npool = pool.Pool(2)\n",
    "call of itself": "pool = ThreadPoolExecutor()\npool = pool()\n",
    "class deriving from itself": "class Pool(Pool):\n    pass\npool = ThreadPoolExecutor()\n",
}


@pytest.mark.parametrize("shape", sorted(SELF_REFERENCES))
def test_self_referential_bindings_terminate(shape: str) -> None:
    source = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from flask import request\n"
        "\n" + SELF_REFERENCES[shape] + "\n\n"
        "def worker():\n"
        "    return request.args\n"
        "\n\n"
        "pool.submit(worker)\n"
    )
    reports = plugin_reports(source)
    assert codes(reports) == ["FCX100"]
    assert reports[0].startswith("FCX100") and "worker()" in reports[0]
