"""What resolution answers with: the callables a call can run (``Target``), what a
callable expression resolves to (``Resolution``), and the few shapes every resolver
part shares.  A leaf module, so the resolver's parts can use them without importing the
resolver itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Union

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from .units import ModuleUnit


#: Code that can run later: a function, a lambda, or a generator expression's body.
CallableNode = Union[cst.FunctionDef, cst.Lambda, cst.GeneratorExp]


#: How many name-to-value hops resolution follows (``a = b``; ``b = partial(c)``...).
MAX_RESOLUTION_DEPTH = 8


@dataclass(frozen=True)
class Target:
    """A function or lambda that some code can end up calling."""

    node: CallableNode
    label: str
    #: The module the node belongs to (another module of the project, for reach
    #: that crossed an import); ``None``: the module that created the target.
    home: Optional["ModuleUnit"] = field(default=None, compare=False, hash=False)


@dataclass
class Resolution:
    """What a callable expression can be: functions to follow, or context-carrying."""

    targets: List[Target] = field(default_factory=list)
    carries_context: bool = False
    #: ``ctx.run`` of a context copied at import time: the callable that really
    #: runs is the argument after it (``submit(ctx.run, fn)``).
    runs_next_argument: bool = False
    #: ``copy_current_request_context`` applications on the way (the Call, or the
    #: Decorator node), and the functions they wrap (FCX400/FCX410).
    wrappers: List[cst.CSTNode] = field(default_factory=list)
    wrapped_targets: List[Target] = field(default_factory=list)
    #: Arguments bound by ``functools.partial``: they travel with the callable.
    bound_arguments: List[cst.BaseExpression] = field(default_factory=list)

    def extend(self, other: "Resolution") -> None:
        self.targets.extend(other.targets)
        self.carries_context = self.carries_context or other.carries_context
        self.runs_next_argument = self.runs_next_argument or other.runs_next_argument
        self.wrappers.extend(other.wrappers)
        self.wrapped_targets.extend(other.wrapped_targets)
        self.bound_arguments.extend(other.bound_arguments)


def is_name_like(expr: cst.CSTNode) -> bool:
    return isinstance(expr, (cst.Name, cst.Attribute))
