"""Compare a fixture's markers with what Flask did when it ran.

The rule (per fixture):

* every observation of an always-a-problem kind (an unrelated crash in a worker, the view
  failing by itself, work that never finished, an import failure) is a disagreement;
* observed kinds must be a subset of the kinds the markers predict -- so a fixture without
  markers must observe nothing at all;
* each marker code must be proven by at least one observation of one of its kinds, except
  a code that only appears on lines also carrying another code: a worker reading both
  tiers fails at its first read and never reaches the second;
* a code the harness cannot check (see :data:`runtime.kinds.CODE_KINDS`) is not checked,
  and the verdict says so in its notes.

Pure functions of the markers and the harness output, so the rule is unit-tested without
running anything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set

from expectations import Expected
from runtime import kinds
from runtime.probes import Observation

if TYPE_CHECKING:  # harness imports this module lazily; no cycle at run time either way
    from runtime.harness import HarnessRun

POSITIVE = "positive"
NEGATIVE = "negative"


@dataclass
class Verdict:
    """What one fixture expected, what Flask did, and where they disagree."""

    fixture: str
    category: str
    expected: List[Expected]
    observations: List[Observation]
    routes: List[str]
    completed: List[Dict[str, str]] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def observed_kinds(self) -> Counter[str]:
        return Counter(o.kind for o in self.observations)

    def headline(self) -> str:
        markers = ", ".join(f"{e.code}@{e.line}" for e in self.expected) or "no markers"
        seen = ", ".join(f"{k} x{n}" for k, n in sorted(self.observed_kinds().items()))
        return f"{self.fixture}: {self.category} ({markers}); observed {seen or 'nothing'}"

    def work_summary(self) -> str:
        """``Thread running w() x2 (raised RuntimeError)``: proof the workers really ran."""
        counts = Counter(
            f"{c['work']}" + (f" (failed: {c['raised']})" if c.get("raised") else "")
            for c in self.completed
        )
        return "; ".join(f"{work} x{n}" for work, n in sorted(counts.items()))

    def report(self) -> str:
        lines = [self.headline()]
        if self.problems:
            lines.append("disagreements:")
            lines.extend(f"  - {p}" for p in self.problems)
        if self.observations:
            lines.append("what happened:")
            lines.extend(f"  - {o.kind}: {o.describe()}" for o in self.observations)
        lines.append("routes driven: " + ("; ".join(self.routes) or "none"))
        lines.append("dispatched work that ran: " + (self.work_summary() or "none"))
        if self.notes:
            lines.append("notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        if self.stderr_tail and self.problems:
            lines.append("fixture stderr (tail):")
            lines.extend(f"  | {line}" for line in self.stderr_tail.splitlines())
        return "\n".join(lines)


def _observations(raw: Iterable[Mapping[str, Any]]) -> List[Observation]:
    """Rebuilt from JSON, in a stable order (threads finish in any order)."""
    fields = set(Observation.__dataclass_fields__)
    observations = [
        Observation(**{k: str(v) for k, v in item.items() if k in fields}) for item in raw
    ]
    return sorted(observations, key=lambda o: (o.route, o.where, o.source, o.kind, o.thread))


def judge(fixture: str, expected: Sequence[Expected], run: HarnessRun) -> Verdict:
    """Verdict for one isolated harness run of ``fixture``."""
    result: Optional[Dict[str, Any]] = run.result
    verdict = Verdict(
        fixture=fixture,
        category=POSITIVE if expected else NEGATIVE,
        expected=list(expected),
        observations=_observations(run.observations),
        routes=list(result.get("routes", [])) if result else [],
        completed=list(result.get("completed", [])) if result else [],
        stderr_tail="\n".join(run.stderr.strip().splitlines()[-12:]),
    )
    failure = run.failure()
    if failure:
        verdict.problems.append(f"the fixture could not be run: {failure}")
    if result and result.get("gate_fallbacks"):
        verdict.notes.append(
            f"{result['gate_fallbacks']} held worker(s) were released by the fallback timeout: "
            "the view blocked on something the gate does not recognise"
        )
    apply_rule(verdict)
    return verdict


def apply_rule(verdict: Verdict) -> None:
    """Fill ``verdict.problems``/``notes`` from its markers and observations."""
    codes_by_line: Dict[int, Set[str]] = defaultdict(set)
    for marker in verdict.expected:
        codes_by_line[marker.line].add(marker.code)
    codes = sorted({m.code for m in verdict.expected})
    predicted_by: Dict[str, Set[str]] = defaultdict(set)
    for marker in verdict.expected:
        predicted_by[marker.code] |= kinds.marker_kinds(marker.code, marker.fragment) or set()
    unverifiable = [c for c in codes if c not in kinds.CODE_KINDS]
    allowed: Set[str] = set()
    for code in codes:
        allowed |= predicted_by[code]
    observed = set(verdict.observed_kinds())

    for observation in verdict.observations:
        if observation.kind in kinds.ALWAYS_A_PROBLEM:
            verdict.problems.append(f"{_explain(observation.kind)}: {observation.describe()}")
        elif observation.kind not in allowed:
            text = f"unexpected {observation.kind} failure: {observation.describe()}"
            if unverifiable:
                verdict.notes.append(f"{text} (perhaps {', '.join(unverifiable)}, not checked)")
            elif verdict.category == NEGATIVE:
                verdict.problems.append(f"no marker, yet Flask failed: {observation.describe()}")
            else:
                wanted = ", ".join(sorted(allowed))
                verdict.problems.append(f"{text}; the markers only predict {wanted}")

    for code in codes:
        lines = sorted(m.line for m in verdict.expected if m.code == code)
        where = ", ".join(f"line {n}" for n in lines)
        predicted = predicted_by[code] if code in kinds.CODE_KINDS else None
        if predicted is None:
            verdict.notes.append(f"{code} ({where}) cannot be checked at run time")
            continue
        if predicted & observed:
            continue
        if all(codes_by_line[n] - {code} for n in lines):
            others: Set[str] = set()
            for n in lines:
                others |= codes_by_line[n] - {code}
            verdict.notes.append(
                f"{code} ({where}) not observed: that line also carries "
                f"{', '.join(sorted(others))}, and a worker fails at its first read only"
            )
            continue
        kinds_text = " or ".join(sorted(predicted))
        verdict.problems.append(
            f"{code} ({where}) expects a failure of kind {kinds_text}, but Flask raised none"
            + ("" if verdict.observations else " (nothing failed anywhere)")
        )


def _explain(kind: str) -> str:
    return {
        kinds.OTHER: "a worker failed for an unrelated reason (the fixture proves nothing)",
        kinds.VIEW_ERROR: "fixture bug: the view failed (it must succeed with the harness's input)",
        kinds.HUNG: "work started by the request never finished",
        kinds.IMPORT_ERROR: "the fixture cannot be imported here ('# runtime: skip <reason>'?)",
    }.get(kind, kind)
