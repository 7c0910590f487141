"""Property-based fuzzing: whatever the module holds, the analysis returns (never
raises, never hangs) and gives the same result twice.

Inputs: random valid programs (``hypothesmith``, from Python's grammar) wrapped so the
cheap gates let them through; the fixtures mutated (imports renamed, statements
shuffled, bodies nested deeper, helpers made recursive, lines dropped or duplicated);
random bytes in several encodings; and, as plain tests, the shapes that break naive
recursion (1,000-deep expressions of every kind, recursive and mutually recursive
helpers, modules importing each other in a cycle).

CI runs a fixed, derandomized profile.  A longer random run for local use:
``FCX_FUZZ_PROFILE=long pytest tests/test_fuzz.py -p no:xdist`` (thousands of
examples; see the README).
"""

from __future__ import annotations

import ast
import os
import random
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SUMMARY_PROPERTY
from expectations import fixture_files
from flake8_flask_ctx.index import project as project_module
from flake8_flask_ctx.checker.check import check_source
from flake8_flask_ctx.frontends.plugin import Plugin
from test_robustness import WORKER as ROBUSTNESS_WORKER

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_PATHS = fixture_files(FIXTURES)

#: Health checks about the generators, not about the code under test: hypothesmith's
#: ``from_node`` builds LibCST trees and discards those that do not round-trip, and how
#: many it discards depends on the installed hypothesis/hypothesmith/libcst versions
#: (it tripped ``filter_too_much`` after a routine upgrade).
SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "ci",
    derandomize=True,  # the fixed seed: the same examples on every CI run
    max_examples=60,
    deadline=None,  # time is bounded by ``time_limit`` below, not per example
    database=None,
    suppress_health_check=SUPPRESSED,
)
settings.register_profile(
    "long",
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=SUPPRESSED,
)
PROFILE = settings.get_profile(os.environ.get("FCX_FUZZ_PROFILE", "ci"))

#: Seconds one input may take before it counts as a hang (generous: CI machines are
#: slow and busy; the slowest real-world module takes well under a second).
HANG_SECONDS = 30.0

Result = List[Tuple[int, int, str]]

PREFIX = (
    "import threading\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
    "from flask import Flask, current_app, g, request, session\n"
    "app = Flask(__name__)\n"
    "pool = ThreadPoolExecutor(2)\n"
)


class Hang(Exception):
    """The analysis of one input exceeded ``HANG_SECONDS``."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``Hang`` in the main thread after ``seconds`` (POSIX timers)."""
    if not hasattr(signal, "setitimer"):  # pragma: no cover - Windows
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def analyse(source: str, filename: Optional[str] = None) -> Result:
    with time_limit(HANG_SECONDS):
        return [(f.line, f.column, f.message) for f in check_source(source, filename=filename)]


def analyse_twice(source: str, filename: Optional[str] = None) -> Result:
    """Never raises (an exception fails the example and Hypothesis shrinks it), never
    hangs, and the second run (warm caches) equals the first."""
    first = analyse(source, filename)
    assert analyse(source, filename) == first
    return first


def dispatching_suffix(program: str) -> str:
    """Dispatch every function the program defines (so the engine follows them)."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return "\n"
    names = [
        node.name for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ][:20]
    lines = ["", "@app.route('/fuzz')", "def fuzz_view():"]
    lines += [f"    threading.Thread(target={name}).start()" for name in names]
    lines += [f"    pool.submit({name}, request.args)" for name in names]
    lines.append("    return 'ok'")
    return "\n".join(lines) + "\n"


# -- random valid programs ------------------------------------------------------------


@settings(PROFILE)
@given(hypothesmith.from_grammar())
def test_random_programs(program: str) -> None:
    analyse_twice(PREFIX + program + dispatching_suffix(program))


@settings(PROFILE)
@given(hypothesmith.from_node())
def test_random_libcst_programs(program: str) -> None:
    analyse_twice(PREFIX + program + dispatching_suffix(program))


# -- the fixtures, mutated ------------------------------------------------------------


class RenameImports(ast.NodeTransformer):
    """``from flask import request`` -> ``... import request as request_1`` (and every
    use), ``import threading`` -> ``import threading as threading_1``."""

    def __init__(self) -> None:
        self.renamed: dict[str, str] = {}

    def visit_alias(self, node: ast.alias) -> ast.alias:
        if node.name != "*":
            bound = node.asname or node.name.split(".")[0]
            if "." not in node.name or node.asname:
                self.renamed[bound] = f"{bound}_1"
                node.asname = f"{bound}_1"
        return node

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.renamed.get(node.id, node.id)
        return node


def rename_imports(tree: ast.Module, rng: random.Random) -> ast.Module:
    renamer = RenameImports()
    imports: List[ast.stmt] = [
        n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
    ]
    for statement in imports + [n for n in tree.body if n not in imports]:
        renamer.visit(statement)
    return tree


def shuffle_statements(tree: ast.Module, rng: random.Random) -> ast.Module:
    body = list(tree.body)
    rng.shuffle(body)
    tree.body = body
    return tree


def nest_bodies(tree: ast.Module, rng: random.Random) -> ast.Module:
    """Wrap each function body in ``if``/``for``/``with``/``try``/``while`` layers."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            for _ in range(rng.randint(1, 4)):
                kind = rng.choice(["if", "for", "with", "try", "while", "def"])
                wrapped = ast.parse(
                    {
                        "if": "if True:\n    pass",
                        "for": "for _i in range(1):\n    pass",
                        "with": "with open(__file__):\n    pass",
                        "try": "try:\n    pass\nexcept ValueError:\n    raise",
                        "while": "while True:\n    pass\n    break",
                        "def": "def inner():\n    pass\nreturn inner()",
                    }[kind]
                ).body
                holder = wrapped[0]
                if isinstance(holder, ast.Try):
                    holder.body = body
                elif isinstance(holder, ast.While):
                    holder.body = body + [ast.Break()]
                else:
                    holder.body = body  # type: ignore[attr-defined]
                body = wrapped
            node.body = body
    return tree


def make_recursive(tree: ast.Module, rng: random.Random) -> ast.Module:
    """Every function also calls itself or the next one (mutual recursion)."""
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    for number, function in enumerate(functions):
        callee = functions[(number + rng.randint(0, 1)) % len(functions)].name
        call = ast.parse(f"if False:\n    {callee}()").body[0]
        function.body.insert(0, call)
    return tree


TREE_MUTATIONS: List[Callable[[ast.Module, random.Random], ast.Module]] = [
    rename_imports, shuffle_statements, nest_bodies, make_recursive,
]


def drop_line(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    del lines[rng.randrange(len(lines))]
    return "".join(lines)


def duplicate_line(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines))
    return "".join(lines[: at + 1] + lines[at:])


def splice_noise(text: str, rng: random.Random) -> str:
    at = rng.randrange(len(text) + 1)
    noise = rng.choice(["(", ")", ":", "\\", "lambda", "\x00", "\ufeff", "\r", "\t", "'''"])
    return text[:at] + noise + text[at:]


TEXT_MUTATIONS: List[Callable[[str, random.Random], str]] = [
    drop_line, duplicate_line, splice_noise,
]


@settings(PROFILE)
@given(
    st.sampled_from(FIXTURE_PATHS),
    st.lists(st.sampled_from(TREE_MUTATIONS), min_size=1, max_size=4),
    st.lists(st.sampled_from(TEXT_MUTATIONS), max_size=2),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_mutated_fixtures(
    path: Path,
    tree_mutations: List[Callable[[ast.Module, random.Random], ast.Module]],
    text_mutations: List[Callable[[str, random.Random], str]],
    rng: random.Random,
    in_place: bool,
) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for mutate in tree_mutations:
        tree = ast.fix_missing_locations(mutate(tree, rng))
    text = ast.unparse(tree) + "\n"
    for mutate_text in text_mutations:
        text = mutate_text(text, rng)
    # ``in_place``: as if the mutated text were the fixture (cross-module placement
    # among the other fixtures and their ``support`` package).
    analyse_twice(text, str(path) if in_place else None)


# -- random bytes, any encoding -------------------------------------------------------

ENCODINGS = ["utf-8", "latin-1", "utf-16", "cp1252", "shift_jis", "utf-8-sig"]


@settings(PROFILE)
@given(st.binary(max_size=4000), st.sampled_from(ENCODINGS), st.booleans())
def test_random_bytes(data: bytes, encoding: str, gated_in: bool) -> None:
    text = data.decode(encoding, errors="replace")
    source = (PREFIX + text + "\nthreading.Thread(target=fuzz).start()\n") if gated_in else text
    analyse_twice(source)
    # The flake8 adapter on the same text, as lines, without flake8's tree (it could
    # not parse it either): nothing escapes, and no FCX999.
    plugin = Plugin(None, source.splitlines(keepends=True), "fuzz.py")  # type: ignore[arg-type]
    reports = list(plugin.run())
    assert not [r for r in reports if r[2].startswith("FCX999")]


@settings(PROFILE)
@given(st.text(max_size=3000))
def test_random_text(text: str) -> None:
    analyse_twice(PREFIX + text)


# -- the shapes that break naive recursion --------------------------------------------

#: The worker module of ``test_robustness`` with its read replaced by ``{expression}``.
WORKER = ROBUSTNESS_WORKER.replace("return request.args", "return {expression}")
DEEP = 1000
DEEP_EXPRESSIONS = {
    "binary operators": " + ".join(["request.args"] * DEEP),
    "and chain": " and ".join(["request.args"] * DEEP),
    "or chain": " or ".join(["request.args"] * DEEP),
    "comparison chain": " < ".join(["request.args"] * DEEP),
    "conditional expressions": "request.args if x else " * DEEP + "None",
    "not": "not " * DEEP + "request.args",
    "unary minus": "-" * DEEP + "request.args",
    "attribute chain": "request.args" + ".a" * DEEP,
    "method-call chain": "request.args" + ".copy()" * DEEP,
    "subscript chain": "request.args" + "[0]" * DEEP,
    "string concatenation": " ".join(['"a"'] * DEEP) + " and request.args",
    "tuple of reads": "(" + ", ".join(["request.args"] * DEEP) + ")",
}


#: Deep shapes whose read never runs: the worker only builds (returns) the lambdas.
#: Silent (SPEC section 6: built is not called), in bounded time all the same.
DEEP_NOT_RUN = {
    "nested lambdas": "lambda: " * DEEP + "request.args",
    "a lambda behind a long chain of unknown calls": "f(" * 150 + "lambda: request.args"
    + ")" * 150,
}


@pytest.mark.parametrize("kind", sorted(DEEP_NOT_RUN))
def test_thousand_deep_code_that_never_runs(kind: str) -> None:
    source = WORKER.format(expression=DEEP_NOT_RUN[kind])
    assert analyse_twice(source) == []


@pytest.mark.parametrize("kind", sorted(DEEP_EXPRESSIONS))
def test_thousand_deep_expressions(kind: str) -> None:
    """Each is a worker reading ``request`` 1,000 levels down: found, in bounded time."""
    source = WORKER.format(expression=DEEP_EXPRESSIONS[kind])
    found = analyse_twice(source)
    assert [message.split()[0] for _, _, message in found] == ["FCX100"]
    assert [line for line, _, _ in found] == [9]


def test_recursive_and_mutually_recursive_helpers() -> None:
    lines = ["import threading", "from flask import request", ""]
    for i in range(300):  # a ring of 300 helpers, each also calling itself
        lines += [f"def h{i}(n):", f"    h{i}(n - 1)", f"    return h{(i + 1) % 300}(n)", ""]
    lines += ["def reader():", "    h0(3)", "    return request.args", ""]
    lines += ["def h_last():", "    return reader()", ""]
    lines.append("threading.Thread(target=h0).start()")
    lines.append("threading.Thread(target=h_last).start()")
    found = analyse_twice("\n".join(lines) + "\n")
    assert [(line, message.split()[0]) for line, _, message in found] == [(len(lines), "FCX100")]


def test_mutually_recursive_modules(tmp_path: Path) -> None:
    """Three modules importing each other in a cycle, helpers calling round the ring
    forever, one of them reading ``request``: terminates, finds the read."""
    package = tmp_path / "ring"
    package.mkdir()
    (package / "__init__.py").write_text("from .a import *\nfrom .b import *\n", "utf-8")
    names = ["a", "b", "c"]
    for number, name in enumerate(names):
        following = names[(number + 1) % 3]
        text = (
            "from flask import request\n"
            f"from . import {following}\n"
            f"from .{following} import *\n"
            f"from .{name} import *\n"
            "\n"
            f"def step_{name}(n):\n"
            f"    return {following}.step_{following}(n + 1)\n"
        )
        if name == "c":
            text += "\n\ndef read_c():\n    return step_c(0) or request.args\n"
        (package / f"{name}.py").write_text(text, "utf-8")
    view = package / "views.py"
    view.write_text(
        "import threading\n"
        "from .a import step_a\n"
        "from .c import read_c\n"
        "\n"
        "threading.Thread(target=step_a, args=(0,)).start()\n"
        "threading.Thread(target=read_c).start()\n",
        "utf-8",
    )
    project_module.clear_cache()
    found = analyse_twice(view.read_text("utf-8"), str(view))
    assert [(line, message.split()[0]) for line, _, message in found] == [(6, "FCX100")]
    assert "ring/c.py" in found[0][2]


#: Found by the crash hunt (each hung for minutes before the fix): names with many
#: bindings that refer to each other, followed once per path instead of once.
TANGLED = "a = b; b = a\n" * 8
BINDING_TANGLES = {
    "thread target": TANGLED + "threading.Thread(target=a).start()\n",
    "receiver": TANGLED + "a.submit(worker)\n",
    "copied-context run": TANGLED + "threading.Thread(target=a.run).start()\n",
    "2,000 rebindings": "".join(f"x = f{i}\n" for i in range(2000))
    + "x = worker\nthreading.Thread(target=x).start()\n",
}


@pytest.mark.parametrize("shape", sorted(BINDING_TANGLES))
def test_tangled_bindings_terminate(shape: str) -> None:
    source = (
        "import threading\nfrom flask import request\n\n\n"
        "def worker():\n    return request.args\n\n\n" + BINDING_TANGLES[shape]
    )
    found = analyse_twice(source)
    expected = ["FCX100"] if shape in ("2,000 rebindings", "receiver") else []
    assert [message.split()[0] for _, _, message in found] == expected


def test_a_class_with_hundreds_of_dispatching_methods() -> None:
    """Every method hands itself to ``self.pool``: the class's ``self.*`` assignments
    are collected once, not once per method (was quadratic: minutes at 400)."""
    lines = [
        "from concurrent.futures import ThreadPoolExecutor",
        "from flask import request",
        "",
        "",
        "class Jobs:",
        "    def __init__(self):",
        "        self.pool = ThreadPoolExecutor()",
        "        self.args = None",
    ]
    for i in range(300):
        lines += [
            f"    def m{i}(self):",
            f"        self.pool.submit(self.m{i})",
            f"        self.value{i} = self.args",
        ]
    lines += ["    def reader(self):", "        return request.args"]
    lines += ["    def start(self):", "        self.pool.submit(self.reader)"]
    found = analyse_twice("\n".join(lines) + "\n")
    assert [(line, message.split()[0]) for line, _, message in found] == [(len(lines), "FCX100")]


def test_the_hang_bound_works() -> None:
    """``time_limit`` really interrupts (else the tests above would prove nothing)."""
    started = time.monotonic()
    with pytest.raises(Hang):
        with time_limit(0.2):
            while True:
                pass
    assert time.monotonic() - started < 5


def test_fuzz_profile_in_use(record_property: Callable[[str, object], None]) -> None:
    record_property(
        SUMMARY_PROPERTY,
        f"fuzz profile {os.environ.get('FCX_FUZZ_PROFILE', 'ci')!r}: "
        f"{PROFILE.max_examples} examples per property x 6 properties "
        f"(derandomized: {PROFILE.derandomize}), Python {sys.version.split()[0]}",
    )
    assert PROFILE.max_examples >= 60
