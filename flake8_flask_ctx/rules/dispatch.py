"""Where code leaves the request: the dispatch sites of one module.

A dispatch site is a call that hands a callable to something that runs it elsewhere
(``pool.submit(fn)``, ``Thread(target=fn)``, a started ``Thread`` subclass).  Besides
the library dispatchers listed in ``knowledge``, a function of the module that
hands one of *its own parameters* to a dispatcher is a dispatcher too
(``def run_async(fn): executor.submit(fn)``); such wrappers are found to a fixpoint,
so ``run_async(send_mail)`` in a view is followed like ``executor.submit(send_mail)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, FrozenSet, List, Optional, Set, Tuple, Union

import libcst as cst

from ..knowledge import Knowledge
from ..knowledge.contexts import Tier
from ..knowledge.dispatchers import (
    CALL_DISPATCHERS,
    MANY_INVOCATION_METHODS,
    CallDispatcher,
    Forwards,
    MethodDispatcher,
    ReceiverType,
    ThreadBase,
)
from ..engine.names import ModuleIndex, last_name, root_name
from ..engine.resolution import Resolver
from ..engine.pushed import PushedContext
from ..engine.sites import DispatchSite
from .task_sites import TaskSites

Tiers = FrozenSet[Tier]
NO_TIERS: Tiers = frozenset()

#: A project wrapper forwards whatever else it is given (``run_async(fn, *args)``).
_EVERYTHING = Forwards(rest_from=0, other_keywords=True)
#: Wrappers of wrappers are followed this many levels deep.
MAX_WRAPPER_ROUNDS = 5
#: Uses of a thread object that do not start it (``t.run()`` runs synchronously).
NON_STARTING_USES = frozenset({"run", "join", "name", "daemon", "is_alive", "ident"})


@dataclass(frozen=True)
class Handoff:
    """The callable argument of a dispatch call, before it is resolved."""

    argument: cst.BaseExpression
    mechanism: str
    carried: Tiers = NO_TIERS
    call: Optional[cst.Call] = None
    forwards: Forwards = Forwards()
    runs_many: bool = False


@dataclass(frozen=True)
class Wrapper:
    """A function of this module that dispatches its parameter ``keyword``."""

    function: cst.FunctionDef
    position: Optional[int]
    keyword: str
    mechanism: str
    carried: Tiers


class DispatchFinder:
    def __init__(
        self,
        index: ModuleIndex,
        resolver: Resolver,
        knowledge: Knowledge,
        follow_imports: bool = True,
        possible_wrappers: Optional[FrozenSet[str]] = None,
    ) -> None:
        #: Whether wrappers imported from other modules are looked up.  Off when this
        #: finder only computes another module's own wrappers: one level, no cascade
        #: through the project's import graph.
        self.follow_imports = follow_imports
        #: The imported names the ``ast`` gate found may be wrappers (their defining
        #: modules have a dispatch site; ``module_sites.may_be_wrapper``); None: any.
        #: Saves parsing a big module that defines a decorator used everywhere.
        self.possible_wrappers = possible_wrappers
        self.index = index
        self.resolver = resolver
        self.knowledge = knowledge
        self._dispatcher_names = {
            name.rsplit(".", 1)[-1]
            for d in knowledge.call_dispatchers
            for name in d.qualified_names
        }
        self._methods: Dict[str, List[MethodDispatcher]] = {}
        for method in knowledge.method_dispatchers:
            self._methods.setdefault(method.method, []).append(method)

    def sites(self) -> List[DispatchSite]:
        sites: List[DispatchSite] = []
        wrappers: Dict[cst.FunctionDef, Wrapper] = {}
        self.wrappers = wrappers
        for call in self.index.calls:
            found = self._direct(call)
            if isinstance(found, DispatchSite):
                sites.append(found)
            elif found is not None:
                self._add(found, sites, wrappers)
        self._follow_wrappers(sites, wrappers)
        sites.extend(self._decorated_by_wrappers(wrappers))
        sites.extend(TaskSites(self.index, self.resolver).sites())
        return sites

    #: The functions of this module that dispatch their own parameter (filled by
    #: ``sites()``); other modules that import them use them as dispatchers too.
    wrappers: Dict[cst.FunctionDef, Wrapper]

    def _passes_callable(self, call: cst.Call) -> bool:
        """Whether an argument of ``call`` can be a function of the project (a lambda, a
        function of this module, ``self.method``, an imported project name): only then
        can ``call`` be a wrapper handing it to a thread, worth looking up."""
        functions = self.resolver.function_names
        imported = self.resolver.project_names()
        for arg in call.args:
            value = arg.value
            if isinstance(value, cst.Lambda):
                return True
            if isinstance(value, cst.Attribute) and value.attr.value in functions:
                return True
            root = root_name(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
            if root is not None and (root.value in functions or root.value in imported):
                return True
        return False

    def _foreign_wrapper(self, func: cst.BaseExpression) -> Optional[Tuple[Wrapper, str]]:
        """A wrapper imported from another module of the project (``from .utils import
        run_async``), with its label there."""
        if not self.follow_imports or not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        if self.possible_wrappers is not None:
            root = root_name(func)
            if root is None or root.value not in self.possible_wrappers:
                return None
        symbol = self.resolver.foreign(func, self.knowledge.wrapper_words)
        if symbol is None or not isinstance(symbol.node, cst.FunctionDef):
            return None
        wrapper = symbol.unit.wrappers().get(symbol.node)
        if wrapper is None:
            return None
        return wrapper, symbol.unit.resolver.label(symbol.node)

    def _decorated_by_wrappers(
        self, wrappers: Dict[cst.FunctionDef, Wrapper]
    ) -> List[DispatchSite]:
        """``@background`` where ``def background(fn)`` starts ``fn`` in a thread: every
        call of the decorated function runs it elsewhere.  Reported at the decorator."""
        sites: List[DispatchSite] = []
        if not wrappers and not self.resolver.project_names():
            return sites
        for function in self.index.functions:
            for decorator in function.decorators:
                expr = decorator.decorator
                if not isinstance(expr, cst.Name):
                    continue
                found = [
                    wrappers[value] for value in self.index.bindings(expr)
                    if isinstance(value, cst.FunctionDef) and value in wrappers
                ]
                foreign = self._foreign_wrapper(expr) if not found else None
                if foreign is not None:
                    found.append(foreign[0])
                for wrapper in found:
                    if wrapper.position != 0:
                        continue
                    mechanism = f"{wrapper.mechanism} (started by the @{expr.value} decorator)"
                    target = self.resolver.target(function, self.resolver.label(function))
                    sites.append(DispatchSite(expr, (target,), mechanism, wrapper.carried))
        return sites

    # -- library dispatchers --------------------------------------------------------

    def _direct(self, call: cst.Call) -> Union[Handoff, DispatchSite, None]:
        func = call.func
        last = last_name(func)
        if last is None:
            return None
        if self._is_dispatcher_identifier(func, last):
            qualified = self.index.qualified_names_any(func)
            for dispatcher in self.knowledge.call_dispatchers:
                if qualified & dispatcher.qualified_names:
                    return self._library_call(call, dispatcher)
        if isinstance(func, cst.Attribute) and last in self._methods:
            return self._method_call(call, func, self._methods[last])
        bound = self._bound_dispatch_method(func)
        if bound is not None:
            return self._method_call(call, bound, self._methods[bound.attr.value])
        thread_class = self.resolver.local_class(func)
        if thread_class is not None:
            base = self.resolver.thread_base(thread_class)
            if base is not None:
                return self._thread_subclass(call, thread_class, base)
        return None

    def _bound_dispatch_method(self, func: cst.BaseExpression) -> Optional[cst.Attribute]:
        """``run_later`` where ``run_later = pool.submit``: the bound method it holds."""
        if not isinstance(func, cst.Name):
            return None
        for value in self.index.bindings(func):
            if isinstance(value, cst.Attribute) and value.attr.value in self._methods:
                return value
        return None

    def _is_dispatcher_identifier(self, func: cst.BaseExpression, last: str) -> bool:
        """Cheap test before resolving: spelled like a dispatcher, or through an
        identifier an import of a dispatcher's package bound (``Thread as Job``)."""
        if last in self._dispatcher_names:
            return True
        root = func
        while isinstance(root, cst.Attribute):
            root = root.value
        return isinstance(root, cst.Name) and root.value in self.index.dispatch_identifiers

    def _library_call(self, call: cst.Call, dispatcher: CallDispatcher) -> Optional[Handoff]:
        argument = argument_at(call, dispatcher.position, dispatcher.keyword)
        if argument is None or (dispatcher.needs_start and not self._is_started(call)):
            return None
        return Handoff(
            argument, dispatcher.mechanism, dispatcher.carries, call, dispatcher.forwards
        )

    def _method_call(
        self, call: cst.Call, func: cst.Attribute, dispatchers: List[MethodDispatcher]
    ) -> Optional[Handoff]:
        kind = self.resolver.receiver_kind(func.value)
        if isinstance(kind, cst.ClassDef):
            return None  # a class of this module: its method is analysed as a wrapper
        for dispatcher in dispatchers:
            if isinstance(kind, ReceiverType):
                if dispatcher.receivers and kind.key not in dispatcher.receivers:
                    continue
                if not kind.dispatches:
                    return None
                mechanism = dispatcher.mechanism.format(label=kind.label)
                carried = kind.carries
            elif dispatcher.on_unknown_receiver:
                mechanism = dispatcher.mechanism
                if "{label}" in mechanism:
                    mechanism = f"in a worker ({self.index.code(func, 40)})"
                carried = NO_TIERS
            else:
                continue
            if dispatcher.needs_start and not self._is_started(call):
                return None
            argument = argument_at(call, dispatcher.position, dispatcher.keyword)
            if argument is None:
                return None
            pushed = self._queue_context(dispatcher.queue)
            if pushed is not None:
                carried = carried | pushed.always
                mechanism += f" ({pushed.name} pushes an app context, not a request)"
            many = dispatcher.method in MANY_INVOCATION_METHODS
            return Handoff(argument, mechanism, carried, call, dispatcher.forwards, many)
        return None

    def _queue_context(self, queue: str) -> Optional[PushedContext]:
        """What the project pushes around every job of ``queue`` (its middleware, job
        class, or the Flask CLI command that starts its workers), if anything."""
        unit = self.resolver.unit
        if not queue or unit is None or unit.project is None:
            return None
        pushed = unit.project.facts(unit.name).queue_contexts.get(queue)
        return pushed if pushed is not None and pushed.always else None

    def _thread_subclass(
        self, call: cst.Call, thread_class: cst.ClassDef, base: ThreadBase
    ) -> Union[Handoff, DispatchSite, None]:
        if not self._is_started(call):
            return None
        name = thread_class.name.value
        run = self.resolver.find_method(thread_class, base.run_method)
        if run is None:  # the base's run calls ``target``, as threading.Thread does
            thread = CALL_DISPATCHERS[0]
            argument = argument_at(call, thread.position, thread.keyword)
            if argument is None:
                return None
            return Handoff(
                argument, f"in a new {name} {base.label}", base.carries, call, thread.forwards
            )
        mechanism = f"in a new {base.label} when {name}(...) is started"
        target = self.resolver.target(run, f"{name}.{base.run_method}()")
        return DispatchSite(call, (target,), mechanism, base.carries)

    def _is_started(self, call: cst.Call) -> bool:
        """Whether the thread object built by ``call`` may be started.

        Only provably unstarted objects are excluded: ``Worker().run()`` and a local
        variable whose every use is ``.run()``/``.join()``...; anything else (stored
        on ``self``, passed on, returned) may be started elsewhere.
        """
        parent = self.index.parent(call)
        if isinstance(parent, cst.Attribute) and parent.value is call:
            return parent.attr.value not in NON_STARTING_USES
        target = _single_assignment_target(self.index, call)
        if target is None:
            return True
        uses = self.index.uses_of_target(target)
        if uses is None:
            return True
        for use in uses:
            holder = self.index.parent(use)
            if not (isinstance(holder, cst.Attribute) and holder.value is use):
                return True  # escapes: passed, returned, stored
            if holder.attr.value not in NON_STARTING_USES:
                return True
        return False

    # -- wrappers -------------------------------------------------------------------

    def _add(
        self,
        handoff: Handoff,
        sites: List[DispatchSite],
        wrappers: Dict[cst.FunctionDef, Wrapper],
    ) -> None:
        resolution = self.resolver.callable(handoff.argument)
        if resolution.runs_next_argument:
            following = self._next_argument(handoff.argument)
            if following is not None:
                self._add(replace(handoff, argument=following), sites, wrappers)
            return
        if resolution.targets or resolution.carries_context:
            sites.append(
                DispatchSite(
                    handoff.argument,
                    tuple(resolution.targets),
                    handoff.mechanism,
                    handoff.carried,
                    call=handoff.call,
                    forwards=handoff.forwards,
                    bound_arguments=tuple(resolution.bound_arguments),
                    wrappers=tuple(resolution.wrappers),
                    wrapped_targets=tuple(resolution.wrapped_targets),
                    runs_many=handoff.runs_many,
                )
            )
            return
        if not isinstance(handoff.argument, cst.Name):
            return
        binding = self.index.parameter_binding(handoff.argument)
        if binding is None:
            return
        function, param = binding
        if function not in wrappers:
            wrappers[function] = Wrapper(
                function,
                _positional_index(function, param),
                param.name.value,
                handoff.mechanism,
                handoff.carried,
            )

    def _next_argument(self, argument: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        """The positional argument after ``argument`` in its call."""
        arg = self.index.parent(argument)
        call = self.index.parent(arg) if isinstance(arg, cst.Arg) else None
        if not isinstance(call, cst.Call) or not isinstance(arg, cst.Arg):
            return None
        args = list(call.args)
        for position, candidate in enumerate(args[:-1]):
            if candidate is arg:
                after = args[position + 1]
                return after.value if after.keyword is None and not after.star else None
        return None

    def _follow_wrappers(
        self, sites: List[DispatchSite], wrappers: Dict[cst.FunctionDef, Wrapper]
    ) -> None:
        handled: Set[cst.Call] = set()
        known = -1
        for _ in range(MAX_WRAPPER_ROUNDS):
            if len(wrappers) == known:
                return
            known = len(wrappers)
            names = {w.function.name.value for w in wrappers.values()}
            imported = self.resolver.project_names()
            for call in self.index.calls:
                if call in handled:
                    continue
                label = ""
                called = None
                if last_name(call.func) in names:
                    called = self._called_wrapper(call.func, wrappers)
                    if called is not None:
                        label = self.resolver.label(called[0].function)
                root = root_name(call.func) if called is None else None
                if root is not None and root.value in imported and self._passes_callable(call):
                    foreign = self._foreign_wrapper(call.func)
                    if foreign is not None:
                        called, label = (foreign[0], 0), foreign[1]
                if called is None:
                    continue
                handled.add(call)
                wrapper, bound = called
                position = None if wrapper.position is None else wrapper.position - bound
                argument = argument_at(call, position, wrapper.keyword)
                if argument is not None:
                    mechanism = f"{wrapper.mechanism} (handed over by {label})"
                    handoff = Handoff(argument, mechanism, wrapper.carried, call, _EVERYTHING)
                    self._add(handoff, sites, wrappers)

    def _called_wrapper(
        self, func: cst.BaseExpression, wrappers: Dict[cst.FunctionDef, Wrapper]
    ) -> Optional[Tuple[Wrapper, int]]:
        """The wrapper a call's ``func`` runs, and how many leading parameters the
        call binds implicitly (1 for ``self.m(...)``/``obj.m(...)``)."""
        if isinstance(func, cst.Name):
            for value in self.index.bindings(func):
                if isinstance(value, cst.FunctionDef) and value in wrappers:
                    return wrappers[value], 0
            return None
        if isinstance(func, cst.Attribute):
            method = self.resolver.method_of(func)
            if method is None or method not in wrappers:
                return None
            unbound = _is_static(method) or (
                isinstance(func.value, cst.Name)
                and self.resolver.local_class(func.value) is not None
            )
            return wrappers[method], 0 if unbound else 1
        return None


def argument_at(
    call: cst.Call, position: Optional[int], keyword: str
) -> Optional[cst.BaseExpression]:
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


def _positional_index(function: cst.FunctionDef, param: cst.Param) -> Optional[int]:
    positional = list(function.params.posonly_params) + list(function.params.params)
    for index, candidate in enumerate(positional):
        if candidate is param:
            return index
    return None


def _is_static(function: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
        for d in function.decorators
    )


def _single_assignment_target(index: ModuleIndex, call: cst.Call) -> Optional[cst.Name]:
    """``t`` in ``t = Thread(...)`` (one plain Name target), else None."""
    parent = index.parent(call)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        return target if isinstance(target, cst.Name) else None
    return None
