"""The engine's front: dispatch sites -> what they reach -> findings.

Every code asks one expensive question, *what does this dispatched callable reach?*,
so one ``ModuleAnalysis`` per file answers it once for all codes:
``dispatch.DispatchFinder`` finds where callables leave the request,
``resolution.Resolver`` says which functions they are, and ``reach.Reach`` walks what
those functions read.  This module only turns the answers into ``Finding``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from . import codes
from .dispatch import DispatchFinder, DispatchSite
from .knowledge import Knowledge, Tier
from .names import ModuleIndex
from .reach import Reach, Reached
from .resolution import Resolver
from .streaming import StreamFinder

TIER_CODES = {Tier.REQUEST: "FCX100", Tier.APP: "FCX110"}


@dataclass(frozen=True)
class Finding:
    """One diagnostic, positioned as flake8 wants it (1-based line, 0-based column)."""

    line: int
    column: int
    code: str
    message: str


class ModuleAnalysis:
    """All findings of one module.  Create one per file."""

    def __init__(self, index: ModuleIndex, knowledge: Knowledge) -> None:
        self.index = index
        self.knowledge = knowledge
        self.resolver = Resolver(index, knowledge)
        self.reach = Reach(index, self.resolver, knowledge)

    def findings(self) -> List[Finding]:
        results: List[Finding] = []
        for site in DispatchFinder(self.index, self.resolver, self.knowledge).sites():
            found = self.reach.first_reads(site.targets, site.carried)
            for tier, code in TIER_CODES.items():
                reached = found.get(tier)
                if reached is not None:
                    results.append(self._finding(site, code, reached))
        for site in StreamFinder(self.index, self.resolver).sites():
            found = self.reach.first_reads(site.targets)
            reached = found.get(Tier.REQUEST) or found.get(Tier.APP)
            if reached is not None:
                results.append(self._finding(site, "FCX300", reached))
        return results

    def _finding(self, site: DispatchSite, code: str, reached: Reached) -> Finding:
        chain = " -> ".join(f"{label} at line {line}" for label, line, _ in reached.chain)
        message = codes.reach_message(
            code=code,
            local=reached.read.local,
            callable_name=reached.root.label,
            mechanism=site.mechanism,
            read_text=reached.read.text,
            read_line=reached.read.line,
            chain=chain,
            task=site.report_inside,
        )
        if site.report_inside:
            # A task body: report inside it, where the read (or the call leading to
            # it) is, since no dispatch site exists to point at.
            if reached.chain:
                _, line, column = reached.chain[0]
            else:
                line, column = reached.read.line, reached.read.column
            return Finding(line, column, code, message)
        return Finding(
            self.index.line(site.report_at), self.index.column(site.report_at), code, message
        )
