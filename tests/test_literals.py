"""Big constant tables of the checked file collapsed before the LibCST parse
(``index/literals.py``).

The collapse must never change a finding: a pure literal holds nothing the analysis
reports or follows, its binding and truthiness are kept, and every line after it is
mapped back to the file's.  Each fixture is checked with a 60-line table inserted after
its imports, once collapsed and once parsed whole: the findings, lines, columns and
messages (which name lines of the file) must be the same.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from expectations import fixture_files
from flake8_flask_ctx.checker import check as check_module
from flake8_flask_ctx.checker.check import check_source
from flake8_flask_ctx.index.literals import collapse_literal_tables, is_pure_literal, stub

FIXTURES = Path(__file__).parent / "fixtures"

TABLE = "COUNTRY_CODES = {\n" + "".join(
    f"    'c{n}': ({n}, 'name {n}', [{n}, -{n}]),  # row {n}\n" for n in range(58)
) + "}\n"


def with_table(source: str) -> Tuple[str, int]:
    """The fixture with ``TABLE`` after its last top-level import, and where it went."""
    tree = ast.parse(source)
    after = max(
        (node.end_lineno or node.lineno for node in tree.body
         if isinstance(node, (ast.Import, ast.ImportFrom))),
        default=0,
    )
    lines = source.splitlines(keepends=True)
    return "".join(lines[:after]) + TABLE + "".join(lines[after:]), after + 1


def findings(source: str) -> List[Tuple[int, int, str, str]]:
    return [(f.line, f.column, f.code, f.message) for f in check_source(source)]


@pytest.mark.parametrize("path", fixture_files(FIXTURES), ids=lambda p: p.name)
def test_a_collapsed_table_changes_no_finding(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, first = with_table(path.read_text(encoding="utf-8"))
    collapsed = collapse_literal_tables(ast.parse(source), source)
    assert collapsed is not None
    text, numbers = collapsed
    assert len(numbers) == len(text.splitlines()) <= len(source.splitlines()) - 59
    assert text.splitlines()[first - 1] == "COUNTRY_CODES = {0: 0}"
    with_collapse = findings(source)
    monkeypatch.setattr(check_module, "collapse_literal_tables", lambda tree, text: None)
    assert with_collapse == findings(source)


def test_the_fixtures_give_findings_below_a_collapsed_table() -> None:
    """The comparison above is not vacuous: findings after the table keep their lines."""
    source, first = with_table(textwrap.dedent("""\
        import threading
        from flask import request

        def work():
            return request.args

        def view():
            threading.Thread(target=work).start()
        """))
    assert findings(source)[0][:3] == (first + 60 + 5, 28, "FCX100")
    assert "(line 65)" in findings(source)[0][3]


@pytest.mark.parametrize(
    "text",
    [
        "T = {'a': 1, 'b': (2, 3), 'c': [-4, +5, ~6], 'd': {7, 8}, 'e': None, 'f': b'x'}",
        "T = ((), [], {}, '', 0.5, 1j, True, ...)",
    ],
)
def test_pure_literals(text: str) -> None:
    assert is_pure_literal(ast.parse(text).body[0].value)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "T = {'a': handler}",           # a name: may be a callable reach follows
        "T = {'a': f()}",               # a call
        "T = {**BASE, 'a': 1}",         # a splat
        "T = [x for x in range(3)]",    # a comprehension
        "T = ('a' + 'b',)",             # an operation
        "T = {'a': request.args}",      # a context-local
    ],
)
def test_not_pure_literals(text: str) -> None:
    assert not is_pure_literal(ast.parse(text).body[0].value)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("{1: 2}", "{0: 0}"), ("{}", "{}"), ("[1]", "[0]"), ("[]", "[]"), ("(1,)", "(0,)"),
     ("()", "()"), ("{1}", "{0}"), ("'abc'", "'x'"), ("''", "''"), ("b'a'", "b'x'"),
     ("b''", "b''"), ("3", None), ("None", None)],
)
def test_the_stub_keeps_type_and_truthiness(value: str, expected: Optional[str]) -> None:
    assert stub(ast.parse(value, mode="eval").body) == expected
    if expected is not None:
        assert bool(ast.literal_eval(expected)) == bool(ast.literal_eval(value))
        assert type(ast.literal_eval(expected)) is type(ast.literal_eval(value))


BODY = "".join(f"    {n},\n" for n in range(6))


@pytest.mark.parametrize(
    "text",
    [
        "A = B = [\n" + BODY + "]\n",
        "A: list = [\n" + BODY + "]  # trailing comment\n",
        "HTML = '''\n<p>\n  text\n</p>\n'''\n",
    ],
    ids=["chained", "annotated", "string"],
)
def test_collapsed_statements(text: str) -> None:
    source = "import os\n" + text + "x = 1\n"
    collapsed = collapse_literal_tables(ast.parse(source), source)
    assert collapsed is not None
    new_text, numbers = collapsed
    assert new_text.splitlines()[0] == "import os"
    assert new_text.splitlines()[-1] == "x = 1"
    assert numbers == [1, 2, len(source.splitlines())]


@pytest.mark.parametrize(
    "text",
    [
        "T = [\n" + BODY + "]; y = 2\n",        # shares its last line
        "a, b = [\n" + BODY + "]\n",            # not a plain name
        "T = [\n    f(),\n" + BODY + "]\n",     # a call inside
        "T = [\n    0, 1,\n]\n",                 # shorter than the threshold
        "class C:\n    T = [\n" + BODY + "    ]\n",  # not top-level
        "if x:\n    T = [\n" + BODY + "    ]\n",
        "T = (\n    3\n    +\n    4\n)\n",      # an operation
    ],
)
def test_statements_left_alone(text: str) -> None:
    source = "import os\n" + text
    assert collapse_literal_tables(ast.parse(source), source) is None


def test_crlf_and_non_ascii_lines() -> None:
    source = "import os\r\nT = {\r\n" + "".join(
        f"    'é{n}': 'ünïcode {n}',\r\n" for n in range(5)
    ) + "}  # é\r\nx = 1\r\n"
    collapsed = collapse_literal_tables(ast.parse(source), source)
    assert collapsed is not None
    assert collapsed[0] == "import os\r\nT = {0: 0}\r\nx = 1\r\n"
    assert collapsed[1] == [1, 2, 9]
