"""One function body scanned once for what reach needs: the context-locals it reads and
the callables it calls, each with the tiers that guards make safe at that point
(``if has_request_context():``, ``with app.app_context():``, an early
``if not request: return``, a parameter the call site passes a falsy constant).

Only what the body *certainly* does counts (SPEC section 6).  A callable is followed where
it is called -- ``fn()``, a property read, or handed to a library function known to call
it on the spot (``sorted(key=fn)``: ``knowledge.calls``) -- not where it is merely named:
stored, registered, returned, decorated or handed to something that may call it later
(``app.errorhandler(404)(fn)``, ``babel.localeselector(lambda: ...)``).  A context-local
is read where it is dereferenced -- an attribute, a subscript, a call, iteration,
comparison, formatting, or a library function known to read its argument -- not where it
is bound, stored or returned (a proxy *crossing* into a worker is FCX200's business).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from ..knowledge.contexts import (
    FAKE_REQUEST_METHODS,
    GUARD_CALLS,
    GUARD_IMPLIES,
    Tier,
    canonical_name,
)
from ..knowledge.signals import IMPLICIT_SENDS
from .chains import NO_TIERS, Edge, Facts, Read, Tiers
from .falsy import falsy_parameters, parameters as _parameters
from .shapes import always_exits, catches_runtime_error, is_bool_call, registers_for_flask
from .pushes import context_of, pushes_of
from .uses import certainly_called, dereferenced, is_property
from .names import child_nodes
from .targets import CallableNode, is_name_like

if TYPE_CHECKING:  # pragma: no cover
    from .reach import Reach


class BodyScanner:
    """Collects the reads and outgoing references of one function body.

    Iterative (an explicit stack) so deeply nested code cannot hit the recursion
    limit.  Each stack entry carries the tiers made safe by the guards around it and
    whether the node is evaluated only for its truth value (``if request:``).
    """

    def __init__(self, reach: "Reach", function: CallableNode) -> None:
        self.reach = reach
        self.index = reach.index
        self.knowledge = reach.knowledge
        self.function = function
        self.reads: List[Read] = []
        self.edges: List[Edge] = []
        self.closures: List[Tuple[cst.Name, str]] = []
        self._stack: List[
            Tuple[cst.CSTNode, Tiers, bool, Optional[cst.With], FrozenSet[str]]
        ] = []
        #: The innermost ``with ....test_request_context():`` around the node being
        #: visited (FCX420), inherited by everything pushed while visiting it.
        self._fake: Optional[cst.With] = None
        #: ``_guard``/``_negated_guard`` by (node, negated): ``a and b and c ...`` asks
        #: for the guard of every left operand, which contains all the earlier ones --
        #: quadratic without the memo (1,000 operands took half a minute).
        self._guards: Dict[Tuple[cst.CSTNode, bool], Tiers] = {}
        #: Parameters the node being visited needs to be true (``if notify:``),
        #: inherited like ``_fake``; only tracked for the function's own parameters.
        self._needs_true: FrozenSet[str] = frozenset()
        self._parameter_names: FrozenSet[str] = frozenset(
            p.name.value for p in _parameters(function.params)
        ) if isinstance(function, (cst.FunctionDef, cst.Lambda)) else frozenset()

    def scan(self) -> Facts:
        node = self.function
        if isinstance(node, cst.GeneratorExp):
            # The outermost iterable is evaluated where the expression is created (the
            # view); the element, the conditions and inner loops run when iterated.
            self._push(node.elt, NO_TIERS)
            for condition in node.for_in.ifs:
                self._push(condition.test, NO_TIERS)
            self._push(node.for_in.inner_for_in, NO_TIERS)
        elif isinstance(node, cst.FunctionDef):
            # A project decorator may push a context around every call (``@with_app_context``).
            self._push(node.body, self.reach.resolver.pushed_by_decorators(node))
        else:
            self._push(node.body, NO_TIERS)
        while self._stack:
            current, guarded, truth, self._fake, self._needs_true = self._stack.pop()
            self._visit(current, guarded, truth)
        order = self.index.order
        self.reads.sort(key=lambda read: order(read.node))
        self.edges.sort(key=lambda edge: order(edge.node))
        return Facts(self.reads, self.edges, self.closures)

    def _push(self, node: Optional[cst.CSTNode], guarded: Tiers, truth: bool = False) -> None:
        if node is not None:
            self._stack.append((node, guarded, truth, self._fake, self._needs_true))

    def _visit(self, node: cst.CSTNode, guarded: Tiers, truth: bool) -> None:
        if isinstance(node, (cst.Name, cst.Attribute)):
            self._visit_reference(node, guarded, truth)
        elif isinstance(node, cst.Lambda):
            if certainly_called(self.index, node) or self.reach.called_by_helper(node):
                # else built here, run later if ever
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
            self._push_under(node.test, True, node.body, guarded | self._guard(node.test))
            self._push(node.orelse, guarded)
        elif isinstance(node, cst.BooleanOperation):
            self._visit_boolean(node, guarded, truth)
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            self._push(node.expression, guarded, True)
        elif isinstance(node, cst.Call) and is_bool_call(node):
            self._push(node.args[0].value, guarded, True)
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Call):
            # ``wrap(fn)()``: the call runs what ``wrap`` returns, when that is certain
            # (every ``return`` of ``wrap`` hands back the same nested function).
            for part in child_nodes(node):
                self._push(part, guarded)
            for target in self.reach.returned_by(node.func):
                if target.node is not self.function:
                    self.edges.append(
                        Edge(target, node, self.index, guarded, self._fake, self._needs_true)
                    )
        elif isinstance(node, cst.Call) and registers_for_flask(node):
            # ``app.before_request(load_user)``: Flask calls it later, in a context.
            self._push(node.func, guarded)
            for arg in node.args:
                if not isinstance(arg.value, (cst.Name, cst.Attribute)):
                    self._push(arg.value, guarded)
        elif isinstance(node, cst.With):
            self._visit_with(node, guarded)
        elif isinstance(node, cst.Try) and catches_runtime_error(node):
            # ``try: request.headers[...] except RuntimeError: ...``: the code expects
            # to run without a context and handles it.
            self._push(node.body, guarded | GUARD_IMPLIES[Tier.REQUEST])
            rest: List[Optional[cst.CSTNode]] = [*node.handlers, node.orelse, node.finalbody]
            for child in rest:
                self._push(child, guarded)
        elif isinstance(node, cst.IndentedBlock):
            self._visit_block(node.body, guarded)
        else:
            for child in child_nodes(node):
                self._push(child, guarded)

    def _visit_reference(
        self, node: Union[cst.Name, cst.Attribute], guarded: Tiers, truth: bool
    ) -> None:
        for qualified in self.index.qualified_names(node):
            tier = self.knowledge.tier_of(qualified)
            if tier is None:
                continue
            self._read(node, canonical_name(qualified), tier, guarded, truth)
            if qualified in IMPLICIT_SENDS:  # ``render_template`` runs signal receivers
                self._edge(node, node, guarded)
            return
        extension = self.reach.resolver.extension_local(node)
        if extension is not None:
            label, tier, proxy = extension
            self._read(node, label, tier, guarded, truth, proxy)
            return
        if isinstance(node, cst.Name) and self._visit_alias(node, guarded, truth):
            return
        self._edge(node, node, guarded)
        if isinstance(node, cst.Attribute):
            self._push(node.value, guarded)

    def _read(
        self,
        node: cst.BaseExpression,
        local: str,
        tier: Tier,
        guarded: Tiers,
        truth: bool,
        proxy: bool = False,
    ) -> None:
        if truth and (proxy or local in self.knowledge.proxy_objects):
            return  # bool(proxy) is False outside a context: a guard, not a use
        if not dereferenced(self.index, node) and not self.reach.read_by_helper(node):
            return  # named, bound, stored, returned or handed on: not read here
        self.reads.append(
            Read(
                tier,
                local,
                self._read_text(node),
                node,
                self.index,
                guarded,
                self._fake,
                self._is_store(node),
                self._needs_true,
            )
        )

    def _is_store(self, node: cst.BaseExpression) -> bool:
        """``g.user = ...`` or ``setattr(g, "user", ...)``: writing, not reading."""
        parent = self.index.parent(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return isinstance(self.index.parent(parent), cst.AssignTarget)
        if isinstance(parent, cst.Arg) and parent.value is node:
            call = self.index.parent(parent)
            return (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Name)
                and call.func.value == "setattr"
                and bool(call.args)
                and call.args[0] is parent
            )
        return False

    def _visit_alias(self, node: cst.Name, guarded: Tiers, truth: bool) -> bool:
        """``req`` where ``req = request``: a module-level alias is the proxy itself
        (a read); one assigned in an enclosing function (the view) is closed over."""
        alias = self.reach.resolver.proxy_alias(node)
        if alias is None:
            return False
        local, assigned_in = alias
        if assigned_in is None or assigned_in is self.function:
            # module level, or this function's own ``found = current_app``: the name is
            # the proxy, read wherever it is dereferenced
            tier = self.knowledge.tier_of(local)
            if tier is not None:
                self._read(node, local, tier, guarded, truth)
            return True
        if any(ancestor is assigned_in for ancestor in self.index.ancestors(self.function)):
            self.closures.append((node, local))
            return True
        return False

    def _edge(self, reference: cst.BaseExpression, at: cst.CSTNode, guarded: Tiers) -> None:
        call = self.index.parent(reference)
        called = isinstance(call, cst.Call) and call.func is reference
        picked = self._picked_from_container(reference)
        if picked is not None:  # ``HANDLERS[kind](msg)`` / ``HANDLERS.get(kind)(msg)``
            reference, call, called = picked, self.index.parent(picked), True
        certain = (
            called
            or certainly_called(self.index, reference)
            or self.reach.called_by_helper(reference)
        )
        if not certain and not isinstance(reference, cst.Attribute):
            return  # named, not called: a property read is the only call left
        targets = self.reach.called_through(reference) if called else (
            self.reach.callees_of(reference)
        )
        for target in targets:
            if not certain and not is_property(target.node):
                continue
            if target.node is not self.function:
                falsy = (
                    falsy_parameters(call, target.node, isinstance(reference, cst.Attribute))
                    if called and isinstance(call, cst.Call) else frozenset()
                )
                self.edges.append(
                    Edge(target, at, self.index, guarded, self._fake, self._needs_true, falsy)
                )

    def _picked_from_container(self, name: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        """``HANDLERS[kind]`` or ``HANDLERS.get(kind)`` when the result is called on the
        spot: the expression that picks the callable (resolved like a dispatched one)."""
        if not isinstance(name, cst.Name):
            return None
        parent = self.index.parent(name)
        picked: Optional[cst.BaseExpression] = None
        if isinstance(parent, cst.Subscript) and parent.value is name:
            picked = parent
        elif (
            isinstance(parent, cst.Attribute) and parent.value is name
            and parent.attr.value == "get"
        ):
            getter = self.index.parent(parent)
            if isinstance(getter, cst.Call) and getter.func is parent:
                picked = getter
        if picked is None:
            return None
        caller = self.index.parent(picked)
        return picked if isinstance(caller, cst.Call) and caller.func is picked else None

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
        self._push_under(node.test, True, node.body, guarded | self._guard(node.test))
        self._push_under(node.test, False, node.orelse, guarded | self._negated_guard(node.test))

    def _visit_boolean(self, node: cst.BooleanOperation, guarded: Tiers, truth: bool) -> None:
        self._push(node.left, guarded, True)
        if isinstance(node.operator, cst.And):
            self._push_under(node.left, True, node.right, guarded | self._guard(node.left), truth)
        else:
            right = guarded | self._negated_guard(node.left)
            self._push_under(node.left, False, node.right, right, truth)

    def _push_under(
        self,
        test: cst.BaseExpression,
        outcome: bool,
        node: Optional[cst.CSTNode],
        guarded: Tiers,
        truth: bool = False,
    ) -> None:
        """Push ``node``, which runs only when ``test`` is ``outcome``: it also needs
        the parameters that outcome implies true (``if notify:`` -> ``notify``)."""
        outer = self._needs_true
        self._needs_true = outer | self._true_parameters(test, outcome)
        self._push(node, guarded, truth)
        self._needs_true = outer

    def _true_parameters(self, test: cst.BaseExpression, outcome: bool) -> FrozenSet[str]:
        """The function's parameters that are true whenever ``test`` is ``outcome``."""
        if not self._parameter_names:
            return frozenset()
        if isinstance(test, cst.Name):
            return frozenset({test.value}) & self._parameter_names if outcome else frozenset()
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self._true_parameters(test.expression, not outcome)
        if isinstance(test, cst.Call) and is_bool_call(test):
            return self._true_parameters(test.args[0].value, outcome)
        if isinstance(test, cst.BooleanOperation):
            left = self._true_parameters(test.left, outcome)
            right = self._true_parameters(test.right, outcome)
            both = isinstance(test.operator, cst.And) == outcome
            return left | right if both else left & right
        return frozenset()

    def _visit_with(self, node: cst.With, guarded: Tiers) -> None:
        pushed: Set[Tier] = set()
        fake = self._fake
        for item in node.items:
            self._push(item.item, guarded)
            call = item.item
            pushed |= self._context_of(call)
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
                if call.func.attr.value in FAKE_REQUEST_METHODS:
                    fake = node
        outer, self._fake = self._fake, fake
        self._push(node.body, guarded | frozenset(pushed))
        self._fake = outer

    def _context_of(self, expr: cst.BaseExpression) -> Tiers:
        return context_of(self.reach, expr, self._parameter_names)

    def _pushes(self, statement: cst.BaseStatement) -> Tiers:
        """What ``statement`` pushes for the statements after it (``ctx.push()``; an
        ``if not has_app_context(): app.app_context().push()`` too: either way one is
        there after it)."""
        pushed = pushes_of(self.reach, statement, self._parameter_names)
        if isinstance(statement, cst.If) and statement.orelse is None:
            body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
            inside: Set[Tier] = set()
            for inner in body:
                inside |= pushes_of(self.reach, inner, self._parameter_names)
            pushed = pushed | (frozenset(inside) & self._negated_guard(statement.test))
        return pushed

    def _visit_block(self, statements: Sequence[cst.BaseStatement], guarded: Tiers) -> None:
        """Statements in order; ``if not has_request_context(): return`` guards the rest,
        and so does a context pushed by ``ctx.push()``."""
        current = guarded
        outer = self._needs_true
        for statement in statements:
            self._push(statement, current)
            current = current | self._pushes(statement)
            if (
                isinstance(statement, cst.If)
                and statement.orelse is None
                and always_exits(statement.body)
            ):
                current = current | self._negated_guard(statement.test)
                self._needs_true |= self._true_parameters(statement.test, False)
        self._needs_true = outer

    def _guard(self, test: cst.BaseExpression) -> Tiers:
        """Tiers that are bound whenever ``test`` is true."""
        return self._memoised_guard(test, False)

    def _negated_guard(self, test: cst.BaseExpression) -> Tiers:
        """Tiers that are bound whenever ``test`` is false."""
        return self._memoised_guard(test, True)

    def _memoised_guard(self, test: cst.BaseExpression, negated: bool) -> Tiers:
        found = self._guards.get((test, negated))
        if found is None:
            compute = self._compute_negated_guard if negated else self._compute_guard
            found = self._guards[(test, negated)] = compute(test)
        return found

    def _compute_guard(self, test: cst.BaseExpression) -> Tiers:
        if isinstance(test, cst.BooleanOperation):
            left, right = self._guard(test.left), self._guard(test.right)
            return left | right if isinstance(test.operator, cst.And) else left & right
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return NO_TIERS
        if isinstance(test, cst.Call) and is_bool_call(test):
            return self._guard(test.args[0].value)
        if isinstance(test, cst.Call) and is_name_like(test.func):
            for qualified in self.index.qualified_names(test.func):
                tier = GUARD_CALLS.get(qualified)
                if tier is not None:
                    return GUARD_IMPLIES[tier]
            return NO_TIERS
        if is_name_like(test):
            for qualified in self.index.qualified_names(test):
                local = canonical_name(qualified)
                tier = self.knowledge.tier_of(local)
                if tier is not None and local in self.knowledge.proxy_objects:
                    return GUARD_IMPLIES[tier]
        if isinstance(test, cst.Name):
            # ``in_request = has_request_context()`` then ``if in_request:``
            values = self.index.bindings(test)
            guards = [self._guard(v) for v in values if isinstance(v, cst.Call)]
            if guards and len(guards) == len(values):
                return frozenset.intersection(*guards)
        return NO_TIERS

    def _compute_negated_guard(self, test: cst.BaseExpression) -> Tiers:
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self._guard(test.expression)
        if isinstance(test, cst.BooleanOperation):
            left, right = self._negated_guard(test.left), self._negated_guard(test.right)
            return left | right if isinstance(test.operator, cst.Or) else left & right
        return NO_TIERS
