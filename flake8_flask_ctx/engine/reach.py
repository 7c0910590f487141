"""What a dispatched callable reaches: per-function facts and the walk over them.

Each function body is scanned once (``body_scanner.BodyScanner``, memoised here) for the
context-locals it reads and the module callables it refers to, each recorded with
the tiers that guards make safe at that point (``if has_request_context():``,
``with app.app_context():``, an early ``if not request: return``).  ``Reach.first_reads``
then walks those facts breadth-first from the dispatched callables, so the read it
reports has the shortest chain; a (function, guarded tiers) pair is visited once,
which handles recursion and cycles.
"""

from __future__ import annotations

from collections import deque
from typing import (
    TYPE_CHECKING, Deque, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union,
)

import libcst as cst

from ..knowledge import Knowledge
from ..knowledge.contexts import FAKE_REQUEST_HARMLESS, Tier
from .body_scanner import BodyScanner
from .falsy import falsy_parameters
from .chains import NO_TIERS, Chain, Facts, Hop, Reached, Tiers
from ..knowledge.calls import PATCH_METHODS, PATCH_RECEIVERS
from .names import ModuleIndex, root_name
from .resolution import Resolver
from .targets import CallableNode, Target, is_name_like
from .helpers import ProjectHelpers, walk_shallow
from .returned_types import property_result_method
from .signals import implicit_receivers, signal_receivers

if TYPE_CHECKING:  # pragma: no cover
    from .units import ModuleUnit


class Reach(ProjectHelpers):
    """Reach questions for one module; facts are cached across dispatch sites."""

    def __init__(self, index: ModuleIndex, resolver: Resolver, knowledge: Knowledge) -> None:
        self.index = index
        self.resolver = resolver
        self.knowledge = knowledge
        self._facts: Dict[CallableNode, Facts] = {}
        self._own_names = {}
        self._parameter_uses = {}
        self._patched: Optional[FrozenSet[str]] = None
        #: Tiers any read reachable from a function can have, guards ignored (an upper
        #: bound): worked out once per function, so a site stops following calls that
        #: can bring nothing new (a chain of N helpers is then linear, not quadratic).
        self._reachable: Dict[CallableNode, Tuple[FrozenSet[Tier], bool]] = {}

    def patched(self) -> FrozenSet[str]:
        """Dotted names this module replaces with test doubles (``knowledge.calls``)."""
        if self._patched is None:
            self._patched = patched_names(self.index)
        return self._patched

    def replaced(self, target: Target) -> bool:
        """Whether a test double of this module stands in for ``target``."""
        patched = self.patched()
        if not patched or not isinstance(target.node, cst.FunctionDef):
            return False
        unit = self.unit_of(target)
        module = unit.name if unit is not None else None
        name = target.node.name.value
        index = target.home.index if target.home is not None else self.index
        owner = index.enclosing_class_of_function(target.node)
        candidates = {name}
        if module:
            candidates.add(f"{module}.{name}")
            if owner is not None:
                candidates.add(f"{module}.{owner.name.value}.{name}")
        return bool(candidates & patched)

    def first_reads(
        self,
        roots: Sequence[Target],
        carried: Tiers = NO_TIERS,
        call: Optional[cst.Call] = None,
        bound: bool = False,
    ) -> Dict[Tier, Reached]:
        """First read of each tier reachable from ``roots`` (``carried``: tiers the
        dispatcher itself provides), with the call chain that leads to it.  ``call``:
        how the worker calls a root (``forwarded.worker_call``), for the parameters it
        sets to falsy literals; ``bound``: the root is a bound method."""
        found: Dict[Tier, Reached] = {}
        queue: Deque[Tuple[Target, Target, Tiers, Chain, FrozenSet[str]]] = deque(
            (root, root, carried, (),
             falsy_parameters(call, root.node, bound) if call is not None else frozenset())
            for root in roots
        )
        for root in roots if call is not None else ():
            assert call is not None
            for value, extra in self._forwarded_callables(call, root, bound):
                hop = Hop(extra.label, value, self.index, self.resolver.unit)
                queue.append((root, extra, carried, (hop,), frozenset()))
        seen: Set[Tuple[CallableNode, Tiers, FrozenSet[str]]] = set()
        while queue and len(found) < len(Tier):
            root, target, guarded, chain, falsy = queue.popleft()
            if (target.node, guarded, falsy) in seen:
                continue
            seen.add((target.node, guarded, falsy))
            facts, unit = self.facts(target), self.unit_of(target)
            for read in facts.reads:
                if read.tier in guarded or read.tier in read.guarded or read.needs_true & falsy:
                    continue
                found.setdefault(read.tier, Reached(root, read, chain, unit))
            for edge in facts.edges:
                if edge.needs_true & falsy:
                    continue  # the call sits under ``if notify:`` and notify is False here
                if self.replaced(edge.target):
                    continue  # a test double runs instead (``mocker.patch(...)``)
                possible = self.reachable_tiers(edge.target) - guarded - edge.guarded
                if possible <= found.keys():
                    continue  # nothing it reaches can be a new first read
                step = chain + (Hop(edge.target.label, edge.node, edge.index, unit),)
                queue.append((root, edge.target, guarded | edge.guarded, step, edge.falsy))
        return found

    def reachable_tiers(self, start: Target) -> FrozenSet[Tier]:
        """The tiers of every read reachable from ``start`` through calls, guards and
        arguments ignored, memoised per function."""
        return self._reachable_facts(start)[0]

    def reaches_fake_request(self, start: Target) -> bool:
        """Whether a ``with ....test_request_context():`` is reachable from ``start``."""
        return self._reachable_facts(start)[1]

    def _reachable_facts(self, start: Target) -> Tuple[FrozenSet[Tier], bool]:
        """Iterative Tarjan over the calls: the functions of one cycle share one answer."""
        memo = self._reachable
        if start.node in memo:
            return memo[start.node]
        shared = self._home_memo(start)
        if shared is not None:
            memo[start.node] = shared
            return shared
        #: Each node's home unit: an answer is also kept there, for every module that
        #: reaches the node later (a ring of modules is then linear, not quadratic).
        homes: Dict[CallableNode, Optional["ModuleUnit"]] = {}
        number: Dict[CallableNode, int] = {}
        low: Dict[CallableNode, int] = {}
        own: Dict[CallableNode, Set[Tier]] = {}
        fake: Dict[CallableNode, bool] = {}
        successors: Dict[CallableNode, List[Target]] = {}
        stack: List[CallableNode] = []
        on_stack: Set[CallableNode] = set()
        frames: List[Tuple[Target, int]] = [(start, 0)]
        while frames:
            target, position = frames[-1]
            node = target.node
            if position == 0 and node not in number:
                homes[node] = target.home
                number[node] = low[node] = len(number)
                stack.append(node)
                on_stack.add(node)
                facts = self.facts(target)
                own[node] = {read.tier for read in facts.reads}
                fake[node] = any(r.fake is not None for r in facts.reads) or any(
                    e.fake is not None for e in facts.edges
                )
                successors[node] = [edge.target for edge in facts.edges]
            if position < len(successors[node]):
                frames[-1] = (target, position + 1)
                nxt = successors[node][position]
                if nxt.node not in memo and nxt.node not in number:
                    known = self._home_memo(nxt)
                    if known is not None:
                        memo[nxt.node] = known
                if nxt.node in memo:
                    own[node] |= memo[nxt.node][0]
                    fake[node] = fake[node] or memo[nxt.node][1]
                elif nxt.node not in number:
                    frames.append((nxt, 0))
                elif nxt.node in on_stack:
                    low[node] = min(low[node], number[nxt.node])
                continue
            frames.pop()
            if low[node] == number[node]:
                members: List[CallableNode] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member is node:
                        break
                tiers: Set[Tier] = set()
                for member in members:
                    tiers |= own[member]
                answer = (frozenset(tiers), any(fake[member] for member in members))
                for member in members:
                    memo[member] = answer
                    home = homes.get(member)
                    if home is not None and home.reach is not self:
                        home.reach._reachable.setdefault(member, answer)
            if frames:
                parent = frames[-1][0].node
                if node in memo:
                    own[parent] |= memo[node][0]
                    fake[parent] = fake[parent] or memo[node][1]
                else:
                    low[parent] = min(low[parent], low[node])
        return memo[start.node]

    def _home_memo(self, target: Target) -> Optional[Tuple[FrozenSet[Tier], bool]]:
        """The answer the target's own module already worked out, if any (only for
        the same knowledge: a project's ``SERVER_NAME`` changes the tiers)."""
        home = target.home
        if home is None or home.reach is self or home.reach.knowledge is not self.knowledge:
            return None
        return home.reach._reachable.get(target.node)

    def first_read_of(self, roots: Sequence[Target], local: str) -> Optional[Reached]:
        """The first read of one context-local (``flask.g``) from ``roots``, guards
        ignored: for code that has a context, but the wrong one (FCX410).  A function
        that also writes it (``setattr(g, k, v)``, ``g.x = ...``) is filling it: skipped."""
        queue: Deque[Tuple[Target, Target, Chain]] = deque((r, r, ()) for r in roots)
        seen: Set[CallableNode] = set()
        while queue:
            root, target, chain = queue.popleft()
            if target.node in seen:
                continue
            seen.add(target.node)
            facts, unit = self.facts(target), self.unit_of(target)
            mine = [read for read in facts.reads if read.local == local]
            if any(read.store for read in mine):
                continue  # the function fills it first (copies g over): not empty
            if mine:
                return Reached(root, mine[0], chain, unit)
            for edge in facts.edges:
                step = chain + (Hop(edge.target.label, edge.node, edge.index, unit),)
                queue.append((root, edge.target, step))
        return None

    def fake_requests(self, roots: Sequence[Target]) -> List[cst.With]:
        """``with ....test_request_context():`` blocks from which ``roots`` read a
        request-tier name (FCX420): the read "works", on a fake request."""
        found: List[cst.With] = []
        roots = [r for r in roots if self.reaches_fake_request(r)]
        queue: Deque[Tuple[Target, Optional[cst.With]]] = deque((r, None) for r in roots)
        seen: Set[Tuple[CallableNode, Optional[cst.With]]] = set()
        while queue:
            target, fake = queue.popleft()
            if (target.node, fake) in seen:
                continue
            seen.add((target.node, fake))
            facts = self.facts(target)
            for read in facts.reads:
                where = read.fake or fake
                if read.local in FAKE_REQUEST_HARMLESS:
                    continue  # ``url_for`` reads no request data
                if read.tier is Tier.REQUEST and where is not None and where not in found:
                    found.append(where)
            for edge in facts.edges:
                inside = edge.fake or fake
                if inside is None and not self.reaches_fake_request(edge.target):
                    continue  # no fake request anywhere down there
                if inside is not None and Tier.REQUEST not in self.reachable_tiers(edge.target):
                    continue  # inside one, but no request read down there
                queue.append((edge.target, inside))
        return found

    def unit_of(self, target: Target) -> Optional["ModuleUnit"]:
        return target.home if target.home is not None else self.resolver.unit

    def facts(self, target: Target) -> Facts:
        """What the target's body reads and calls, scanned in the module it belongs to."""
        home = target.home
        if home is not None and home.reach is not self:
            return home.reach.facts(target)
        cached = self._facts.get(target.node)
        if cached is None:
            cached = BodyScanner(self, target.node).scan()
            self._facts[target.node] = cached
        return cached

    def callees_of(self, expr: cst.BaseExpression) -> List[Target]:
        """Module callables that a reference inside a reached body can call."""
        if isinstance(expr, cst.Lambda):
            return [self.resolver.target(expr, "the lambda")]
        if isinstance(expr, cst.Name):
            cls = self.resolver.local_class(expr)
            if cls is not None:  # ``Mailer()`` runs ``Mailer.__init__``
                init = self.resolver.find_method(cls, "__init__")
                if init is None:
                    return []
                return [self.resolver.target(init, self.resolver.label(init))]
        names = self.resolver.function_names
        if isinstance(expr, cst.Name) and expr.value not in names:
            rendering = implicit_receivers(self.resolver, expr)  # ``render_template``
            if rendering:
                return rendering
            if self.resolver.parameter_default(expr) is not None:
                return self.resolver.callable(expr).targets  # ``handler=on_message``
            if _picked_from_container(self.resolver.index.bindings(expr)):
                # ``validate = validators.get(kind, reject)``; ``validate(value)``
                return self.resolver.callable(expr).targets
            return self._foreign_callees(expr)
        if isinstance(expr, cst.Attribute) and expr.attr.value not in names:
            receivers = signal_receivers(self.resolver, expr)  # ``task_done.send(...)``
            if receivers is not None:
                return receivers
            rendering = implicit_receivers(self.resolver, expr)  # ``flask.render_template``
            if rendering:
                return rendering
            foreign = self.resolver.foreign_method(expr)  # ``order.total``, imported class
            if foreign is None:  # ``query.parameterized.apply``: what the property returns
                foreign = property_result_method(self.resolver, expr)
            if foreign is not None:
                there, method = foreign
                return there.callable_function(method)
            return self._foreign_callees(expr)
        return self.resolver.callable(expr).targets

    def called_through(self, expr: cst.BaseExpression) -> List[Target]:
        """``callees_of``, and for a name bound to a call's result (``wrapped =
        wrap(fn)``; ``wrapped()``) what that call certainly returns."""
        found = self.callees_of(expr)
        if found or not isinstance(expr, cst.Name):
            return found
        # ``get = lambda: ...`` / ``make = partial(render, "pdf")``, then ``get()``
        found = list(self.resolver.callable(expr).targets)
        for value in self.index.bindings(expr):
            if isinstance(value, cst.Call):
                found.extend(t for t in self.returned_by(value) if t not in found)
        return found

    def returned_by(self, call: cst.Call) -> List[Target]:
        """What ``call`` certainly returns when that is a callable of the project: the
        callee returns a nested function or lambda on every path (``def wrap(fn):
        def wrapped(): ...; return wrapped``)."""
        if not is_name_like(call.func):
            return []
        found: List[Target] = []
        for callee in self.callees_of(call.func):
            if not isinstance(callee.node, cst.FunctionDef):
                continue
            there = callee.home.resolver if callee.home is not None else self.resolver
            returned = [
                r.value for r in walk_returns(callee.node) if r.value is not None
            ]
            if not returned or not all(isinstance(v, (cst.Name, cst.Lambda)) for v in returned):
                continue
            for value in returned:
                targets = (
                    [there.target(value, "the lambda")] if isinstance(value, cst.Lambda)
                    else there.callable(value).targets
                )
                found.extend(t for t in targets if t not in found)
        return found

    def _foreign_callees(self, expr: Union[cst.Name, cst.Attribute]) -> List[Target]:
        """A function or class imported from another module of the project."""
        root = root_name(expr)
        if root is None or root.value not in self.resolver.project_names():
            return []
        if not self.resolver.foreign_may_run(expr, classes=True):
            return []
        symbol = self.resolver.foreign(expr)
        if symbol is None:
            return []
        there = symbol.unit.resolver
        if isinstance(symbol.node, cst.FunctionDef):
            return there.callable_function(symbol.node)
        if isinstance(symbol.node, cst.ClassDef):  # ``Mailer()`` runs ``__init__``
            init = there.find_method(symbol.node, "__init__")
            return [there.target(init, there.label(init))] if init is not None else []
        if isinstance(symbol.node, cst.BaseExpression):
            return there.callable(symbol.node).targets
        return []


def _picked_from_container(values: List[cst.CSTNode]) -> bool:
    """Every binding of a local name is a pick from a container (``HANDLERS[kind]``,
    ``handlers.get(kind, fallback)``): calling the name calls the pick."""
    return bool(values) and all(
        (isinstance(v, cst.Subscript) and isinstance(v.value, cst.Name))
        or (
            isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute)
            and v.func.attr.value == "get" and isinstance(v.func.value, cst.Name)
        )
        for v in values
    )


def patched_names(index: ModuleIndex) -> FrozenSet[str]:
    """``"pkg.mod.fn"`` of every ``mock.patch("pkg.mod.fn")``, ``mocker.patch(...)``,
    ``monkeypatch.setattr("pkg.mod.fn", ...)``, and ``pkg.mod.fn`` of
    ``patch.object(mod, "fn")`` / ``monkeypatch.setattr(mod, "fn", ...)`` in the module
    (its last component alone too, for an object whose module cannot be named)."""
    found: Set[str] = set()
    for call in index.calls:
        func = call.func
        if not isinstance(func, cst.Attribute) and not isinstance(func, cst.Name):
            continue
        method = func.attr.value if isinstance(func, cst.Attribute) else func.value
        if method not in PATCH_METHODS:
            continue
        if isinstance(func, cst.Attribute):
            receiver = index.code(func.value, 40)
            if receiver not in PATCH_RECEIVERS and not receiver.endswith(".mock"):
                continue
        elif method != "patch":
            continue
        strings = [
            a.value.evaluated_value for a in call.args[:2]
            if isinstance(a.value, cst.SimpleString) and isinstance(a.value.evaluated_value, str)
        ]
        if not strings:
            continue
        first = call.args[0].value
        if isinstance(first, cst.SimpleString):
            found.add(strings[0])
        elif len(strings) == 1 and is_name_like(first):
            for qualified in index.qualified_names_any(first) or {index.code(first, 80)}:
                found.add(f"{qualified}.{strings[0]}")
            found.add(strings[0])
    return frozenset(found)


def walk_returns(function: cst.FunctionDef) -> List[cst.Return]:
    """The ``return`` statements of ``function`` itself (not of nested functions)."""
    return [node for node in walk_shallow(function.body) if isinstance(node, cst.Return)]
