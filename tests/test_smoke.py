"""Smoke test: every module of the standard library and of this environment's
site-packages through the flake8 plugin, as flake8 would feed it.

Thousands of real files nobody wrote for this plugin: zero exceptions, zero FCX999,
and no diagnostic in a file that has nothing to do with Flask.  Marked ``slow`` (CI
runs it; ``pytest -m "not slow"`` skips it locally).
"""

from __future__ import annotations

import ast
import re
import sysconfig
import time
import tokenize
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from conftest import SUMMARY_PROPERTY
from flake8_flask_ctx.frontends.plugin import Plugin
from flake8_flask_ctx.index.prefilter import might_have_findings
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE

pytestmark = pytest.mark.slow

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])

#: A module that uses Flask: it imports flask or a Flask extension, or it imports a
#: module of its own distribution that does (checked across the distribution below).
FLASK_IMPORT = re.compile(r"^\s*(?:from|import)\s+flask\w*", re.MULTILINE)


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if root == STDLIB and "site-packages" in path.relative_to(root).parts:
            continue  # a base interpreter's own site-packages is not the stdlib
        if path.is_file():
            yield path


def read_like_flake8(path: Path) -> Optional[str]:
    """The text flake8 would hand over: PEP 263 decoding, ``None`` if it cannot."""
    try:
        with tokenize.open(path) as handle:
            return handle.read()
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
        return None


def lint(path: Path, source: str) -> List[Tuple[int, str]]:
    """The plugin as flake8 runs it, with flake8's ``ast`` of the file -- built here only
    for files the text prefilter lets through: the others never look at the tree, and
    parsing every file of the environment was most of this test's time."""
    tree: Optional[ast.AST] = None
    if might_have_findings(source, DEFAULT_KNOWLEDGE):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            tree = None
    plugin = Plugin(tree, source.splitlines(keepends=True), str(path))  # type: ignore[arg-type]
    return [(line, message) for line, _, message, _ in plugin.run()]


def distribution_of(path: Path, root: Path) -> str:
    """The top-level package (or module) directly under ``root``."""
    return path.relative_to(root).parts[0]


#: The corpora in shards, so that ``pytest -n auto`` spreads them over the workers (one
#: site-packages run was the suite's longest test by far).
SHARDS = [(STDLIB, shard, 2) for shard in range(2)] + [
    (SITE_PACKAGES, shard, 4) for shard in range(4)
]


@pytest.mark.parametrize(
    "root, shard, shards", SHARDS,
    ids=[f"{'stdlib' if r == STDLIB else 'site-packages'}-{i + 1}of{n}" for r, i, n in SHARDS],
)
def test_every_installed_module_lints_cleanly(
    root: Path, shard: int, shards: int, record_property: Callable[[str, object], None]
) -> None:
    started = time.perf_counter()
    linted = unreadable = 0
    failures: List[str] = []
    findings: Dict[Path, List[Tuple[int, str]]] = {}
    uses_flask: Counter[str] = Counter()
    for number, path in enumerate(python_files(root)):
        source = read_like_flake8(path)
        if source is not None and FLASK_IMPORT.search(source):
            uses_flask[distribution_of(path, root)] += 1  # every file: whole distributions
        if number % shards != shard:
            continue
        if source is None:
            unreadable += 1
            continue
        linted += 1
        try:
            reports = lint(path, source)
        except Exception as error:  # pragma: no cover - the shield failed: the bug
            failures.append(f"{path}: {type(error).__name__}: {error}")
            continue
        failures += [f"{path}:{line}: {m}" for line, m in reports if m.startswith("FCX999")]
        if reports:
            findings[path] = reports
    elapsed = time.perf_counter() - started
    flask_files = sorted(str(p.relative_to(root)) for p in findings)
    record_property(
        SUMMARY_PROPERTY,
        f"smoke {root} [{shard + 1}/{shards}]: {linted} files linted "
        f"({unreadable} undecodable skipped) in "
        f"{elapsed:.1f} s; 0 crashes; findings in {len(findings)} Flask-using files "
        f"{flask_files}",
    )
    assert linted > 300, "the corpus was not found"
    assert failures == []
    outside_flask = [
        f"{path}:{line}: {message}"
        for path, reports in findings.items()
        if not uses_flask[distribution_of(path, root)]
        for line, message in reports
    ]
    assert outside_flask == []
