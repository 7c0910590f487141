"""Linting is reading: the analysis never imports, executes or evaluates the code it
checks, never writes a file (there is no on-disk cache; only ``--fix`` writes, the files
it was asked to fix), and never follows a symlink out of the project root.

Proved from the outside: a project whose every module has import-time side effects is
linted (the flake8 plugin and the standalone command) in a child interpreter that
records, with a PEP 578 audit hook, every ``import``, ``exec``, ``open`` and
``compile`` of that run; plus a static scan of this package for the calls that run code.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "flake8_flask_ctx"
MARKER = "SIDE_EFFECT_MARKER"

SIDE_EFFECT = f"""\
# {MARKER}
import pathlib as _pathlib
_pathlib.Path(__file__).with_name("IMPORTED-" + __name__).write_text("imported")
raise SystemExit("{MARKER}: " + __name__ + " was imported")
"""

PROJECT: Dict[str, str] = {
    "shop_effects/__init__.py": SIDE_EFFECT,
    "shop_effects/tasks.py": SIDE_EFFECT + """\
from flask import request


def crunch():
    return request.args.get("q")
""",
    "shop_effects/views.py": SIDE_EFFECT + """\
import threading

from flask import Flask

from .tasks import crunch
from .work import steal

app = Flask(__name__)


@app.route("/")
def index():
    threading.Thread(target=crunch).start()
    threading.Thread(target=steal).start()
    eval("crunch()")
    return "ok"
""",
}
OUTSIDE = "from flask import request\n\n\ndef steal():\n    return request.cookies\n"

#: Runs in the child: warm every lazy import first (so that the events recorded are the
#: analysis's own), then hook, then lint.
CHILD = textwrap.dedent("""
    import ast, builtins, contextlib, io, json, os, sys
    sys.dont_write_bytecode = True
    project, outside, marker = sys.argv[1], sys.argv[2], sys.argv[3]

    import libcst
    from flake8_flask_ctx.checker import check
    from flake8_flask_ctx.frontends import cli
    from flake8_flask_ctx.frontends.plugin import Plugin
    warm = "import threading\\nfrom flask import request\\n" \\
        "def w():\\n    return request.args\\nthreading.Thread(target=w).start()\\n"
    assert check.check_source(warm), "warm-up found nothing"

    events = []
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def touches_project(value):
        return isinstance(value, (str, bytes)) and (
            marker in (value if isinstance(value, str) else value.decode("latin-1"))
        )

    def hook(event, args):
        if event == "import" and str(args[0]).split(".")[0] == "shop_effects":
            events.append(["import", str(args[0])])
        elif event == "exec":
            code = args[0]
            if getattr(code, "co_filename", "").startswith((project, outside)):
                events.append(["exec", code.co_filename])
        elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            mode, flags = args[1] or "r", args[2] or 0
            if any(c in str(mode) for c in "wax+") or flags & WRITE_FLAGS:
                events.append(["write", path])
            elif os.path.realpath(path).startswith(outside):
                events.append(["read-outside-root", path])

    real_compile, real_eval, real_exec = builtins.compile, builtins.eval, builtins.exec

    def compile_(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST and touches_project(source):
            events.append(["compile", str(filename)])
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def eval_(source, *args, **kwargs):
        if touches_project(source):
            events.append(["eval", str(source)[:40]])
        return real_eval(source, *args, **kwargs)

    def exec_(source, *args, **kwargs):
        if touches_project(source):
            events.append(["exec-source", str(source)[:40]])
        return real_exec(source, *args, **kwargs)

    builtins.compile, builtins.eval, builtins.exec = compile_, eval_, exec_
    sys.addaudithook(hook)

    # The project's own files, as a user lists them (the symlink out of the root is
    # not one: only an analysis following the import could open it).
    paths = sorted(
        os.path.join(dirpath, name)
        for dirpath, _, files in os.walk(project)
        for name in files
        if not os.path.islink(os.path.join(dirpath, name))
    )
    reports = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
        tree = ast.parse("".join(lines))
        for line, _, message, _ in Plugin(tree, lines, path).run():
            reports.append([os.path.relpath(path, project), line, message.split()[0]])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(paths)
    print(json.dumps({"reports": reports, "cli": out.getvalue(), "status": status,
                      "events": events}))
""")


def write(root: Path, files: Dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_linting_never_imports_executes_writes_or_leaves_the_root(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    write(project, PROJECT)
    write(outside, {"evil.py": OUTSIDE})
    (project / "shop_effects" / "work.py").symlink_to(outside / "evil.py")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(project.resolve()), str(outside.resolve()), MARKER],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])

    assert result["events"] == []
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    # The analysis did read the modules: the import of .tasks was followed, textually.
    # (steal is behind a symlink out of the root: unknown, so not reported; work.py is
    # linted as a file of its own only by the front end given it, as flake8 would.)
    views_line = PROJECT["shop_effects/views.py"].splitlines().index(
        "    threading.Thread(target=crunch).start()"
    ) + 1
    assert ["shop_effects/views.py", views_line, "FCX100"] in result["reports"]
    assert not any(
        r[0] == "shop_effects/views.py" and r[1] == views_line + 1 for r in result["reports"]
    )
    assert f"shop_effects/views.py:{views_line}:" in result["cli"]
    assert result["status"] == 1


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "breakpoint"}
FORBIDDEN_MODULES = {"importlib", "runpy", "imp", "pkgutil", "subprocess", "pickle", "marshal"}


def _violations(path: Path) -> List[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: List[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno}: {node.func.id}()")
        elif isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{path.name}:{node.lineno}: from {node.module}")
    return sorted(found, key=lambda v: int(v.split(":")[1]))


def test_the_package_has_no_code_running_calls() -> None:
    """No ``eval``/``exec``/``compile``/``__import__``, nothing from ``importlib``,
    ``runpy``, ``subprocess`` or ``pickle`` anywhere in the package: the only way it
    sees code is as text (``ast.parse``, ``libcst.parse_module``)."""
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 40
    assert [v for path in sources for v in _violations(path)] == []


def test_the_static_scan_would_catch_an_eval(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import importlib\nx = eval('1')\nfrom runpy import run_path\n")
    assert _violations(bad) == [
        "bad.py:1: import importlib", "bad.py:2: eval()", "bad.py:3: from runpy"
    ]
