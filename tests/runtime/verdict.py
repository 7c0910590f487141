"""Compare a fixture's markers with what Flask did when it ran.

The rule (per fixture).  Every observation carries its *sites*: the fixture lines of the
calls that led to it -- the dispatch (``pool.submit(work)``, where a thread was built,
``q.enqueue``...), the failing frames, a streamed body's ``Response(gen())`` or
``return gen()`` (see :mod:`runtime.sites`).  Then:

* every observation of an always-a-problem kind (an unrelated crash in a worker, the view
  failing by itself, work that never finished or was never started, an import failure) is
  a disagreement;
* every other observation must be *explained*: a marker of a code predicting its kind sits
  on one of its sites -- so a fixture without markers must observe nothing at all, and a
  failure at an unmarked dispatch is a disagreement even if a marker elsewhere predicts
  its kind;
* every marker must be *proven at its own line*: an observation of a kind its code
  predicts, whose sites span the marker's line.  One failure proves two markers only where
  the fixture says so (``# error: FCX110 (runtime: FCX100)``: a worker that reads both tiers
  fails at its first read and never reaches the second);
* a negative must have run dispatched work to completion (``completed`` is not empty),
  unless it says ``# runtime: nothing dispatched <why>``;
* a code the harness cannot check (see :data:`runtime.kinds.CODE_KINDS`) is not checked,
  and the verdict says so in its notes.

Pure functions of the markers and the harness output, so the rule is unit-tested without
running anything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence

from expectations import Expected
from runtime import kinds, sites
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
    fields = set(Observation.__dataclass_fields__) - {"sites"}
    observations = [
        Observation(
            **{k: str(v) for k, v in item.items() if k in fields},
            sites=tuple(str(site) for site in item.get("sites", ())),
        )
        for item in raw
    ]
    return sorted(observations, key=lambda o: (o.route, o.where, o.source, o.kind, o.thread))


def judge(
    fixture: str,
    expected: Sequence[Expected],
    run: HarnessRun,
    no_work_reason: Optional[str] = None,
) -> Verdict:
    """Verdict for one isolated harness run of ``fixture``.

    A marker without a ``path`` belongs to the fixture file itself (its sites are named
    relative to the fixture's directory, as a project's modules are to its root).
    """
    result: Optional[Dict[str, Any]] = run.result
    markers = [m if m.path else replace(m, path=run.fixture.name) for m in expected]
    verdict = Verdict(
        fixture=fixture,
        category=POSITIVE if expected else NEGATIVE,
        expected=markers,
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
    apply_rule(verdict, no_work_reason)
    return verdict


def apply_rule(verdict: Verdict, no_work_reason: Optional[str] = None) -> None:
    """Fill ``verdict.problems``/``notes`` from its markers and observations.

    ``no_work_reason``: the fixture's ``# runtime: nothing dispatched <why>``, without
    which a negative whose run completed no dispatched work is vacuous.
    """
    markers = verdict.expected
    codes = sorted({m.code for m in markers})
    unverifiable = [c for c in codes if c not in kinds.CODE_KINDS]

    for observation in verdict.observations:
        if observation.kind in kinds.ALWAYS_A_PROBLEM:
            verdict.problems.append(f"{_explain(observation.kind)}: {observation.describe()}")
            continue
        if observation.kind == kinds.NOT_STARTED:
            if no_work_reason is None:
                verdict.problems.append(
                    "the fixture built work it never started, so that work proves nothing "
                    f"(or say '# runtime: nothing dispatched <why>'): {observation.describe()}"
                )
            continue
        if any(_proves(observation, m) for m in markers):
            continue
        text = f"unexpected {observation.kind} failure: {observation.describe()}"
        if unverifiable:
            verdict.notes.append(f"{text} (perhaps {', '.join(unverifiable)}, not checked)")
        elif verdict.category == NEGATIVE:
            verdict.problems.append(f"no marker, yet Flask failed: {observation.describe()}")
        else:
            verdict.problems.append(
                f"{text}; no marker at {_where(observation)} predicts a {observation.kind} "
                "failure"
            )

    for marker in markers:
        place = f"{marker.code} ({_line(marker)})"
        predicted = kinds.marker_kinds(marker.code, marker.fragment)
        if predicted is None:
            verdict.notes.append(f"{place} cannot be checked at run time")
            continue
        if marker.proven_by is not None:
            partner = [
                m for m in markers
                if (m.path, m.line, m.code) == (marker.path, marker.line, marker.proven_by)
            ]
            if not partner:
                verdict.problems.append(
                    f"{place} says it is proven by {marker.proven_by}, but that line has no "
                    f"{marker.proven_by} marker"
                )
            elif _proven(verdict, partner[0]):
                verdict.notes.append(
                    f"{place} proven by the {marker.proven_by} failure at its line, as the "
                    "fixture says (a worker fails at its first read only)"
                )
            # else: the partner's own problem says that nothing failed there
            continue
        if _proven(verdict, marker):
            continue
        kinds_text = " or ".join(sorted(predicted))
        elsewhere = [o for o in verdict.observations if o.kind in predicted]
        verdict.problems.append(
            f"{place} expects a failure of kind {kinds_text} at its own line, "
            "but Flask raised none"
            + (
                f" there (the {kinds_text} failures came from {_where(elsewhere[0])})"
                if elsewhere
                else " (nothing failed anywhere)" if not verdict.observations else ""
            )
        )

    if no_work_reason is not None and verdict.completed:
        verdict.problems.append(
            f"the fixture says '# runtime: nothing dispatched {no_work_reason}', yet "
            f"dispatched work ran: {verdict.work_summary()}"
        )
    elif verdict.category == NEGATIVE and not verdict.completed and no_work_reason is None:
        verdict.problems.append(
            "a negative whose run completed no dispatched work proves nothing: the work it "
            "should show safe never ran (say '# runtime: nothing dispatched <why>' if it "
            "starts none on purpose)"
        )


def _proves(observation: Observation, marker: Expected) -> bool:
    """``observation`` is of a kind ``marker`` predicts and happened at the marker's line."""
    predicted = kinds.marker_kinds(marker.code, marker.fragment)
    return (
        predicted is not None
        and observation.kind in predicted
        and sites.covers(observation.sites, marker.path, marker.line)
    )


def _proven(verdict: Verdict, marker: Expected) -> bool:
    return any(_proves(o, marker) for o in verdict.observations)


def _line(marker: Expected) -> str:
    return f"{marker.path} line {marker.line}" if marker.path else f"line {marker.line}"


def _where(observation: Observation) -> str:
    return " ".join(observation.sites) or "no fixture line (a library frame only)"


def _explain(kind: str) -> str:
    return {
        kinds.OTHER: "a worker failed for an unrelated reason (the fixture proves nothing)",
        kinds.VIEW_ERROR: "fixture bug: the view failed (it must succeed with the harness's input)",
        kinds.HUNG: "work started by the request never finished",
        kinds.IMPORT_ERROR: "the fixture cannot be imported here ('# runtime: skip <reason>'?)",
    }.get(kind, kind)
