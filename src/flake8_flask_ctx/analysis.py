"""The engine: dispatch sites -> the callables they start -> what those reach.

Every code asks one expensive question, *what does this dispatched callable reach?*,
so it is answered once per file here, and ``findings()`` turns the answers into
diagnostics.  The steps:

1. **Dispatch sites** (``_dispatch_sites``): calls that hand a callable to another
   thread, from the tables in ``knowledge``.
2. **Callables** (``_resolve_callable``): the argument is resolved to the functions
   and lambdas it can be -- through names, ``self.``/``cls.``/``Class.`` methods,
   ``functools.partial`` and conditional expressions -- or recognised as carrying the
   context (``copy_current_request_context``, ``copy_context().run``).
3. **Facts** (``_facts``): each function body is scanned once (memoised) for the
   context-locals it reads and the module functions it refers to, each with the
   tiers that guards (``if has_request_context():``, ``with app.app_context():``)
   make safe at that point.
4. **Reach** (``_reach``): a breadth-first walk over those facts from the dispatched
   callables, so the first read found has the shortest chain; a (function, guards)
   pair is visited once, which handles cycles.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from . import codes
from .knowledge import (
    CALL_DISPATCHERS,
    CONTEXT_COPIERS,
    CONTEXT_MANAGER_METHODS,
    EXECUTOR_TYPES,
    GUARD_CALLS,
    GUARD_IMPLIES,
    METHOD_DISPATCHERS,
    PARTIAL_FACTORIES,
    PROXY_OBJECTS,
    SAFE_WRAPPERS,
    THREAD_BASE_CLASSES,
    CallDispatcher,
    ReceiverType,
    Tier,
    canonical_name,
    context_local_tier,
)
from .names import ModuleIndex

Callable_ = Union[cst.FunctionDef, cst.Lambda]
Tiers = FrozenSet[Tier]
NO_TIERS: Tiers = frozenset()
#: How many name-to-value hops resolution follows (``a = b``; ``b = partial(c)``...).
MAX_RESOLUTION_DEPTH = 8
TIER_CODES = {Tier.REQUEST: "FCX100", Tier.APP: "FCX110"}


@dataclass(frozen=True)
class Finding:
    """One diagnostic, positioned as flake8 wants it (1-based line, 0-based column)."""

    line: int
    column: int
    code: str
    message: str


@dataclass(frozen=True)
class Target:
    """A function or lambda that some code can end up calling."""

    node: Callable_
    label: str


@dataclass
class Resolution:
    """What a callable expression can be: functions to follow, or context-carrying."""

    targets: List[Target] = field(default_factory=list)
    carries_context: bool = False

    def extend(self, other: "Resolution") -> None:
        self.targets.extend(other.targets)
        self.carries_context = self.carries_context or other.carries_context


@dataclass(frozen=True)
class Read:
    """A context-local touched in a function body, with the tiers guarded there."""

    tier: Tier
    local: str
    text: str
    line: int
    guarded: Tiers


@dataclass(frozen=True)
class Edge:
    """A reference from a function body to another callable of the module."""

    target: Target
    line: int
    guarded: Tiers


@dataclass
class Facts:
    reads: List[Read]
    edges: List[Edge]


@dataclass(frozen=True)
class DispatchSite:
    """A place where ``targets`` are handed to something that runs them elsewhere."""

    report_at: cst.CSTNode
    targets: Tuple[Target, ...]
    mechanism: str


class ModuleAnalysis:
    """All findings of one module.  Create one per file; it caches per-file facts."""

    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        self._facts_cache: Dict[Callable_, Facts] = {}
        self._function_names = {f.name.value for f in index.functions}
        self._class_names = {c.name.value for c in index.classes}

    # -- public -------------------------------------------------------------------

    def findings(self) -> List[Finding]:
        results: List[Finding] = []
        for site in self._dispatch_sites():
            found = self._reach(site.targets)
            for tier in (Tier.REQUEST, Tier.APP):
                if tier not in found:
                    continue
                root, read, chain = found[tier]
                code = TIER_CODES[tier]
                message = codes.reach_message(
                    code=code,
                    local=read.local,
                    callable_name=root.label,
                    mechanism=site.mechanism,
                    read_text=read.text,
                    read_line=read.line,
                    chain=" -> ".join(f"{label} at line {line}" for label, line in chain),
                )
                results.append(
                    Finding(
                        self.index.line(site.report_at),
                        self.index.column(site.report_at),
                        code,
                        message,
                    )
                )
        return results

    # -- 1. dispatch sites ----------------------------------------------------------

    def _dispatch_sites(self) -> List[DispatchSite]:
        sites: List[DispatchSite] = []
        for call in self.index.calls:
            site = self._dispatch_site(call)
            if site is not None and site.targets:
                sites.append(site)
        return sites

    def _dispatch_site(self, call: cst.Call) -> Optional[DispatchSite]:
        func = call.func
        if _last_name(func) in _DISPATCHER_LAST_NAMES:
            qualified = self.index.qualified_names_any(func)
            for dispatcher in CALL_DISPATCHERS:
                if qualified & dispatcher.qualified_names:
                    return self._site_from_argument(call, dispatcher)
        if isinstance(func, cst.Attribute):
            site = self._method_dispatch(call, func)
            if site is not None:
                return site
        thread_class = self._local_class(func)
        if thread_class is not None and self._is_thread_subclass(thread_class, set()):
            return self._thread_subclass_site(call, thread_class)
        return None

    def _site_from_argument(
        self, call: cst.Call, dispatcher: CallDispatcher
    ) -> Optional[DispatchSite]:
        argument = _argument(call, dispatcher.position, dispatcher.keyword)
        if argument is None:
            return None
        return self._site(argument, dispatcher.mechanism)

    def _site(
        self, argument: cst.BaseExpression, mechanism: str
    ) -> Optional[DispatchSite]:
        resolution = self._resolve_callable(argument, 0)
        if resolution.carries_context and not resolution.targets:
            return None
        return DispatchSite(argument, tuple(resolution.targets), mechanism)

    def _method_dispatch(
        self, call: cst.Call, func: cst.Attribute
    ) -> Optional[DispatchSite]:
        method = func.attr.value
        for dispatcher in METHOD_DISPATCHERS:
            if dispatcher.method != method:
                continue
            receiver = self._receiver_type(func.value, 0)
            if receiver is None:
                if not dispatcher.on_unknown_receiver:
                    return None
                mechanism = f"in a worker ({self.index.code(func, 40)})"
            elif not receiver.dispatches:
                return None
            else:
                mechanism = f"in a {receiver.label} worker"
            argument = _argument(call, dispatcher.position, "fn")
            if argument is None:
                return None
            return self._site(argument, mechanism)
        return None

    def _thread_subclass_site(
        self, call: cst.Call, thread_class: cst.ClassDef
    ) -> Optional[DispatchSite]:
        name = thread_class.name.value
        run = self._find_method(thread_class, "run", set())
        if run is None:
            # No run() override: Thread.run calls target, as threading.Thread does.
            dispatcher = CALL_DISPATCHERS[0]
            argument = _argument(call, dispatcher.position, dispatcher.keyword)
            if argument is None:
                return None
            return self._site(argument, f"in a new {name} thread")
        target = Target(run, f"{name}.run()")
        mechanism = f"in a new thread when {name}(...) is started"
        return DispatchSite(call, (target,), mechanism)

    # -- receivers and classes ------------------------------------------------------

    def _receiver_type(
        self, expr: cst.BaseExpression, depth: int
    ) -> Optional[ReceiverType]:
        """The executor type an expression was built from, if it can be told."""
        if depth > MAX_RESOLUTION_DEPTH:
            return None
        if isinstance(expr, cst.Call):
            return self._constructed_type(expr)
        values: Sequence[cst.CSTNode] = ()
        if isinstance(expr, cst.Name):
            values = self.index.bindings(expr)
        elif isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = self._class_of_instance_name(expr.value)
            if owner is not None:
                values = self._instance_attribute_values(owner, expr.attr.value)
        for value in values:
            if isinstance(value, cst.BaseExpression):
                found = self._receiver_type(value, depth + 1)
                if found is not None:
                    return found
        return None

    def _constructed_type(self, call: cst.Call) -> Optional[ReceiverType]:
        if not _is_name_like(call.func):
            return None
        qualified = self.index.qualified_names_any(call.func)
        for receiver in EXECUTOR_TYPES:
            if qualified & receiver.qualified_names:
                return receiver
        return None

    def _instance_attribute_values(
        self, owner: cst.ClassDef, attribute: str
    ) -> List[cst.BaseExpression]:
        """Values assigned to ``self.<attribute>`` in the methods of ``owner``."""
        values: List[cst.BaseExpression] = []
        for statement in owner.body.body:
            if not isinstance(statement, cst.FunctionDef):
                continue
            instance = self.index.first_parameter(statement)
            if instance is None:
                continue
            for node in _walk(statement.body):
                if not isinstance(node, cst.Assign):
                    continue
                for target in node.targets:
                    t = target.target
                    if (
                        isinstance(t, cst.Attribute)
                        and t.attr.value == attribute
                        and isinstance(t.value, cst.Name)
                        and t.value.value == instance
                    ):
                        values.append(node.value)
        return values

    def _class_of_instance_name(self, name: cst.Name) -> Optional[cst.ClassDef]:
        """The class whose method has ``name`` as its ``self``/``cls`` parameter."""
        for ancestor in self.index.ancestors(name):
            if isinstance(ancestor, cst.FunctionDef):
                owner = self.index.enclosing_class_of_function(ancestor)
                if owner is not None and self.index.first_parameter(ancestor) == name.value:
                    return owner
        return None

    def _local_class(self, expr: cst.BaseExpression) -> Optional[cst.ClassDef]:
        if isinstance(expr, cst.Name) and expr.value in self._class_names:
            for value in self.index.bindings(expr):
                if isinstance(value, cst.ClassDef):
                    return value
        return None

    def _is_thread_subclass(self, cls: cst.ClassDef, seen: Set[cst.ClassDef]) -> bool:
        if cls in seen:
            return False
        seen.add(cls)
        for base in cls.bases:
            if base.keyword is not None or not _is_name_like(base.value):
                continue
            if self.index.qualified_names_any(base.value) & THREAD_BASE_CLASSES:
                return True
            local = self._local_class(base.value)
            if local is not None and self._is_thread_subclass(local, seen):
                return True
        return False

    def _find_method(
        self, cls: cst.ClassDef, name: str, seen: Set[cst.ClassDef]
    ) -> Optional[cst.FunctionDef]:
        """``name`` defined in ``cls`` or, failing that, in a base class of this module."""
        if cls in seen:
            return None
        seen.add(cls)
        for statement in cls.body.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
                return statement
        for base in cls.bases:
            local = self._local_class(base.value)
            if local is not None:
                found = self._find_method(local, name, seen)
                if found is not None:
                    return found
        return None

    # -- 2. callables ---------------------------------------------------------------

    def _resolve_callable(self, expr: cst.BaseExpression, depth: int) -> Resolution:
        result = Resolution()
        if depth > MAX_RESOLUTION_DEPTH:
            return result
        if isinstance(expr, cst.Lambda):
            result.targets.append(Target(expr, "the lambda"))
        elif isinstance(expr, cst.Name):
            for value in self.index.bindings(expr):
                if isinstance(value, cst.FunctionDef):
                    if self._is_context_wrapped(value):
                        result.carries_context = True
                    else:
                        result.targets.append(Target(value, self._label(value)))
                elif isinstance(value, cst.BaseExpression):
                    result.extend(self._resolve_callable(value, depth + 1))
        elif isinstance(expr, cst.Attribute):
            if expr.attr.value == "run" and self._is_context_copy(expr.value, depth):
                result.carries_context = True
            else:
                method = self._method_of(expr)
                if method is not None:
                    if self._is_context_wrapped(method):
                        result.carries_context = True
                    else:
                        result.targets.append(Target(method, self._label(method)))
        elif isinstance(expr, cst.Call) and _is_name_like(expr.func):
            qualified = self.index.qualified_names_any(expr.func)
            if qualified & SAFE_WRAPPERS:
                result.carries_context = True
            elif qualified & PARTIAL_FACTORIES and expr.args:
                result.extend(self._resolve_callable(expr.args[0].value, depth + 1))
        elif isinstance(expr, cst.IfExp):
            result.extend(self._resolve_callable(expr.body, depth + 1))
            result.extend(self._resolve_callable(expr.orelse, depth + 1))
        return result

    def _method_of(self, expr: cst.Attribute) -> Optional[cst.FunctionDef]:
        """``self.m`` / ``cls.m`` inside a class, or ``Class.m``, as a FunctionDef."""
        if not isinstance(expr.value, cst.Name) or expr.attr.value not in self._function_names:
            return None
        owner = self._class_of_instance_name(expr.value) or self._local_class(expr.value)
        if owner is None:
            return None
        return self._find_method(owner, expr.attr.value, set())

    def _is_context_wrapped(self, function: cst.FunctionDef) -> bool:
        for decorator in function.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if _is_name_like(expr) and self.index.qualified_names_any(expr) & SAFE_WRAPPERS:
                return True
        return False

    def _is_context_copy(self, expr: cst.BaseExpression, depth: int) -> bool:
        """``copy_context()`` itself, or a name bound to it."""
        if depth > MAX_RESOLUTION_DEPTH:
            return False
        if isinstance(expr, cst.Call):
            return _is_name_like(expr.func) and bool(
                self.index.qualified_names_any(expr.func) & CONTEXT_COPIERS
            )
        if isinstance(expr, cst.Name):
            return any(
                isinstance(value, cst.BaseExpression)
                and self._is_context_copy(value, depth + 1)
                for value in self.index.bindings(expr)
            )
        return False

    def _label(self, function: cst.FunctionDef) -> str:
        owner = self.index.enclosing_class_of_function(function)
        prefix = f"{owner.name.value}." if owner is not None else ""
        return f"{prefix}{function.name.value}()"

    # -- 3. facts -------------------------------------------------------------------

    def _facts(self, target: Target) -> Facts:
        cached = self._facts_cache.get(target.node)
        if cached is None:
            cached = _BodyScanner(self, target.node).scan()
            self._facts_cache[target.node] = cached
        return cached

    def callee_of(self, expr: cst.BaseExpression) -> List[Target]:
        """Module callables that a reference inside a reached body can call."""
        if isinstance(expr, cst.Lambda):
            return [Target(expr, "the lambda")]
        if isinstance(expr, cst.Name) and expr.value not in self._function_names:
            return []
        if isinstance(expr, cst.Attribute) and expr.attr.value not in self._function_names:
            return []
        return self._resolve_callable(expr, 0).targets

    # -- 4. reach -------------------------------------------------------------------

    def _reach(
        self, roots: Sequence[Target]
    ) -> Dict[Tier, Tuple[Target, Read, Tuple[Tuple[str, int], ...]]]:
        """First read of each tier reachable from ``roots``, with the call chain."""
        found: Dict[Tier, Tuple[Target, Read, Tuple[Tuple[str, int], ...]]] = {}
        queue: Deque[Tuple[Target, Target, Tiers, Tuple[Tuple[str, int], ...]]] = deque(
            (root, root, NO_TIERS, ()) for root in roots
        )
        seen: Set[Tuple[Callable_, Tiers]] = set()
        while queue and len(found) < len(TIER_CODES):
            root, target, guarded, chain = queue.popleft()
            if (target.node, guarded) in seen:
                continue
            seen.add((target.node, guarded))
            facts = self._facts(target)
            for read in facts.reads:
                if read.tier in guarded or read.tier in read.guarded:
                    continue
                found.setdefault(read.tier, (root, read, chain))
            for edge in facts.edges:
                step = chain + ((edge.target.label, edge.line),)
                queue.append((root, edge.target, guarded | edge.guarded, step))
        return found


class _BodyScanner:
    """Collects the reads and outgoing references of one function body.

    Iterative (an explicit stack) so deeply nested code cannot hit the recursion
    limit.  Each stack entry carries the tiers made safe by the guards around it and
    whether the node is evaluated only for its truth value (``if request:``).
    """

    def __init__(self, analysis: ModuleAnalysis, function: Callable_) -> None:
        self.analysis = analysis
        self.index = analysis.index
        self.function = function
        self.reads: List[Read] = []
        self.edges: List[Edge] = []
        self._stack: List[Tuple[cst.CSTNode, Tiers, bool]] = []

    def scan(self) -> Facts:
        self._push(self.function.body, NO_TIERS)
        while self._stack:
            node, guarded, truth = self._stack.pop()
            self._visit(node, guarded, truth)
        self.reads.sort(key=lambda read: read.line)
        self.edges.sort(key=lambda edge: edge.line)
        return Facts(self.reads, self.edges)

    def _push(self, node: Optional[cst.CSTNode], guarded: Tiers, truth: bool = False) -> None:
        if node is not None:
            self._stack.append((node, guarded, truth))

    def _visit(self, node: cst.CSTNode, guarded: Tiers, truth: bool) -> None:
        if isinstance(node, (cst.Name, cst.Attribute)):
            self._visit_reference(node, guarded, truth)
        elif isinstance(node, cst.Lambda):
            self._edge(node, node, guarded)
        elif isinstance(node, cst.FunctionDef):
            # A nested def runs its decorators and defaults here; its body only when
            # called, which a reference to it records as an edge.
            for decorator in node.decorators:
                self._push(decorator.decorator, guarded)
            for param in _parameters(node.params):
                self._push(param.default, guarded)
        elif isinstance(node, cst.ClassDef):
            for decorator in node.decorators:
                self._push(decorator.decorator, guarded)
            for base in node.bases:
                self._push(base.value, guarded)
        elif isinstance(node, (cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)):
            return
        elif isinstance(node, cst.Arg):
            self._push(node.value, guarded)
        elif isinstance(node, (cst.If, cst.IfExp)):
            self._visit_conditional(node, guarded)
        elif isinstance(node, cst.While):
            self._push(node.test, guarded, True)
            self._push(node.body, guarded | self._guard(node.test))
            self._push(node.orelse, guarded)
        elif isinstance(node, cst.BooleanOperation):
            self._visit_boolean(node, guarded, truth)
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            self._push(node.expression, guarded, True)
        elif isinstance(node, cst.Call) and _is_bool_call(node):
            self._push(node.args[0].value, guarded, True)
        elif isinstance(node, cst.With):
            self._visit_with(node, guarded)
        elif isinstance(node, cst.IndentedBlock):
            self._visit_block(node.body, guarded)
        else:
            for child in node.children:
                self._push(child, guarded)

    def _visit_reference(
        self, node: Union[cst.Name, cst.Attribute], guarded: Tiers, truth: bool
    ) -> None:
        for qualified in self.index.qualified_names(node):
            tier = context_local_tier(qualified)
            if tier is None:
                continue
            local = canonical_name(qualified)
            if truth and local in PROXY_OBJECTS:
                return  # bool(proxy) is False outside a context: a guard, not a use
            self.reads.append(
                Read(tier, local, self._read_text(node), self.index.line(node), guarded)
            )
            return
        self._edge(node, node, guarded)
        if isinstance(node, cst.Attribute):
            self._push(node.value, guarded)

    def _edge(self, reference: cst.BaseExpression, at: cst.CSTNode, guarded: Tiers) -> None:
        for target in self.analysis.callee_of(reference):
            if target.node is not self.function:
                self.edges.append(Edge(target, self.index.line(at), guarded))

    def _read_text(self, node: cst.BaseExpression) -> str:
        """``request.json`` for the ``request`` in ``request.json.get(...)``."""
        current: cst.CSTNode = node
        parent = self.index.parent(current)
        while isinstance(parent, cst.Attribute) and parent.value is current:
            current = parent
            parent = self.index.parent(current)
        text = self.index.code(current, 50)
        if isinstance(parent, cst.Call) and parent.func is current:
            text += "()"
        return text

    def _visit_conditional(self, node: Union[cst.If, cst.IfExp], guarded: Tiers) -> None:
        self._push(node.test, guarded, True)
        self._push(node.body, guarded | self._guard(node.test))
        self._push(node.orelse, guarded | self._negated_guard(node.test))

    def _visit_boolean(self, node: cst.BooleanOperation, guarded: Tiers, truth: bool) -> None:
        self._push(node.left, guarded, True)
        if isinstance(node.operator, cst.And):
            self._push(node.right, guarded | self._guard(node.left), truth)
        else:
            self._push(node.right, guarded | self._negated_guard(node.left), truth)

    def _visit_with(self, node: cst.With, guarded: Tiers) -> None:
        pushed: Set[Tier] = set()
        for item in node.items:
            self._push(item.item, guarded)
            call = item.item
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
                pushed |= CONTEXT_MANAGER_METHODS.get(call.func.attr.value, NO_TIERS)
        self._push(node.body, guarded | frozenset(pushed))

    def _visit_block(self, statements: Sequence[cst.BaseStatement], guarded: Tiers) -> None:
        """Statements in order; ``if not has_request_context(): return`` guards the rest."""
        current = guarded
        for statement in statements:
            self._push(statement, current)
            if (
                isinstance(statement, cst.If)
                and statement.orelse is None
                and _always_exits(statement.body)
            ):
                current = current | self._negated_guard(statement.test)

    def _guard(self, test: cst.BaseExpression) -> Tiers:
        """Tiers that are bound whenever ``test`` is true."""
        if isinstance(test, cst.BooleanOperation):
            left, right = self._guard(test.left), self._guard(test.right)
            return left | right if isinstance(test.operator, cst.And) else left & right
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return NO_TIERS
        if isinstance(test, cst.Call) and _is_bool_call(test):
            return self._guard(test.args[0].value)
        if isinstance(test, cst.Call) and _is_name_like(test.func):
            for qualified in self.index.qualified_names(test.func):
                tier = GUARD_CALLS.get(qualified)
                if tier is not None:
                    return GUARD_IMPLIES[tier]
            return NO_TIERS
        if _is_name_like(test):
            for qualified in self.index.qualified_names(test):
                local = canonical_name(qualified)
                tier = context_local_tier(local)
                if tier is not None and local in PROXY_OBJECTS:
                    return GUARD_IMPLIES[tier]
        return NO_TIERS

    def _negated_guard(self, test: cst.BaseExpression) -> Tiers:
        """Tiers that are bound whenever ``test`` is false."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self._guard(test.expression)
        if isinstance(test, cst.BooleanOperation):
            left, right = self._negated_guard(test.left), self._negated_guard(test.right)
            return left | right if isinstance(test.operator, cst.Or) else left & right
        return NO_TIERS


#: Last components of the dispatchers' names: a cheap test before resolving a call.
_DISPATCHER_LAST_NAMES = frozenset(
    name.rsplit(".", 1)[-1] for d in CALL_DISPATCHERS for name in d.qualified_names
)


def _last_name(expr: cst.BaseExpression) -> Optional[str]:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def _is_name_like(expr: cst.CSTNode) -> bool:
    return isinstance(expr, (cst.Name, cst.Attribute))


def _is_bool_call(call: cst.Call) -> bool:
    return (
        isinstance(call.func, cst.Name)
        and call.func.value == "bool"
        and len(call.args) == 1
        and not call.args[0].star
    )


def _argument(call: cst.Call, position: int, keyword: str) -> Optional[cst.BaseExpression]:
    """The argument passed as ``keyword=`` or at ``position`` (0-based), if any."""
    positional = 0
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return arg.value
        elif arg.star:
            return None  # *args: positions beyond this point are unknown
        else:
            if positional == position:
                return arg.value
            positional += 1
    return None


def _parameters(params: cst.Parameters) -> List[cst.Param]:
    collected = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    return collected


def _always_exits(body: cst.BaseSuite) -> bool:
    """Whether a block ends in ``return``/``raise``/``continue``/``break``."""
    exits = (cst.Return, cst.Raise, cst.Continue, cst.Break)
    if isinstance(body, cst.SimpleStatementSuite):
        return bool(body.body) and isinstance(body.body[-1], exits)
    if isinstance(body, cst.IndentedBlock) and body.body:
        last = body.body[-1]
        return isinstance(last, cst.SimpleStatementLine) and bool(last.body) and isinstance(
            last.body[-1], exits
        )
    return False


def _walk(node: cst.CSTNode) -> List[cst.CSTNode]:
    """All nodes under ``node`` (iterative: no recursion limit)."""
    out: List[cst.CSTNode] = []
    stack: List[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.children)
    return out
