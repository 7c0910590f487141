"""``flake8-flask-ctx --fix``: the rewrites that are safe, made with LibCST.

LibCST keeps every byte it is not asked to change (comments, formatting), so a fix is
a replacement of one expression node plus, if needed, one imported name:

* FCX100/FCX110 at a ``pool.submit(worker, ...)`` / ``Thread(target=worker)`` /
  ``Timer(t, worker)`` site in a view: ``copy_current_request_context(worker)``, wrapped
  per call (a fresh copy of the request context for every dispatch);
* FCX300: the streamed generator becomes ``stream_with_context(gen())``;
* FCX200 for ``current_app`` handed to a thread from a view:
  ``current_app._get_current_object()`` (the real app, which the worker can enter with
  ``app.app_context()``; not for processes and task queues, which cannot pickle it).

What is *not* rewritten, because the rewrite would not be safe: dispatches to processes
or task queues (the copied context cannot be pickled), dispatches outside a view
function, callables run many times (``map``), workers that read the request body
(``request.json``, ``form``, ``files``, ``data``, ``stream``: under a real server the
body may be gone when the worker runs after the response), and anything whose rewrite
would leave a new finding.  Every fixed file is checked again: if the fix does not
remove findings without adding one, the file is left as it was.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING, Any, Callable, Counter, Dict, List, Optional, Sequence, Set, Tuple,
)

import libcst as cst

from ..checker.check import (
    RECURSION_LIMIT, Placement, _recursion_limit, analyse, check_source, place,
)
from ..rules.crossing import CrossingFinder
from ..engine.dispatch import DispatchFinder
from ..engine.sites import DispatchSite
from ..knowledge import Knowledge
from ..knowledge.contexts import Tier
from ..knowledge.dispatchers import FIXABLE_EXECUTOR_KEYS, ReceiverType, FIXABLE_THREAD_CALLS
from ..engine.names import ModuleIndex
from ..engine.chains import Reached
from ..engine.resolution import Resolver
from ..options.reading import read_regular_file
from ..options.settings import Settings
from ..rules.advice import site_advice
from ..rules.streaming import StreamFinder, is_view

if TYPE_CHECKING:  # pragma: no cover
    from .selection import Selection

Rewrite = Callable[[cst.BaseExpression], cst.BaseExpression]


@dataclass
class Plan:
    """The edits for one module: node -> rewrite, and the names to import from flask."""

    edits: Dict[cst.CSTNode, Rewrite] = field(default_factory=dict)
    imports: Set[str] = field(default_factory=set)
    #: The flask name each edit needs imported (``copy_current_request_context``).
    needs: Dict[cst.CSTNode, str] = field(default_factory=dict)
    #: Where each edit's node is (line, 0-based column): the finding it fixes is there.
    where: Dict[cst.CSTNode, Tuple[int, int]] = field(default_factory=dict)


def fix_source(
    source: str,
    knowledge: Knowledge,
    filename: Optional[str],
    settings: Settings,
    max_line_length: int = 0,
    reported: Optional[Callable[[str, int], bool]] = None,
) -> str:
    """The fixed text of one module (``source`` itself when nothing is safely fixable).
    ``max_line_length`` (0: none): a rewrite that would make a line longer than that is
    not offered (the project's own line-length check would fail on it).
    ``reported(code, line)``: whether a finding is reported (selection, ``noqa``); a
    finding that is not is not fixed either."""
    before = check_source(source, knowledge, filename, settings)
    if not any(f.code in ("FCX100", "FCX110", "FCX200", "FCX300") for f in before):
        return source
    with _recursion_limit(RECURSION_LIMIT):
        try:
            module = cst.parse_module(source)
        except cst.ParserSyntaxError:
            return source
        plan = _plan(module, knowledge, place(filename, knowledge, settings), source)
        if reported is not None:
            plan = _only_reported(plan, before, reported)
        if max_line_length > 0:
            plan = _within_length(module, plan, source, max_line_length)
        if not plan.edits:
            return source
        fixed = _apply(module, plan)
    fixed = _with_final_line_end(source, fixed)
    after = check_source(fixed, knowledge, filename, settings)
    if not _improves(before, after):
        return source
    return fixed


def _within_length(module: cst.Module, plan: Plan, source: str, limit: int) -> Plan:
    """The edits of ``plan`` that make no line longer than ``limit`` (lines that were
    already longer do not count), each tried on its own with the import it needs."""

    def too_long(text: str) -> Counter[str]:
        return Counter(line for line in text.splitlines() if len(line) > limit)

    already = too_long(source)
    kept = [
        node for node in plan.edits
        if not too_long(_apply(module, _subset(plan, [node]))) - already
    ]
    # Each fits alone; together they may not (two on one line, one longer import):
    # the last ones go until the rest fit.
    while kept and too_long(_apply(module, _subset(plan, kept))) - already:
        kept.pop()
    return _subset(plan, kept)


def _subset(plan: Plan, nodes: Sequence[cst.CSTNode]) -> Plan:
    """A fresh plan of ``nodes``' edits and the imports they need (``_apply`` uses up
    a plan's imports)."""
    chosen = Plan()
    for node in nodes:
        chosen.edits[node] = plan.edits[node]
        if node in plan.needs:
            chosen.needs[node] = plan.needs[node]
            chosen.imports.add(plan.needs[node])
        if node in plan.where:
            chosen.where[node] = plan.where[node]
    return chosen


def _only_reported(
    plan: Plan, findings: Sequence[Any], reported: Callable[[str, int], bool]
) -> Plan:
    """The edits whose finding is reported: one silenced by the selection, the
    per-file ignores or a ``noqa`` comment is the user's decision, not a thing to fix."""
    shown = {
        (f.line, f.column) for f in findings if reported(f.code, f.line)
    }
    return _subset(plan, [node for node in plan.edits if plan.where.get(node) in shown])


def _with_final_line_end(source: str, fixed: str) -> str:
    """``fixed`` ending as ``source`` ends.  LibCST keeps every line's own ending but
    drops a final lone ``\r`` (a file of old-Mac line ends): put it back."""
    for end in ("\r\n", "\r", "\n"):
        if source.endswith(end):
            return fixed if fixed.endswith(end) else fixed.rstrip("\r\n") + end
    return fixed


def _improves(before: Sequence[object], after: Sequence[object]) -> bool:
    old = Counter(getattr(f, "code") for f in before)
    new = Counter(getattr(f, "code") for f in after)
    return sum(new.values()) < sum(old.values()) and all(new[c] <= old[c] for c in new)


def _plan(module: cst.Module, knowledge: Knowledge, where: Placement, source: str) -> Plan:
    analysis = analyse(module, knowledge, where, source)
    index = analysis.index
    resolver, reach = analysis.resolver, analysis.reach
    plan = Plan()
    bound = _module_bindings(module)
    for site in DispatchFinder(index, resolver, knowledge).sites():
        found = reach.first_reads(site.targets, site.carried)
        if found and _wrappable(site, index, resolver, found, bound):
            plan.edits[site.report_at] = _wrap("copy_current_request_context")
            plan.imports.add("copy_current_request_context")
            plan.needs[site.report_at] = "copy_current_request_context"
            plan.where[site.report_at] = (index.line(site.report_at), index.column(site.report_at))
        for crossing in CrossingFinder(index, resolver, knowledge).crossings(site):
            if (
                crossing.code == "FCX200"
                and crossing.what == "flask.current_app"
                and isinstance(crossing.node, (cst.Name, cst.Attribute))
                and _same_process_from_view(site, index, resolver)
            ):
                plan.edits.setdefault(crossing.node, _real_object)
                plan.where[crossing.node] = (index.line(crossing.node), index.column(crossing.node))
    for site in StreamFinder(index, resolver).sites():
        found = reach.first_reads(site.targets)
        if found and "stream_with_context" not in bound and isinstance(
            site.report_at, (cst.Call, cst.GeneratorExp)
        ):
            plan.edits[site.report_at] = _wrap("stream_with_context")
            plan.imports.add("stream_with_context")
            plan.needs[site.report_at] = "stream_with_context"
            plan.where[site.report_at] = (index.line(site.report_at), index.column(site.report_at))
    return plan


def _wrappable(
    site: DispatchSite,
    index: ModuleIndex,
    resolver: Resolver,
    found: Dict[Tier, Reached],
    bound: Set[str],
) -> bool:
    """A thread dispatch in a view, of a callable that reads no request body."""
    if site.report_inside or site.wrappers or site.runs_many or site.call is None:
        return False
    if "copy_current_request_context" in bound or site.report_at is not _argument(site):
        return False
    function = index.enclosing(site.call, (cst.FunctionDef,))
    if function is None or not is_view(function):
        return False
    if index.enclosing(site.call, (cst.For, cst.While)) is not None:
        return False
    if not _thread_dispatch(site.call, index, resolver):
        return False
    # The judgement the messages share: the message at this site advises the copy
    # exactly when nothing here blocks it.
    advice = site_advice(site, index, [reached.read.text for reached in found.values()])
    return advice.copy_blocker is None


def _same_process_from_view(site: DispatchSite, index: ModuleIndex, resolver: Resolver) -> bool:
    """The real app object can be handed to a thread of this process, from a view (a
    process or task queue would have to pickle it, which fails)."""
    if site.report_inside or site.call is None:
        return False
    function = index.enclosing(site.call, (cst.FunctionDef,))
    return (
        function is not None
        and is_view(function)
        and _thread_dispatch(site.call, index, resolver)
    )


def _argument(site: DispatchSite) -> Optional[cst.CSTNode]:
    """The callable argument itself (a site reported at a decorator is not one)."""
    if site.call is None:
        return None
    for arg in site.call.args:
        if arg.value is site.report_at:
            return arg.value
    return None


def _thread_dispatch(call: cst.Call, index: ModuleIndex, resolver: Resolver) -> bool:
    func = call.func
    if isinstance(func, (cst.Name, cst.Attribute)):
        if index.qualified_names_any(func) & FIXABLE_THREAD_CALLS:
            return True
    if isinstance(func, cst.Attribute) and func.attr.value == "submit":
        kind = resolver.receiver_kind(func.value)
        return isinstance(kind, ReceiverType) and kind.key in FIXABLE_EXECUTOR_KEYS
    return False


def _module_bindings(module: cst.Module) -> Set[str]:
    """Names the module binds at top level other than by ``from flask import``: a fix
    that needs one of them is not made (the import would shadow or be shadowed)."""
    names: Set[str] = set()
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            names.add(target.target.value)
                elif isinstance(small, (cst.Import, cst.ImportFrom)) and not _is_flask(small):
                    if isinstance(small.names, cst.ImportStar):
                        continue
                    for alias in small.names:
                        bound = alias.asname.name if alias.asname else alias.name
                        if isinstance(bound, cst.Name):
                            names.add(bound.value)
    return names


def _is_flask(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.ImportFrom)
        and not node.relative
        and isinstance(node.module, cst.Name)
        and node.module.value == "flask"
    )


def _wrap(name: str) -> Rewrite:
    def rewrite(expr: cst.BaseExpression) -> cst.BaseExpression:
        return cst.Call(func=cst.Name(name), args=[cst.Arg(expr)])

    return rewrite


def _real_object(expr: cst.BaseExpression) -> cst.BaseExpression:
    return cst.Call(func=cst.Attribute(value=expr, attr=cst.Name("_get_current_object")))


class _Rewriter(cst.CSTTransformer):
    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self.flask_import_done = False

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode:
        rewrite = self.plan.edits.get(original_node)
        if rewrite is not None and isinstance(updated_node, cst.BaseExpression):
            return rewrite(updated_node)
        if isinstance(updated_node, cst.ImportFrom) and _is_flask(updated_node):
            return self._extend(updated_node)
        return updated_node

    def _extend(self, node: cst.ImportFrom) -> cst.ImportFrom:
        if self.flask_import_done or isinstance(node.names, cst.ImportStar):
            return node
        have = {a.name.value for a in node.names if isinstance(a.name, cst.Name) and not a.asname}
        missing = sorted(self.plan.imports - have)
        self.flask_import_done = True
        self.plan.imports -= have
        if not missing:
            return node
        names = list(node.names)
        last = names[-1]
        names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        names.extend(cst.ImportAlias(name=cst.Name(m)) for m in missing)
        names[-1] = names[-1].with_changes(comma=last.comma)
        self.plan.imports -= set(missing)
        return node.with_changes(names=names)


def _apply(module: cst.Module, plan: Plan) -> str:
    rewriter = _Rewriter(plan)
    updated = module.visit(rewriter)
    if plan.imports and isinstance(updated, cst.Module):
        line = cst.parse_statement(f"from flask import {', '.join(sorted(plan.imports))}\n")
        body = list(updated.body)
        position = 0
        for number, statement in enumerate(body):
            if isinstance(statement, cst.SimpleStatementLine) and any(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
            ):
                position = number + 1
            elif number == 0 and _is_docstring(statement):
                position = 1
        body.insert(position, line)
        updated = updated.with_changes(body=body)
    return updated.code if isinstance(updated, cst.Module) else module.code


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def unified_diff(path: str, before: str, after: str) -> str:
    """A patch ``git apply`` and ``patch -p1`` take: ``a/`` and ``b/`` before the path
    as written from the current directory, with ``/`` separators and no ``./``."""
    shown = Path(os.path.normpath(path)).as_posix()
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True),
            fromfile=f"a/{shown}", tofile=f"b/{shown}",
        )
    )


@dataclass
class FixResult:
    """What ``fix_files`` did: the files changed (or that would be), their diffs, and
    one line for each file it could not check (the exit status is then 2)."""

    changed: List[str] = field(default_factory=list)
    diffs: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)


def fix_files(
    files: Sequence[str],
    knowledge: Knowledge,
    settings: Settings,
    write: bool,
    max_line_length: int = 0,
    selection: Optional["Selection"] = None,
) -> FixResult:
    """Fix ``files`` (write them, or not).  A fixed file keeps every byte outside the
    rewrite: its encoding and BOM, and each line's own ending (LibCST keeps them; the
    inserted import takes the module's usual one)."""
    from .unreadable import parse_source, read_source

    result = FixResult()
    for path in files:
        source, problem = read_source(path)
        if source is None:
            result.problems.append(problem or f"{path}: not checked")
            continue
        _, problem = parse_source(source, path)
        if problem is not None:
            result.problems.append(problem)
            continue
        try:
            fixed = fix_source(
                source, knowledge, path, settings, max_line_length,
                reported_in(source, path, selection),
            )
        except Exception as error:  # never lose a file to a fixer bug
            result.problems.append(f"{path}: not fixed ({type(error).__name__}: {error})")
            continue
        if fixed == source:
            continue
        result.changed.append(path)
        result.diffs.append(unified_diff(path, source, fixed))
        if write:
            data = read_regular_file(path)
            Path(path).write_bytes(fixed.encode(_encoding(data)))
    return result


def reported_in(
    source: str, path: str, selection: Optional["Selection"]
) -> Callable[[str, int], bool]:
    """Whether a finding of ``path`` is reported: selected for the file, and not
    silenced by a ``noqa`` comment on its line (or ``# flake8: noqa``)."""
    from .noqa import NoqaLines

    noqa = NoqaLines(source)
    ignored = noqa.file_ignored()

    def reported(code: str, line: int) -> bool:
        if ignored or noqa.suppressed(line, code):
            return False
        return selection is None or selection.reports(code, path)

    return reported


def _encoding(data: bytes) -> str:
    import io
    import tokenize

    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return "utf-8-sig" if encoding == "utf-8-sig" else encoding
