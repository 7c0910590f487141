"""What a project pushes around the code a worker runs: the unit of the project index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional

from ..knowledge.contexts import Tier

Tiers = FrozenSet[Tier]
NO_TIERS: Tiers = frozenset()


@dataclass(frozen=True)
class PushedContext:
    """What a task base, middleware or worker pushes around the code it runs.

    ``always``: tiers pushed for every task; ``option``/``with_option``: tiers pushed
    only for tasks declared with that option set (indico's ``request_context=True``).
    ``where``: ``path:line`` of the class or command, for messages and triage."""

    name: str
    where: str
    always: Tiers
    option: Optional[str] = None
    with_option: Tiers = NO_TIERS

    def tiers(self, options: FrozenSet[str]) -> Tiers:
        if self.option is not None and self.option in options:
            return self.always | self.with_option
        return self.always
