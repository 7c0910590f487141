"""What reach records and reports: the hops of a chain, a context-local read, an edge
to a callee, a function's facts, and what a dispatched callable reaches.

Plain values, shared by the walk (``reach.py``), the body scanner that builds the facts
(``body_scanner.py``) and the analysis that turns them into messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, FrozenSet, List, Optional, Tuple

from ..knowledge.contexts import Tier

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

    from .names import ModuleIndex
    from .targets import Target
    from .units import ModuleUnit


Tiers = FrozenSet[Tier]


NO_TIERS: Tiers = frozenset()


class _Located:
    """A node of some module: its line and column are computed only when asked (for a
    message), because positions cost a code-generation pass over the module."""

    node: cst.CSTNode
    index: ModuleIndex

    @property
    def line(self) -> int:
        return self.index.line(self.node)

    @property
    def column(self) -> int:
        return self.index.column(self.node)


@dataclass(frozen=True)
class Hop(_Located):
    """One hop from the dispatched callable towards a read: the callee's label, the
    call, and the module the call is in (``None``: the module that asked)."""

    label: str
    node: cst.CSTNode
    index: ModuleIndex = field(compare=False)
    unit: Optional["ModuleUnit"] = field(default=None, compare=False)


Chain = Tuple[Hop, ...]


@dataclass(frozen=True)
class Read(_Located):
    """A context-local touched in a function body, with the tiers guarded there."""

    tier: Tier
    local: str
    text: str
    node: cst.CSTNode
    index: ModuleIndex = field(compare=False)
    guarded: Tiers = frozenset()
    fake: Optional[cst.With] = None
    #: ``g.x = ...`` / ``setattr(g, ...)``: the code fills the proxy's object.
    store: bool = False
    #: Parameters of the function that must be true for the read to run
    #: (``if emit_flash: flash(...)``): not reached when a caller passes a falsy literal.
    needs_true: FrozenSet[str] = frozenset()


@dataclass(frozen=True)
class Edge(_Located):
    """A reference from a function body to another callable of the module."""

    target: Target
    node: cst.CSTNode
    index: ModuleIndex = field(compare=False)
    guarded: Tiers = frozenset()
    fake: Optional[cst.With] = None
    #: As ``Read.needs_true``: the call runs only when these parameters are true.
    needs_true: FrozenSet[str] = frozenset()
    #: Parameters of the callee this call sets to a falsy literal (``False``, ``None``,
    #: ``0``, ``""``, empty containers), passed or left at such a default.
    falsy: FrozenSet[str] = frozenset()


@dataclass
class Facts:
    reads: List[Read]
    edges: List[Edge]
    #: Names of proxy aliases closed over from an enclosing function (FCX200).
    closures: List[Tuple[cst.Name, str]]


@dataclass(frozen=True)
class Reached:
    """The first read of one tier reachable from a dispatch site."""

    root: Target
    read: Read
    chain: Chain
    #: The module the read is in.
    unit: Optional["ModuleUnit"] = None
