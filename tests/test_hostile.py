"""Inputs a hostile (or unlucky) user feeds the gate: none may hang it, blow its memory,
end in a traceback or pass silently (issue 27; the promises are in docs/robustness.md).

The big inputs (10 MB expressions, 50 MB modules) are measured by
``benchmarks/hostile.py``; here each case has its small generated form, run through the
real console scripts in subprocesses, as a user or a hook runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest

from flake8_flask_ctx.checker.check import TOKENS_PER_NODE, check_source, too_big_to_parse
from flake8_flask_ctx.index.sources import source_text
from flake8_flask_ctx.options.reading import NotReadable, read_regular_file
from flake8_flask_ctx.options.settings import DEFAULT_MAX_NODES, Settings, SettingsError
from flake8_flask_ctx.rules.codes import NotAnalysed

BIN = Path(sys.executable).parent
STANDALONE = str(BIN / "flake8-flask-ctx")
FLAKE8_HOOK = str(BIN / "flake8-flask-ctx-flake8")
FLAKE8 = str(BIN / "flake8")

VIEW = """\
import threading

from flask import Flask

from pkg.helpers import work

app = Flask(__name__)


@app.route("/")
def index():
    threading.Thread(target=work).start()
    return "ok"
"""

WORKER = """\
import threading

from flask import request


def worker():
    return request.args


threading.Thread(target=worker).start()
"""


def run(command: Sequence[str], cwd: Path, stdin: Optional[bytes] = None,
        timeout: float = 120) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    done = subprocess.run(
        list(command), cwd=cwd, input=stdin, capture_output=True, timeout=timeout,
    )
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    return done


def write(root: Path, files: Dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# -- 1. a FIFO (or any file that is not a regular one) never blocks ----------------------

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")


@needs_fifo
def test_the_reader_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "helpers.py"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(NotReadable, match="not a regular file"):
        read_regular_file(fifo)
    assert source_text(fifo) is None
    assert time.monotonic() - started < 5


def test_the_reader_stops_at_its_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_bytes(b"x = 1\n" * 100)
    assert read_regular_file(big, 600) == b"x = 1\n" * 100
    with pytest.raises(NotReadable, match="over the limit of 599"):
        read_regular_file(big, 599)


@needs_fifo
def test_a_fifo_in_the_project_hangs_no_front_end(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/app.py": VIEW})
    os.mkfifo(tmp_path / "pkg" / "helpers.py")
    flake8 = run([FLAKE8, "--isolated", "--select=FCX", "pkg/app.py"], tmp_path, timeout=60)
    assert (flake8.returncode, flake8.stdout) == (0, b"")
    named = run([STANDALONE, "--isolated", "pkg/app.py"], tmp_path, timeout=60)
    assert (named.returncode, named.stdout) == (0, b"")
    importers = run([STANDALONE, "--isolated", "--with-importers", "pkg/app.py"], tmp_path,
                    timeout=60)
    assert importers.returncode == 0
    # Walking the tree lists the pipe (its name ends in .py): named, exit 2, no hang.
    tree = run([STANDALONE, "--isolated", "pkg"], tmp_path, timeout=60)
    assert tree.returncode == 2
    assert tree.stderr.decode() == (
        "flake8-flask-ctx: pkg/helpers.py: not checked: not a regular file\n"
    )


# -- 2. no documented way to run it imports the project's code ---------------------------

SHADOWS = {
    "threading.py": "open('IMPORTED-threading', 'w').write('x')\nraise SystemExit(97)\n",
    "concurrent/__init__.py":
        "open('IMPORTED-concurrent', 'w').write('x')\nraise SystemExit(99)\n",
    "app.py": WORKER,
}


def documented_commands() -> Dict[str, List[str]]:
    commands = {
        "python -m": [sys.executable, "-m", "flake8_flask_ctx", "--isolated", "app.py"],
        "flake8-flask-ctx": [STANDALONE, "--isolated", "app.py"],
        "flake8-flask-ctx-flake8 hook": [FLAKE8_HOOK, "--isolated", "--select=FCX", "app.py"],
        "flake8": [FLAKE8, "--isolated", "--select=FCX", "app.py"],
    }
    if sys.version_info >= (3, 11):
        commands["python -P -m"] = [
            sys.executable, "-P", "-m", "flake8_flask_ctx", "--isolated", "app.py",
        ]
    return commands


@pytest.mark.parametrize("way", sorted(documented_commands()))
def test_no_way_to_run_it_imports_a_module_of_the_project(tmp_path: Path, way: str) -> None:
    write(tmp_path, SHADOWS)
    done = run(documented_commands()[way], tmp_path)
    assert sorted(p.name for p in tmp_path.glob("IMPORTED-*")) == []
    assert done.returncode == 1, done.stderr
    assert b"app.py:10:" in done.stdout and b"FCX100" in done.stdout


def test_the_main_module_drops_only_the_entry_python_m_added() -> None:
    from flake8_flask_ctx.__main__ import without_working_directory

    here = os.getcwd()
    assert without_working_directory([here, "/lib", here]) == ["/lib", here]
    assert without_working_directory(["", "/lib"]) == ["/lib"]
    assert without_working_directory(["/lib", here]) == ["/lib", here]


# -- 3. bounded memory and time: a limit, named, configurable -----------------------------


def dense_module(elements: int) -> str:
    """A module that reports (a thread reading the request) plus one long expression."""
    return WORKER + "TABLE = [" + ", ".join(["name"] * elements) + "]\n"


def test_the_default_limit_and_its_validation() -> None:
    assert Settings().max_nodes == DEFAULT_MAX_NODES == 150_000
    assert Settings.from_values(max_nodes="2_000").max_nodes == 2000
    assert Settings.from_values(max_nodes="").max_nodes == DEFAULT_MAX_NODES
    assert Settings.from_values(max_nodes=0).max_nodes == 0
    for bad in ("many", "-1", "1.5"):
        with pytest.raises(SettingsError, match="--flask-ctx-max-nodes"):
            Settings.from_values(max_nodes=bad)


def test_a_module_over_the_limit_is_declined_and_named() -> None:
    source = dense_module(400)  # about 850 nodes
    assert [f.code for f in check_source(source, settings=Settings(max_nodes=2000))] == [
        "FCX100"
    ]
    with pytest.raises(NotAnalysed, match="more than 500 syntax nodes"):
        check_source(source, settings=Settings(max_nodes=500))
    # 0: no limit.
    assert [f.code for f in check_source(source, settings=Settings(max_nodes=0))] == [
        "FCX100"
    ]
    # A module that cannot report is never counted, whatever its size.
    plain = "TABLE = [" + ", ".join(["name"] * 400) + "]\n"
    assert check_source(plain, settings=Settings(max_nodes=10)) == []


def test_far_over_the_limit_no_parse_is_even_tried() -> None:
    limit = 100
    small = dense_module(10)
    assert too_big_to_parse(small, limit) is None
    huge = dense_module(TOKENS_PER_NODE * limit)
    reason = too_big_to_parse(huge, limit)
    assert reason is not None and "tokens, far more than the 100 syntax nodes" in reason
    with pytest.raises(NotAnalysed, match="tokens, far more than"):
        check_source(huge, settings=Settings(max_nodes=limit))


def test_both_front_ends_name_the_file_and_the_limit(tmp_path: Path) -> None:
    (tmp_path / "dense.py").write_text(dense_module(400), encoding="utf-8")
    limit = "--flask-ctx-max-nodes=500"
    standalone = run([STANDALONE, "--isolated", limit, "dense.py"], tmp_path)
    assert standalone.returncode == 2
    assert standalone.stdout.decode().splitlines() == [
        "dense.py:1:1: FCX999 flake8-flask-ctx "
        f"{_version()}: not analysed: more than 500 syntax nodes "
        "(--flask-ctx-max-nodes; 0: no limit)"
    ]
    flake8 = run([FLAKE8, "--isolated", "--select=FCX", limit, "dense.py"], tmp_path)
    assert flake8.returncode == 1
    assert flake8.stdout.decode().splitlines() == standalone.stdout.decode().splitlines()
    # Raised in the configuration, the same file is analysed.
    (tmp_path / "pyproject.toml").write_text(
        "[tool.flake8-flask-ctx]\nflask-ctx-max-nodes = 0\n", encoding="utf-8"
    )
    configured = run([STANDALONE, "dense.py"], tmp_path)
    assert configured.returncode == 1
    assert b"dense.py:10:" in configured.stdout and b"FCX100" in configured.stdout


def test_a_module_too_big_to_follow_stays_unknown(tmp_path: Path) -> None:
    helpers = (
        "from flask import request\n\n\ndef work():\n    return request.args\n\n\n"
        + "TABLE = [" + ", ".join(["name"] * (DEFAULT_MAX_NODES // 2 + 10)) + "]\n"
    )
    write(tmp_path, {"pkg/__init__.py": "", "pkg/app.py": VIEW, "pkg/helpers.py": helpers})
    small = helpers.split("TABLE")[0]
    assert [f.code for f in check_source(
        VIEW, filename=str(tmp_path / "pkg" / "app.py"), settings=Settings(),
    )] == []
    (tmp_path / "pkg" / "helpers.py").write_text(small, encoding="utf-8")
    assert [f.code for f in check_source(
        VIEW, filename=str(tmp_path / "pkg" / "app.py"), settings=Settings(),
    )] == ["FCX100"]


def _version() -> str:
    from flake8_flask_ctx import __version__

    return __version__


# -- 4. configuration of any shape is a one-line error -----------------------------------


@pytest.mark.parametrize("toml", [
    "tool = 5\n",
    'tool = "x"\n',
    "tool = [1]\n",
    '[tool]\nflake8-flask-ctx = 5\n',
    '[tool.flake8-flask-ctx]\nflask-ctx-max-nodes = "many"\n',
    '[tool.flake8-flask-ctx]\nflask-ctx-max-nodes = true\n',
])
def test_a_configuration_of_any_shape_is_one_line_and_exit_2(tmp_path: Path, toml: str) -> None:
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "app.py").write_text(WORKER, encoding="utf-8")
    done = run([STANDALONE, "app.py"], tmp_path)
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flake8-flask-ctx: "), lines
    assert "pyproject.toml" in lines[0]


# -- 5. every mode names a file it could not check and exits 2 ---------------------------

UNCHECKABLE = {
    "nul.py": b"x = 1\x00\n",
    "python2.py": b"print 'hello'\n",
    "binary.py": bytes(range(256)),
}


def test_fix_and_diff_name_every_file_they_could_not_check(tmp_path: Path) -> None:
    for name, data in UNCHECKABLE.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "app.py").write_text(WORKER, encoding="utf-8")
    for mode in (["--fix", "--diff"], ["--fix"]):
        done = run([STANDALONE, "--isolated", *mode, "."], tmp_path)
        assert done.returncode == 2, (mode, done.stderr)
        stderr = done.stderr.decode()
        for name in UNCHECKABLE:
            assert f"{name}" in stderr and "not checked" in stderr, (mode, name, stderr)
    for name, data in UNCHECKABLE.items():
        assert (tmp_path / name).read_bytes() == data  # never rewritten


def test_stdin_fix_names_the_buffer_and_gives_it_back(tmp_path: Path) -> None:
    broken = b"def f(:\n"
    for mode in (["--fix"], ["--fix", "--diff"]):
        done = run([STANDALONE, "--isolated", *mode, "--stdin-display-name=views.py", "-"],
                   tmp_path, stdin=broken)
        assert done.returncode == 2
        assert done.stderr.decode().startswith("flake8-flask-ctx: views.py:1: not checked")
        assert done.stdout == (broken if mode == ["--fix"] else b"")


def test_the_flake8_hook_fails_on_a_file_it_could_not_check(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n", encoding="utf-8")
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    done = run([FLAKE8_HOOK, "--isolated", "--select=FCX", "broken.py", "ok.py"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "flake8-flask-ctx: broken.py:1: not checked: Python "
        f"{sys.version_info[0]}.{sys.version_info[1]} cannot parse it: invalid syntax\n"
    )
    missing = run([FLAKE8_HOOK, "--isolated", "--select=FCX", "gone.py"], tmp_path)
    assert missing.returncode == 2
    assert b"gone.py: not checked: no such file" in missing.stderr
    clean = run([FLAKE8_HOOK, "--isolated", "--select=FCX", "ok.py"], tmp_path)
    assert (clean.returncode, clean.stderr) == (0, b"")


# -- 6. --fix changes the rewrite and nothing else ---------------------------------------

FIXABLE = '''"""Orders."""
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, request

app = Flask(__name__)
pool = ThreadPoolExecutor(2)


def audit():
    return request.args.get("q")


@app.route("/")
def index():
    pool.submit(audit)
    return "ok"
'''


def line_ends(kind: str) -> bytes:
    lines = FIXABLE.splitlines(keepends=True)
    if kind == "mixed":
        text = "".join(
            line.replace("\n", "\r\n") if number % 2 else line
            for number, line in enumerate(lines)
        )
    else:
        text = FIXABLE.replace("\n", {"lf": "\n", "crlf": "\r\n", "cr": "\r"}[kind])
    return text.encode("utf-8")


@pytest.mark.parametrize("kind", ["lf", "crlf", "cr", "mixed", "bom"])
def test_fix_keeps_every_byte_outside_the_rewrite(tmp_path: Path, kind: str) -> None:
    original = (b"\xef\xbb\xbf" + line_ends("lf")) if kind == "bom" else line_ends(kind)
    (tmp_path / "orders.py").write_bytes(original)
    done = run([STANDALONE, "--isolated", "--fix", "orders.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    expected = original.replace(
        b"from flask import Flask, request",
        b"from flask import Flask, request, copy_current_request_context",
    ).replace(b"pool.submit(audit)", b"pool.submit(copy_current_request_context(audit))")
    assert (tmp_path / "orders.py").read_bytes() == expected


@pytest.mark.skipif(shutil.which("git") is None, reason="git")
def test_the_diff_is_a_patch_git_applies(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "orders.py").write_bytes(line_ends("lf"))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = run([STANDALONE, "--isolated", "--fix", "--diff", "."], tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith(b"--- a/shop/orders.py\n+++ b/shop/orders.py\n")
    (tmp_path / "fix.patch").write_bytes(done.stdout)
    applied = subprocess.run(["git", "apply", "--check", "fix.patch"], cwd=tmp_path,
                             capture_output=True)
    assert applied.returncode == 0, applied.stderr
    if shutil.which("patch") is not None:  # and plain patch(1), as issue 29 asks
        patched = subprocess.run(["patch", "-p1", "--dry-run", "-i", "fix.patch"],
                                 cwd=tmp_path, capture_output=True)
        assert patched.returncode == 0, patched.stdout + patched.stderr
