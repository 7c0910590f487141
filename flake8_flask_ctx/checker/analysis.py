"""The engine's front: dispatch sites -> what they reach -> findings.

Every code asks one expensive question, *what does this dispatched callable reach?*,
so one ``ModuleAnalysis`` per file answers it once for all codes:
``dispatch.DispatchFinder`` finds where callables leave the request,
``resolution.Resolver`` says which functions they are, and ``reach.Reach`` walks what
those functions read.  This module only turns the answers into ``Finding``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from ..rules import codes
from ..rules.headlines import headline_of
from ..engine.dispatch import DispatchFinder
from ..engine.forwarded import worker_call
from ..engine.sites import DispatchSite
from ..knowledge import Knowledge
from ..knowledge.contexts import Tier
from ..engine.names import ModuleIndex
from ..index.project import Project
from ..engine.units import ModuleUnit
from ..engine.chains import Chain, Reached
from ..engine.context_helpers import CopyContextChecks
from ..rules.crossing import CrossingFinder
from ..rules.streaming import StreamFinder

TIER_CODES = {Tier.REQUEST: "FCX100", Tier.APP: "FCX110"}


@dataclass(frozen=True)
class Step:
    """One place on the way from a finding's site to its read: a call of a helper or
    the read itself.  ``path``: the file, None for the checked one."""

    message: str
    path: Optional[str]
    line: int
    column: int


@dataclass(frozen=True)
class Finding:
    """One diagnostic, positioned as flake8 wants it (1-based line, 0-based column).
    ``steps``: the whole chain, for the formats that can show one (JSON, SARIF); the
    message names only its first and last hops when it is long."""

    line: int
    column: int
    code: str
    message: str
    steps: Tuple[Step, ...] = ()

    @property
    def headline(self) -> str:
        """The message without its chain and advice (``rules/headlines.py``)."""
        return headline_of(self.message)


#: A chain of more hops than this is shortened in the message (the first and last
#: hops, and how many lie between); JSON and SARIF carry all of them.
MAX_MESSAGE_HOPS = 6


class ModuleAnalysis:
    """All findings of one module.  Create one per file."""

    def __init__(
        self,
        index: ModuleIndex,
        knowledge: Knowledge,
        project: Optional[Project] = None,
        name: Optional[str] = None,
        display: str = "",
        is_package: bool = False,
        possible_wrappers: Optional[FrozenSet[str]] = None,
    ) -> None:
        self.index = index
        self.knowledge = knowledge
        self.possible_wrappers = possible_wrappers
        self.unit = ModuleUnit(project, index, name, display, is_package)
        self.resolver = self.unit.resolver
        self.reach = self.unit.reach

    def findings(self) -> List[Finding]:
        results: List[Finding] = []
        sites = DispatchFinder(
            self.index, self.resolver, self.knowledge,
            possible_wrappers=self.possible_wrappers,
        ).sites()
        for site in sites:
            found = self.reach.first_reads(
                site.targets, site.carried, worker_call(site),
                isinstance(site.report_at, cst.Attribute),
            )
            for tier, code in TIER_CODES.items():
                reached = found.get(tier)
                if reached is not None:
                    results.append(self._finding(site, code, reached))
            results.extend(self._crossings(site))
            results.extend(self._copied_g(site))
            results.extend(self._fake_requests(site))
        for site in StreamFinder(self.index, self.resolver).sites():
            found = self.reach.first_reads(site.targets)
            reached = found.get(Tier.REQUEST) or found.get(Tier.APP)
            if reached is not None:
                results.append(self._finding(site, "FCX300", reached))
            results.extend(self._streamed_crossings(site))
        results.extend(self._copy_misuse(sites))
        return _unique(results)

    # -- FCX200 / FCX210 ------------------------------------------------------------

    def _crossings(self, site: DispatchSite) -> List[Finding]:
        if site.report_inside:
            return []  # a task body: its arguments come from elsewhere
        name = _callable_name(site, self.index)
        found: List[Finding] = []
        for crossing in CrossingFinder(self.index, self.resolver, self.knowledge).crossings(site):
            if crossing.code == "FCX200" and site.wrappers and not site.targets:
                continue  # the copied request context resolves the proxy in the worker
            message = codes.crossing_message(
                crossing.code, crossing.what, crossing.how, name, site.mechanism
            )
            found.append(self._at(crossing.node, crossing.code, message))
        if not site.wrappers:
            for target in site.targets:
                for node, local in self.reach.facts(target).closures:
                    message = codes.crossing_message(
                        "FCX200", local, f"closed over as {node.value}", target.label,
                        site.mechanism,
                    )
                    found.append(self._at(node, "FCX200", message))
        return found

    def _streamed_crossings(self, site: DispatchSite) -> List[Finding]:
        """What the view hands the generator it streams (``rows(products)``): used while
        the body is iterated, after the view's contexts were popped."""
        if not isinstance(site.report_at, cst.Call):
            return []
        finder = CrossingFinder(self.index, self.resolver, self.knowledge)
        streams = StreamFinder(self.index, self.resolver)
        found: List[Finding] = []
        for arg in site.report_at.args:
            crossing = finder.classify(arg.value, "passed to the streamed generator")
            if crossing is not None:
                message = codes.crossing_message(
                    crossing.code, crossing.what, crossing.how, _callable_name(site, self.index),
                    site.mechanism,
                )
                found.append(self._at(crossing.node, crossing.code, message))
                continue
            # ``stream(products)`` with ``products = _product_stream(query)``: the inner
            # generator runs while the outer one streams, and uses what it was given
            # then; reported where the view hands it over.
            for call, target in streams.generators_in(arg.value):
                for inner in call.args:
                    value = self.index.value_before_rewrap(inner.value, call)
                    crossing = finder.classify(value, "passed to the streamed generator")
                    if crossing is not None:
                        message = codes.crossing_message(
                            crossing.code, crossing.what, crossing.how, target.label,
                            site.mechanism,
                        )
                        found.append(self._at(arg.value, crossing.code, message))
        return found

    # -- FCX400 / FCX410 / FCX420 ---------------------------------------------------

    def _copy_misuse(self, sites: List[DispatchSite]) -> List[Finding]:
        checks = CopyContextChecks(self.index)
        found = [
            self._at(node, "FCX400", codes.import_time_copy_message())
            for node in checks.import_time_wrappers()
        ]
        for wrapper, why in checks.reused_wrappers(sites).items():
            using = next(s for s in sites if wrapper in s.wrappers)
            if using.shared_copy:
                message = codes.shared_copy_message(_callable_name(using), using.mechanism)
            else:
                message = codes.copy_run_many_message(_callable_name(using), why)
            found.append(self._at(wrapper, "FCX400", message))
        return found

    def _copied_g(self, site: DispatchSite) -> List[Finding]:
        if not site.wrapped_targets or site.shared_copy:
            return []  # Flask-Executor copies g into its app context
        reached = self.reach.first_read_of(site.wrapped_targets, "flask.g")
        if reached is None or not self._here(reached.unit):
            return []  # the read is in another module: no line of this file to point at
        chain = self._chain(reached.chain)
        message = codes.copied_g_message(reached.root.label, reached.read.text, chain)
        return [Finding(reached.read.line, reached.read.column, "FCX410", message)]

    def _fake_requests(self, site: DispatchSite) -> List[Finding]:
        name = _callable_name(site)
        return [
            self._at(with_node, "FCX420", codes.fake_request_message(name, site.mechanism))
            for with_node in self.reach.fake_requests(site.targets)
            if self._owns(with_node)
        ]

    def _here(self, unit: Optional[ModuleUnit]) -> bool:
        """Whether ``unit`` is this module.  Not only by identity: another module's
        cached unit may have loaded this file from disk before this check (its own
        twin); what was reached there is on this file's lines all the same, and the
        result must not depend on the order files are checked in."""
        if unit is None or unit is self.unit:
            return True
        mine = self.unit
        return (
            mine.name is not None
            and unit.name == mine.name
            and unit.project is mine.project
            and unit.display == mine.display
        )

    def _owns(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` is in this module (not reached in another one)."""
        return self.index.parent(node) is not None or node is self.index.module

    def _where(self, unit: Optional[ModuleUnit], line: int) -> str:
        """``line 12`` in this module, ``app/services.py:12`` in another one."""
        if self._here(unit) or unit is None:
            return f"line {line}"
        return f"{unit.display}:{line}"

    def _chain(self, chain: Chain) -> str:
        """``a() at line 3 -> b() at app/x.py:9``; past ``MAX_MESSAGE_HOPS`` hops, the
        first three and the last two with the count between (a 1,000-helper chain
        made a 38 KB line)."""
        hops = [f"{hop.label} at {self._where(hop.unit, hop.line)}" for hop in (
            chain if len(chain) <= MAX_MESSAGE_HOPS else (*chain[:3], *chain[-2:])
        )]
        if len(chain) > MAX_MESSAGE_HOPS:
            hops.insert(3, f"... {len(chain) - 5} more hops ...")
        return " -> ".join(hops)

    def _steps(self, reached: Reached) -> Tuple[Step, ...]:
        """Every hop of ``reached`` and its read, with their files."""
        steps = [
            Step(f"calls {hop.label}", self._path(hop.unit), hop.line, hop.column)
            for hop in reached.chain
        ]
        read = reached.read
        steps.append(Step(
            f"reads {read.text}", self._path(reached.unit), read.line, read.column
        ))
        return tuple(steps)

    def _path(self, unit: Optional[ModuleUnit]) -> Optional[str]:
        """The file of ``unit`` (None: this module, or unknown)."""
        if self._here(unit) or unit is None or unit.project is None or unit.name is None:
            return None
        located = unit.project.file_of(unit.name)
        return str(located[0]) if located is not None else None

    def _start_method(self, site: DispatchSite) -> Optional[str]:
        """The start method the code chose for the process of ``site``: that of
        ``ctx = multiprocessing.get_context("spawn")`` when the call is ``ctx.Process``
        (or ``ctx.Pool(...).map``...), else one ``set_start_method("...")`` in this module
        sets; None when the code leaves it to the platform."""
        call = site.call
        receiver = call.func.value if call is not None and isinstance(
            call.func, cst.Attribute) else None
        seen = 0
        while receiver is not None and seen < 4:
            seen += 1
            if isinstance(receiver, cst.Call):
                method = _called_name(receiver.func)
                if method in ("get_context", "set_start_method"):
                    return _first_string(receiver)
                receiver = receiver.func.value if isinstance(
                    receiver.func, cst.Attribute) else None
            elif isinstance(receiver, cst.Name):
                values = [v for v in self.index.bindings(receiver) if isinstance(v, cst.Call)]
                receiver = values[0] if len(values) == 1 else None
            else:
                break
        for node in self.index.calls:
            if _called_name(node.func) == "set_start_method":
                return _first_string(node)
        return None

    def _at(self, node: cst.CSTNode, code: str, message: str) -> Finding:
        return Finding(self.index.line(node), self.index.column(node), code, message)

    def _finding(self, site: DispatchSite, code: str, reached: Reached) -> Finding:
        from ..rules.advice import site_advice

        chain = self._chain(reached.chain)
        advice = site_advice(site, self.index, [reached.read.text])
        message = codes.reach_message(
            code=code,
            local=reached.read.local,
            callable_name=reached.root.label,
            mechanism=site.mechanism,
            read_text=reached.read.text,
            read_where=self._where(reached.unit, reached.read.line) + _branch(reached),
            chain=chain,
            task=site.report_inside,
            in_process=site.in_process,
            advice=codes.Advice(
                advice.outside_requests, advice.other_process, advice.copy_blocker
            ),
            # A function (``url_for``, ``flash``) is called, a proxy is read.
            called=reached.read.local in self.knowledge.context_locals
            and reached.read.local not in self.knowledge.proxy_objects,
            stored=reached.read.store,
            start_method=self._start_method(site) if site.in_process else None,
        )
        if site.report_inside:
            # A task body: report inside it, where the read (or the call leading to
            # it) is, since no dispatch site exists to point at.
            if reached.chain:
                line, column = reached.chain[0].line, reached.chain[0].column
            else:
                line, column = reached.read.line, reached.read.column
            return Finding(line, column, code, message, self._steps(reached))
        return Finding(
            self.index.line(site.report_at), self.index.column(site.report_at), code, message,
            self._steps(reached),
        )


def _callable_name(site: DispatchSite, index: Optional[ModuleIndex] = None) -> str:
    """The callable's label; for a library or unknown callable (``print``,
    ``s3.upload_fileobj``), its spelling at the site."""
    targets = site.targets or site.wrapped_targets
    if targets:
        return targets[0].label
    if index is not None and isinstance(site.report_at, (cst.Name, cst.Attribute)):
        return index.code(site.report_at, 40) + "()"
    return "the callable"


def _unique(findings: List[Finding]) -> List[Finding]:
    """One diagnostic per (place, code): several sites may reach the same read."""
    seen: Set[Tuple[int, int, str]] = set()
    unique: List[Finding] = []
    for finding in findings:
        key = (finding.line, finding.column, finding.code)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _called_name(func: cst.BaseExpression) -> Optional[str]:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def _first_string(call: cst.Call) -> Optional[str]:
    """The first argument of ``call`` when it is a plain string literal."""
    if call.args and isinstance(call.args[0].value, cst.SimpleString):
        value = call.args[0].value.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _branch(reached: Reached) -> str:
    """``, only if <test> (line N)`` when the read sits under a condition of its own
    function: the report then rests on a branch the linter does not evaluate (a branch
    that is dead today is still reported, and the message says what it depends on)."""
    read = reached.read
    index = read.index
    child: cst.CSTNode = read.node
    for ancestor in index.ancestors(read.node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return ""
        if isinstance(ancestor, cst.If) and child is not ancestor.test:
            positive = child is ancestor.body
            test = index.code(ancestor.test, 40)
            word = "if" if positive else "unless"
            return f", only {word} {test} (line {index.line(ancestor)})"
        child = ancestor
    return ""
