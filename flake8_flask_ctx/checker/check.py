"""Source text in, findings out: the cheap skip, the parse, the analysis.

Front ends (the flake8 plugin, the standalone command) call ``check_source``; it never
opens the checked file, so stdin and editors work the same as paths.  LibCST and the
engine are imported only when a file passes both cheap gates.
"""

from __future__ import annotations

import ast
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, FrozenSet, Iterator, List, Optional, Sequence

from ..index.ast_walk import more_nodes_than
from ..index.candidates import has_candidates, project_imports
from ..index.literals import collapse_literal_tables
from ..index.module_sites import may_be_generator, may_be_wrapper
from ..knowledge import DEFAULT_KNOWLEDGE, Knowledge
from ..index.prefilter import might_have_findings
from ..index.sources import one_line_end
from ..index.project import Project, project_of, same_as_on_disk
from ..options.settings import Settings, semantic_gate_enabled
from ..rules.codes import NotAnalysed

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

    from .analysis import Finding, ModuleAnalysis

__all__ = ["analysed_modules", "check_source", "might_have_findings"]

#: LibCST's visitors recurse once per tree level; deeply nested (generated) code
#: needs more than Python's default 1,000 frames.
RECURSION_LIMIT = 20_000


class _Counts:
    analysed = 0


def analysed_modules() -> int:
    """How many modules this process has parsed with LibCST and analysed (front ends
    tidy the heap only after those: ``frontends/heap.py``)."""
    return _Counts.analysed


def check_source(
    source: str,
    knowledge: Knowledge = DEFAULT_KNOWLEDGE,
    filename: Optional[str] = None,
    settings: Optional[Settings] = None,
    tree: Optional[ast.AST] = None,
) -> List[Finding]:
    """All findings for one module's text.  Syntax errors give no findings.

    ``filename`` (a path, or the display name given for stdin) places the module in
    its project for cross-module reach; without it only this module is analysed.
    ``tree``: the module's ``ast`` if the caller has it (flake8 does), for the cheap
    second gate (``candidates.py``) before the LibCST parse.
    A module over ``settings.max_nodes`` that may hold a finding raises
    ``NotAnalysed``; other exceptions propagate: the front end turns both into FCX999.
    """
    settings = settings or Settings()
    where = place(filename, knowledge, settings)
    project = where.project
    if not might_have_findings(
        one_line_end(source), knowledge, project, where.name, where.is_package
    ):
        return []
    if tree is None:
        declined = too_big_to_parse(source, settings.max_nodes)
        if declined is not None:
            raise NotAnalysed(declined)
    with _recursion_limit(RECURSION_LIMIT):
        if tree is None:
            try:
                tree = ast.parse(source[1:] if source.startswith("\ufeff") else source)
            except (SyntaxError, ValueError):
                return []  # flake8 reports E999 itself
        gate = ast_gate(tree, knowledge, where)
        if gate is None or not semantic_gate(tree, source, knowledge, where, gate):
            return []
        possible_wrappers = gate.wrappers
        # Only now: importing LibCST and the engine costs more than most files' checks,
        # and flake8 imports this plugin in every run, for every file.
        import libcst as cst

        # Big constant tables are collapsed before the parse (``literals.py``).
        collapsed = collapse_literal_tables(tree, source) if isinstance(tree, ast.Module) else None
        parsed, line_map = collapsed if collapsed is not None else (source, None)
        _check_size(tree if collapsed is None else None, parsed, settings.max_nodes)
        try:
            module = cst.parse_module(parsed)
        except cst.ParserSyntaxError:
            return []  # flake8 reports E999 itself
        _Counts.analysed += 1
        if project is not None:
            # What the whole project configures (``SERVER_NAME``) changes the tiers.
            knowledge = project.effective_knowledge(where.name)
        analysis = analyse(module, knowledge, where, source, possible_wrappers, line_map)
        findings = analysis.findings()
    return sorted(findings, key=lambda f: (f.line, f.column, f.code))


#: What counts as a token for the estimate before a parse (words, numbers, and each
#: other character that is not blank).
_TOKEN = re.compile(r"\w+|[^\w\s]")
#: The estimate declines a text of more than this many tokens per allowed node: only
#: texts far over the limit, whose ``ast`` alone would cost hundreds of megabytes.
TOKENS_PER_NODE = 3


def too_big_to_parse(source: str, limit: int) -> Optional[str]:
    """Why ``source`` is declined before ``ast.parse`` (whose own tree costs up to
    0.7 KB per node: 15 MB of code would take 10 GB), or None.  The tokens are counted
    by one regular expression in C; only texts longer than the limit are looked at."""
    if limit <= 0 or len(source) <= limit:
        return None
    tokens = _TOKEN.subn("", source)[1]
    if tokens <= TOKENS_PER_NODE * limit:
        return None
    return (
        f"about {tokens:,} tokens, far more than the {limit:,} syntax nodes allowed "
        "(--flask-ctx-max-nodes; 0: no limit)"
    )


def _check_size(tree: Optional[ast.AST], text: str, limit: int) -> None:
    """Decline a module whose LibCST tree would be too big (2-4 KB per ``ast`` node:
    150,000 nodes is about 0.6 GB); ``tree``: the module's ``ast``, None when ``text``
    was rewritten (collapsed tables) and must be parsed again to count."""
    if limit <= 0:
        return
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return
    if more_nodes_than(tree, limit):
        raise NotAnalysed(
            f"more than {limit:,} syntax nodes (--flask-ctx-max-nodes; 0: no limit)"
        )


def passes_ast_gate(tree: ast.AST, knowledge: Knowledge, where: "Placement") -> bool:
    return ast_gate(tree, knowledge, where) is not None


@dataclass(frozen=True)
class GateAnswer:
    """What the second gate found out on the way: the imported names that may be
    wrappers (the analysis looks up no other) and those that may be generators."""

    wrappers: FrozenSet[str]
    generators: FrozenSet[str]


def ast_gate(tree: ast.AST, knowledge: Knowledge, where: "Placement") -> Optional[GateAnswer]:
    """The second gate (``candidates.py``) with the module's project imports: all of
    them may be functions handed along; only those whose modules can dispatch (see
    ``may_be_wrapper``) may be wrappers or decorators that start a thread.  None: the
    module has no candidate site."""
    project = where.project
    if project is None:
        found = has_candidates(tree, knowledge)
        return GateAnswer(frozenset(), frozenset()) if found else None
    imports = project_imports(tree, project.top_level_names(), where.name, where.is_package)
    wrappers = frozenset(
        name for name, source in imports.items() if may_be_wrapper(project, knowledge, source)
    )
    generators = frozenset(
        name for name, source in imports.items() if may_be_generator(project, knowledge, source)
    )
    found = has_candidates(tree, knowledge, frozenset(imports), wrappers, generators)
    return GateAnswer(wrappers, generators) if found else None


def semantic_gate(
    tree: ast.AST, source: str, knowledge: Knowledge, where: "Placement", gate: GateAnswer
) -> bool:
    """The third gate (``semantic_gate.py``): may a site of this module reach a
    context-local?  On with ``FLASK_CTX_SEMANTIC_GATE=on``."""
    if not semantic_gate_enabled():
        return True
    # Only now: most runs never turn the gate on, and pay nothing for its modules.
    from ..index.project_taint import taint_for
    from ..index.semantic_gate import SemanticGate
    from ..index.taint import EXTENSION_PACKAGES

    project = where.project
    signals = all(
        project.mentions_anywhere(words) if project is not None
        else any(word in source for word in words)
        for words in SIGNAL_WORDS
    )
    if signals:
        # A signal's ``send`` runs its receivers (``engine/signals.py``); the summaries
        # have no edge from a signal to them, so a project with signals is let through.
        return True
    path = Path(where.filename) if where.filename else None
    same = path is not None and project is not None and same_as_on_disk(source, path)
    extensions = (
        project.mentions_anywhere(EXTENSION_PACKAGES) if project is not None
        else any(package in source for package in EXTENSION_PACKAGES)
    )
    found = taint_for(
        tree, source, knowledge, project, path, (where.name, where.is_package), same,
        extensions,
    )
    if found is None:
        return True
    taint, context = found
    sites = SemanticGate(tree, knowledge, taint, context, gate.wrappers, gate.generators)
    return sites.may_report()


#: Words of a project that may make signals and connect receivers to them (one of each
#: group: the semantic gate then lets every module through).
SIGNAL_WORDS = (("signal(",), (".connect(", ".connect\n", ".connect\r"))


@dataclass(frozen=True)
class Placement:
    """Where a checked module sits: its project (None: single-module analysis), its
    dotted name there, the name shown in messages, and whether it is a package."""

    filename: Optional[str]
    project: Optional[Project]
    name: Optional[str]
    display: str
    is_package: bool


def place(filename: Optional[str], knowledge: Knowledge, settings: Settings) -> Placement:
    project: Optional[Project] = None
    if settings.cross_module and (filename or settings.project_root):
        project = project_of(filename, knowledge, settings.project_root)
    name, display, is_package = None, Path(filename or "stdin").name, False
    if project is not None and filename:
        path = Path(filename)
        found, root = project.module_name(path)
        if found is not None and root is not None:
            name, display = found, project.display(path, root)
        is_package = path.name == "__init__.py"
    return Placement(filename, project, name, display, is_package)


def analyse(
    module: "cst.Module",
    knowledge: Knowledge,
    where: Placement,
    source: str,
    possible_wrappers: Optional[FrozenSet[str]] = None,
    line_map: Optional[Sequence[int]] = None,
) -> "ModuleAnalysis":
    """The analysis of a parsed module (``source``: its text; ``line_map``: the file's
    line of each line of ``module`` when it was parsed from a collapsed text),
    registered with its project (so an import cycle back to it lands on this text,
    not on the file on disk)."""
    from .analysis import ModuleAnalysis
    from ..engine.names import ModuleIndex

    index = ModuleIndex(module, knowledge, line_map, where.name, where.is_package)
    analysis = ModuleAnalysis(
        index, knowledge, where.project, where.name, where.display, where.is_package,
        possible_wrappers,
    )
    if where.project is not None and where.filename:
        where.project.pin(Path(where.filename), analysis.unit, source)
    return analysis


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    if previous < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
