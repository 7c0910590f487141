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
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from ..knowledge import Knowledge
from ..knowledge.dispatchers import Forwards, MethodDispatcher
from .names import ModuleIndex, last_name, root_name
from .resolution import Resolver
from .sites import DispatchSite, Tiers
from .node_names import argument_at
from .library_calls import Handoff, LibraryCalls
from .task_sites import TaskSites


#: A project wrapper forwards whatever else it is given (``run_async(fn, *args)``).
_EVERYTHING = Forwards(rest_from=0, other_keywords=True)
#: Wrappers of wrappers are followed this many levels deep.
MAX_WRAPPER_ROUNDS = 5


@dataclass(frozen=True)
class Wrapper:
    """A function of this module that dispatches its parameter ``keyword``."""

    function: cst.FunctionDef
    position: Optional[int]
    keyword: str
    mechanism: str
    carried: Tiers
    in_process: bool = False
    queued: bool = False


class DispatchFinder(LibraryCalls):
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
            for found in self._direct(call):
                if isinstance(found, DispatchSite):
                    sites.append(found)
                else:
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
        call of the decorated function runs it elsewhere.  Like a task body, it is
        reported inside the function (SPEC section 4): its arguments come from callers."""
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
                    sites.append(DispatchSite(
                        expr, (target,), mechanism, wrapper.carried, report_inside=True,
                        in_process=wrapper.in_process, queued=wrapper.queued,
                    ))
        return sites

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
        binding = (
            self.index.parameter_binding(handoff.argument)
            if isinstance(handoff.argument, cst.Name) else None
        )
        if handoff.shared_copy:
            # The receiver's one copy is the wrapper; what it runs is named, not walked.
            sites.append(DispatchSite(
                handoff.argument, (), handoff.mechanism, handoff.carried, call=handoff.call,
                wrappers=(handoff.call,) if handoff.call is not None else (),
                wrapped_targets=tuple(resolution.targets), runs_many=True, shared_copy=True,
            ))
            return
        if resolution.targets or resolution.carries_context or binding is None:
            # Without targets (a library function, ``print``, an unknown callable) the
            # site still matters: what crosses is about the values (FCX200/FCX210).
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
                    in_process=handoff.in_process,
                    queued=handoff.queued,
                )
            )
            return
        function, param = binding
        if function not in wrappers:
            wrappers[function] = Wrapper(
                function,
                _positional_index(function, param),
                param.name.value,
                handoff.mechanism,
                handoff.carried,
                handoff.in_process,
                handoff.queued,
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
                    handoff = Handoff(
                        argument, mechanism, wrapper.carried, call, _EVERYTHING,
                        in_process=wrapper.in_process, queued=wrapper.queued,
                    )
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
