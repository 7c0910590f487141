"""Third gate, on ``ast``: could any site of this module produce a finding?

The second gate (``candidates.py``) lets a module through when it has a place a
finding could be reported at: a dispatch call, a task decorator, a thread subclass, a
streamed generator.  Most such modules report nothing, because what they dispatch never
reaches a context-local (``Thread(target=self._run_worker)`` in a worker pool), yet each
cost a LibCST parse and an analysis.  This gate looks at what each site hands over --
the callable and values of a dispatch call, the body of a task, the methods of a thread
subclass, a streamed generator -- and lets the module through only if one of them
may reach a context-local (``taint.py``, ``project_taint.py``), directly or through a
local name bound to it.

It errs one way only: when it cannot tell (a bound dispatch method kept in a variable,
a dispatcher imported under another name, ``copy_current_request_context`` anywhere),
the module goes on to the engine.

**Experimental, off by default** (``FLASK_CTX_SEMANTIC_GATE=on`` turns it on;
``tests/test_semantic_gate.py`` checks it changes no finding on any fixture, and
``benchmarks/realapps.py`` run with it on gave the same reports on 44 applications).  It
rules out most modules that report nothing, but on the applications measured it costs
about what it saves (docs/performance.md).
"""

from __future__ import annotations

import ast
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from ..knowledge import Knowledge
from .ast_walk import children
from .candidates import _ALWAYS, _root, is_generator, last_name, vocabulary_of
from .summaries import Mentions, mentions_of, references
from .taint import NameContext, Oracle

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


class _Scope:
    """A function (or the module): its parameters and the names bound in it."""

    def __init__(self, node: ast.AST, parent: Optional["_Scope"]) -> None:
        self.node = node
        self.parent = parent
        self.bindings: List[Tuple[str, ast.AST]] = []
        self.parameters: Set[str] = set()
        self._tainted_names: Set[Tuple[int, str]] = set()
        self._values: Optional[Dict[str, List[ast.AST]]] = None
        self._bound: Optional[FrozenSet[str]] = None

    def bound(self) -> FrozenSet[str]:
        """Names local to this function or an enclosing one (not the module's)."""
        if self._bound is None:
            names: Set[str] = set()
            scope: Optional[_Scope] = self
            while scope is not None and scope.parent is not None:
                names.update(scope.parameters)
                names.update(name for name, _ in scope.bindings)
                scope = scope.parent
            self._bound = frozenset(names)
        return self._bound

    def is_tainted(
        self, name: str, taint: Oracle, context: NameContext, owner: str,
        visiting: Optional[Set[Tuple[int, str]]] = None,
    ) -> bool:
        """Whether the local ``name`` (of this function or an enclosing one: closures
        read them) is bound to something that may reach a context-local: ``job =
        partial(work, x)``, ``for fn in (a, b)``, ``def start(handler=on_message)``.
        Worked out for the names asked about only, through the locals their values
        mention (a cycle of locals adds nothing)."""
        visiting = set() if visiting is None else visiting
        scope: Optional[_Scope] = self
        while scope is not None and scope.parent is not None:
            values = scope.values().get(name)
            if values is not None or name in scope.parameters:
                key = (id(scope), name)
                if key in scope._tainted_names:
                    return True
                if key in visiting:
                    return False
                visiting.add(key)
                bound = scope.bound()
                for value in values or ():
                    mentioned = _value(value)
                    if any(
                        scope.is_tainted(local, taint, context, owner, visiting)
                        for local in mentioned.names & bound
                    ) or _hits(taint, mentioned, context, bound, owner):
                        scope._tainted_names.add(key)
                        return True
                return False
            scope = scope.parent
        return False

    def values(self) -> Dict[str, List[ast.AST]]:
        if self._values is None:
            self._values = {}
            for name, value in self.bindings:
                self._values.setdefault(name, []).append(value)
        return self._values

    def owner_of(self, name: str) -> Optional["_Scope"]:
        """The nearest enclosing function that has ``name`` as a parameter without a
        default (the callable comes from its callers), if any."""
        scope: Optional[_Scope] = self
        while scope is not None:
            if name in scope.parameters:
                return scope
            if any(bound == name for bound, _ in scope.bindings):
                return None
            scope = scope.parent
        return None


def _bind(scope: _Scope, target: ast.AST, value: ast.AST) -> None:
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            scope.bindings.append((node.id, value))
        elif isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)


#: The nodes a site check asks about (``SemanticGate.hits``'s ``at``).
_ASKED = (ast.Call, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.GeneratorExp)


#: The nodes the site checks look at (``SemanticGate.may_report``).
_LOOKED_AT = (
    ast.Call, ast.Assign, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
    ast.ClassDef, ast.Yield, ast.YieldFrom, ast.GeneratorExp,
)


class _Walk:
    """One walk of the checked module: the scope and the enclosing class of every node
    a site check asks about (by ``id``), the bindings of each scope, the nodes the
    checks look at, the functions of calls and decorators."""

    def __init__(self, tree: ast.AST) -> None:
        self.where: Dict[int, _Scope] = {}
        self.owners: Dict[int, str] = {}
        self.nodes: List[ast.AST] = []
        self.applied: Set[int] = set()
        self.always = False
        _scopes(tree, self)


def _scopes(tree: ast.AST, walk: _Walk) -> None:
    module = _Scope(tree, None)
    where, owners, nodes, applied = walk.where, walk.owners, walk.nodes, walk.applied
    where[id(tree)] = module
    stack: List[Tuple[ast.AST, _Scope, str]] = [(tree, module, "")]
    while stack:
        node, scope, owner = stack.pop()
        if isinstance(node, _ASKED):
            where[id(node)] = scope
            owners[id(node)] = owner
        if isinstance(node, _LOOKED_AT):
            nodes.append(node)
            if isinstance(node, ast.Call):
                applied.add(id(node.func))
            elif isinstance(node, _DEFS):
                applied.update(id(d) for d in node.decorator_list)
        elif isinstance(node, (ast.Name, ast.Attribute)) and last_name(node) in _ALWAYS:
            walk.always = True
        inner = scope
        if isinstance(node, _SCOPES):
            inner = _Scope(node, scope)
            arguments = node.args
            positional = [*arguments.posonlyargs, *arguments.args]
            defaults = [None] * (len(positional) - len(arguments.defaults)) + list(
                arguments.defaults
            )
            pairs = [*zip(positional, defaults), *zip(arguments.kwonlyargs, arguments.kw_defaults)]
            for argument, default in pairs:
                if default is None:
                    inner.parameters.add(argument.arg)
                else:
                    inner.bindings.append((argument.arg, default))
            for extra in (arguments.vararg, arguments.kwarg):
                if extra is not None:
                    inner.parameters.add(extra.arg)
            inner.parameters -= {"self", "cls"}
            if isinstance(node, _DEFS):
                scope.bindings.append((node.name, node))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            inner = _Scope(node, scope)  # its loop variables are its own
        elif isinstance(node, ast.ClassDef):
            scope.bindings.append((node.name, node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                _bind(scope, target, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            _bind(scope, node.target, node.iter)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            _bind(scope, node.optional_vars, node.context_expr)
        elif isinstance(node, ast.NamedExpr):
            _bind(scope, node.target, node.value)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            scope.bindings.append((node.name, node.type or node))
        within = node.name if isinstance(node, ast.ClassDef) else owner
        for child in children(node):
            if isinstance(node, _SCOPES) and child is getattr(node, "args", None):
                stack.append((child, scope, owner))  # defaults are evaluated outside
            elif isinstance(node, _DEFS) and child in node.decorator_list:
                stack.append((child, scope, owner))
            else:
                stack.append((child, inner, within))


class SemanticGate:
    """The question for one module; see the module docstring."""

    def __init__(
        self,
        tree: ast.AST,
        knowledge: Knowledge,
        taint: Oracle,
        context: NameContext,
        wrappers: FrozenSet[str],
        generators: FrozenSet[str],
    ) -> None:
        self.tree = tree
        self.context = context
        self.vocabulary = vocabulary_of(knowledge)
        self.taint = taint
        self.wrappers = wrappers
        self.generators = generators
        walk = _Walk(tree)
        self.walk = walk
        self.scopes, self.owners = walk.where, walk.owners
        #: Functions whose parameter is dispatched: their callers are sites too.
        self.forwarding: Set[str] = set()

    def hits(self, node: Optional[ast.AST], at: ast.AST) -> bool:
        """Whether ``node`` (evaluated where ``at`` is) mentions a tainted word; notes
        the enclosing function as forwarding when it mentions one of its parameters."""
        if node is None:
            return False
        scope = self.scopes.get(id(at)) or self.scopes[id(self.tree)]
        mentioned = _value(node, through_calls=True)
        bound, owner = scope.bound(), self.owners.get(id(at), "")
        if any(
            scope.is_tainted(local, self.taint, self.context, owner)
            for local in mentioned.names & bound
        ) or _hits(self.taint, mentioned, self.context, bound, owner):
            return True
        for name in mentioned.names:
            function = scope.owner_of(name)
            if function is not None and isinstance(function.node, _DEFS):
                self.forwarding.add(function.node.name)
        return False

    def _call_payload(self, call: ast.Call, receiver: bool) -> bool:
        values: List[Optional[ast.AST]] = [*call.args, *(k.value for k in call.keywords)]
        if receiver and isinstance(call.func, ast.Attribute):
            values.append(call.func.value)
        return any(self.hits(value, call) for value in values)

    def may_report(self) -> bool:
        vocabulary = self.vocabulary
        found = False
        generator_possible = False
        if self.walk.always:
            return True  # ``copy_current_request_context`` & co. anywhere
        # ``ImportWorker(store, urls)`` of a thread class of the module: the instance
        # runs with what it was built with (the engine types ``self.store`` by it).
        threads = {
            node.name for node in self.walk.nodes if isinstance(node, ast.ClassDef)
            and any(last_name(b) in vocabulary.thread_bases for b in node.bases)
        }
        for node in self.walk.nodes:
            if isinstance(node, ast.Call):
                last = last_name(node.func)
                if last in threads:
                    found = self._call_payload(node, receiver=False)
                elif last in vocabulary.responses:
                    found = found or self._call_payload(node, receiver=False)
                elif last in vocabulary.calls or last in vocabulary.optional_calls or (
                    isinstance(node.func, ast.Attribute) and last in vocabulary.methods
                ) or last in vocabulary.module_calls:
                    found = found or self._call_payload(node, receiver=True)
                elif _root(node.func) in self.wrappers:
                    found = found or self._call_payload(node, receiver=True) or self.hits(
                        node.func, node
                    )
            elif isinstance(node, ast.Assign) and _binds_dispatch_method(node, vocabulary.methods):
                return True  # ``run_later = pool.submit``: its calls are sites
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                alias.asname and alias.name.rsplit(".", 1)[-1] in vocabulary.words
                for alias in node.names
            ):
                return True  # ``from threading import Thread as Job``
            elif isinstance(node, _DEFS):
                if any(
                    last_name(d) in vocabulary.decorators or _root(d) in self.wrappers
                    for d in node.decorator_list
                ) and self.hits(node, node):
                    return True
            elif isinstance(node, ast.ClassDef):
                if any(last_name(b) in vocabulary.thread_bases for b in node.bases) and self.hits(
                    node, node
                ):
                    return True
            elif isinstance(node, (ast.Yield, ast.YieldFrom, ast.GeneratorExp)):
                generator_possible = True
            if found:
                return True
        if generator_possible or self.generators:
            if self._streams_tainted():
                return True
        return self._forwarded_callers()

    def _streams_tainted(self) -> bool:
        """A generator of the module (or a project generator it calls) that mentions a
        tainted word: it may be returned from a view as a streamed body."""
        for name in self.generators:
            if self.taint.hits(Mentions(names={name}), self.context):
                return True
        for node in self.walk.nodes:
            if isinstance(node, _DEFS) and is_generator(node) and self.hits(node, node):
                return True
            if isinstance(node, ast.GeneratorExp) and self.hits(node, node):
                return True
        return False

    def _forwarded_callers(self) -> bool:
        """Callers, in this module, of functions that dispatch their parameter: each
        call (or decoration, or use as a value) is a site, judged by what it passes."""
        done: Set[str] = set()
        while self.forwarding - done:
            name = sorted(self.forwarding - done)[0]
            done.add(name)
            for node in _walk(self.tree):
                if isinstance(node, ast.Call) and last_name(node.func) == name:
                    if self._call_payload(node, receiver=False):
                        return True
                elif isinstance(node, _DEFS) and any(
                    last_name(d) == name for d in node.decorator_list
                ):
                    if self.hits(node, node):
                        return True
                elif isinstance(node, (ast.Name, ast.Attribute)) and last_name(node) == name:
                    if id(node) not in self.walk.applied:
                        return True  # handed along as a value: cannot follow cheaply
        return False


def _hits(
    taint: Oracle, mentions: Mentions, context: NameContext, bound: FrozenSet[str], owner: str
) -> bool:
    """``taint.hits`` for code in a function: its locals (``bound``) are not the
    module's names (the caller asks about them with ``_Scope.is_tainted``)."""
    if mentions.names & bound:
        mentions = Mentions(
            mentions.names - bound, mentions.self_attrs, mentions.attrs,
            {pair for pair in mentions.named_attrs if pair[0] not in bound},
            mentions.called - bound,
        )
    return taint.hits(mentions, context, frozenset(), owner)


def _value(node: ast.AST, through_calls: bool = False) -> Mentions:
    """What a definition mentions, or what a value can be (``summaries.references``)."""
    if isinstance(node, (*_DEFS, ast.ClassDef)):
        return mentions_of(node)
    return references(node, through_calls)


def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


def _binds_dispatch_method(node: ast.Assign, methods: FrozenSet[str]) -> bool:
    bound: ast.AST = node.value
    if isinstance(bound, ast.Call) and last_name(bound.func) == "partial" and bound.args:
        bound = bound.args[0]
    return isinstance(bound, ast.Attribute) and bound.attr in methods
