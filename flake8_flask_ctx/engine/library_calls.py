"""The library dispatchers of one call: ``Thread(target=fn)``, ``pool.submit(fn)``,
``ctx.Process(...)``, a started ``Thread`` subclass -- which argument is the callable,
what runs it (the mechanism in messages), which tiers the dispatcher carries, and
whether it runs in another process or many times.

A mixin of ``dispatch.DispatchFinder`` (which adds the project's own wrappers); the
attributes it uses are the finder's, declared below for the type checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Set, Tuple, Union

import libcst as cst

from .names import ModuleIndex, last_name, root_name
from .kept_in_g import kept_in_g
from .node_names import argument_at
from .targets import is_name_like
from ..index.pushed import PushedContext
from .sites import ALL_TIERS, NO_TIERS, DispatchSite, Tiers
from ..knowledge import Knowledge
from ..knowledge.contexts import PARTIAL_FACTORIES
from ..knowledge.dispatchers import (
    CALL_DISPATCHERS,
    THREAD_BASE_WORDS,
    THREAD_BASES,
    MANY_INVOCATION_METHODS,
    CallDispatcher,
    Forwards,
    MethodDispatcher,
    ReceiverType,
    ThreadBase,
)

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver

#: Uses of a thread object that do not start it (``t.run()`` runs synchronously).
NON_STARTING_USES = frozenset({"run", "join", "name", "daemon", "is_alive", "ident"})

#: Every qualified name of a thread-like base class.
_THREAD_BASE_NAMES = frozenset(name for base in THREAD_BASES for name in base.qualified_names)


@dataclass(frozen=True)
class Handoff:
    """The callable argument of a dispatch call, before it is resolved."""

    argument: cst.BaseExpression
    mechanism: str
    carried: Tiers = NO_TIERS
    call: Optional[cst.Call] = None
    forwards: Forwards = Forwards()
    runs_many: bool = False
    #: It runs in another process (the message notes the ``fork`` start method).
    in_process: bool = False
    #: The receiver copies the request context once for every item (FCX400).
    shared_copy: bool = False
    #: A task queue runs it (RQ...): the callable and its arguments are pickled.
    queued: bool = False


class LibraryCalls:
    """Dispatch calls of the libraries in ``knowledge.dispatchers``."""

    if TYPE_CHECKING:  # pragma: no cover
        index: ModuleIndex
        resolver: Resolver
        knowledge: Knowledge
        _dispatcher_names: Set[str]
        _methods: Dict[str, List[MethodDispatcher]]
        follow_imports: bool
        possible_wrappers: Optional[FrozenSet[str]]

        def _passes_callable(self, call: cst.Call) -> bool: ...

    def _direct(self, call: cst.Call) -> List[Union[Handoff, DispatchSite]]:
        """What ``call`` hands to a library to run elsewhere (usually one callable;
        a pool's ``apply_async`` may add its callbacks)."""
        func = call.func
        last = last_name(func)
        if last is None:
            return []
        if self._is_dispatcher_identifier(func, last):
            qualified = self.index.qualified_names_any(func)
            for dispatcher in self.knowledge.call_dispatchers:
                if qualified & dispatcher.qualified_names:
                    handoff = self._library_call(call, dispatcher)
                    return [handoff] if handoff is not None else []
        if isinstance(func, cst.Attribute) and last in self._methods:
            return list(self._method_call(call, func, self._methods[last]))
        bound = self._bound_dispatch_method(func, call)
        if bound is not None:
            method, owner = bound
            return list(self._method_call(call, method, self._methods[method.attr.value], owner))
        thread_class = self.resolver.local_class(func)
        owner = self.resolver
        if thread_class is None:
            imported = self._imported_thread_class(func)
            if imported is not None:
                thread_class, owner = imported
        if thread_class is not None:
            base = owner.thread_base(thread_class)
            if base is not None:
                found = self._thread_subclass(call, thread_class, base, owner)
                return [found] if found is not None else []
        return []

    def _imported_thread_class(
        self, func: cst.BaseExpression
    ) -> Optional[Tuple[cst.ClassDef, "Resolver"]]:
        """``Worker(...)`` where ``Worker`` is a class of another project module (maybe a
        Thread subclass), with that module's resolver.  Only a name the ``ast`` gate
        found may start something is looked up."""
        if not self.follow_imports or not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        root = root_name(func)
        if root is None or root.value not in self.resolver.project_names():
            return None
        if self.possible_wrappers is not None and root.value not in self.possible_wrappers:
            return None
        if not self.resolver.foreign_may_be_class_of(func, _THREAD_BASE_NAMES, THREAD_BASE_WORDS):
            return None
        symbol = self.resolver.foreign(func, THREAD_BASE_WORDS)
        if symbol is None or not isinstance(symbol.node, cst.ClassDef):
            return None
        return symbol.node, symbol.unit.resolver

    def _bound_dispatch_method(
        self, func: cst.BaseExpression, call: cst.Call
    ) -> Optional[Tuple[cst.Attribute, "Resolver"]]:
        """``run_later`` where ``run_later = pool.submit`` (or ``partial(pool.submit)``,
        binding nothing else), in this module or imported from another module of the
        project: the bound method it holds, and the resolver of the module that holds
        it (where its receiver is resolved)."""
        if not isinstance(func, cst.Name):
            return None
        values = self.index.bindings(func)
        owner = self.resolver
        if (
            not values and self.follow_imports
            and (self.possible_wrappers is None or func.value in self.possible_wrappers)
            and func.value in self.resolver.project_names()
            and self._passes_callable(call)
            and self.resolver.foreign_may_run(func, classes=False)
        ):
            symbol = self.resolver.foreign(func, tuple(self._methods))
            if symbol is not None and isinstance(symbol.node, cst.BaseExpression):
                owner = symbol.unit.resolver
                values = [symbol.node]
        for value in values:
            if (
                isinstance(value, cst.Call) and len(value.args) == 1
                and is_name_like(value.func)
                and owner.index.qualified_names_any(value.func) & PARTIAL_FACTORIES
            ):
                value = value.args[0].value
            if isinstance(value, cst.Attribute) and value.attr.value in self._methods:
                return value, owner
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
        if dispatcher.object_in_g is not None and not kept_in_g(
            self.resolver, call, dispatcher.object_in_g
        ):
            return None  # ``weakref.finalize``: when it runs is not certain
        return Handoff(
            argument, dispatcher.mechanism, dispatcher.carries, call, dispatcher.forwards,
            in_process=dispatcher.in_process,
        )

    def _method_call(
        self,
        call: cst.Call,
        func: cst.Attribute,
        dispatchers: List[MethodDispatcher],
        owner: Optional["Resolver"] = None,
    ) -> List[Handoff]:
        """The callable the method runs elsewhere (the first dispatcher that matches),
        and any callback it is given (``callback=``/``error_callback=``).  ``owner``:
        the resolver of the module ``func`` is written in (a bound method imported
        from there), if not this one."""
        kind = (owner or self.resolver).receiver_kind(func.value)
        if isinstance(kind, cst.ClassDef):
            # A class of this module: its method is analysed as a wrapper, unless the
            # user configured the method as a dispatcher (``*.later``).
            dispatchers = [d for d in dispatchers if d.any_receiver]
            kind = None
        found: List[Handoff] = []
        main = False
        for dispatcher in dispatchers:
            if main and not dispatcher.callback:
                continue
            in_process = dispatcher.in_process
            if isinstance(kind, ReceiverType):
                if not kind.dispatches:
                    if dispatcher.callback:
                        continue
                    shared = self._shared_copy(call, kind, dispatcher.method)
                    return [shared] if shared is not None else []
                if dispatcher.receivers and kind.key not in dispatcher.receivers:
                    continue
                mechanism = dispatcher.mechanism.format(label=kind.label)
                carried = kind.carries
                in_process = in_process or (kind.in_process and not dispatcher.callback)
            elif dispatcher.on_unknown_receiver and (
                dispatcher.unknown_in_coroutine or not self._in_coroutine(call)
            ):
                mechanism = dispatcher.mechanism
                if "{label}" in mechanism:
                    mechanism = f"in a worker ({self.index.code(func, 40)})"
                carried = NO_TIERS
            else:
                continue
            if dispatcher.needs_start and not self._is_started(call):
                return found
            argument = argument_at(call, dispatcher.position, dispatcher.keyword)
            if argument is None:
                if dispatcher.callback:
                    continue
                return found
            if not dispatcher.callback:
                main = True
                pushed = self._queue_context(dispatcher.queue)
                if pushed is not None:
                    carried = carried | pushed.always
                    mechanism += f" ({pushed.name} pushes an app context, not a request)"
            many = dispatcher.method in MANY_INVOCATION_METHODS and not dispatcher.callback
            found.append(Handoff(
                argument, mechanism, carried, call, dispatcher.forwards, many, in_process,
                queued=bool(dispatcher.queue),
            ))
        return found

    def _in_coroutine(self, node: cst.CSTNode) -> bool:
        function = self.index.enclosing(node, (cst.FunctionDef,))
        return isinstance(function, cst.FunctionDef) and function.asynchronous is not None

    def _shared_copy(self, call: cst.Call, kind: ReceiverType, method: str) -> Optional[Handoff]:
        """A receiver that carries the request context (Flask-Executor) but shares one
        copy of it among the items of ``method`` (its ``map``): FCX400 at the call."""
        if method not in kind.shared_copy_methods:
            return None
        argument = argument_at(call, 0, "fn")
        if argument is None:
            return None
        return Handoff(
            argument, f"through {kind.label}'s {method}", ALL_TIERS, call, Forwards(),
            runs_many=True, shared_copy=True,
        )

    def _queue_context(self, queue: str) -> Optional[PushedContext]:
        """What the project pushes around every job of ``queue`` (its middleware, job
        class, or the Flask CLI command that starts its workers), if anything."""
        unit = self.resolver.unit
        if not queue or unit is None or unit.project is None:
            return None
        pushed = unit.project.facts(unit.name).queue_contexts.get(queue)
        return pushed if pushed is not None and pushed.always else None

    def _thread_subclass(
        self,
        call: cst.Call,
        thread_class: cst.ClassDef,
        base: ThreadBase,
        owner: Optional["Resolver"] = None,
    ) -> Union[Handoff, DispatchSite, None]:
        """``owner``: the resolver of the module defining the class (this one if None)."""
        owner = owner or self.resolver
        if not self._is_started(call):
            return None
        name = thread_class.name.value
        run = owner.find_method(thread_class, base.run_method)
        if run is None:  # the base's run calls ``target``, as threading.Thread does
            thread = CALL_DISPATCHERS[0]
            argument = argument_at(call, thread.position, thread.keyword)
            if argument is None:
                return None
            return Handoff(
                argument, f"in a new {name} {base.label}", base.carries, call, thread.forwards,
                in_process=base.in_process,
            )
        mechanism = f"in a new {base.label} when {name}(...) is started"
        target = owner.target(run, f"{name}.{base.run_method}()")
        return DispatchSite(call, (target,), mechanism, base.carries, in_process=base.in_process)

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


def _single_assignment_target(index: ModuleIndex, call: cst.Call) -> Optional[cst.Name]:
    """``t`` in ``t = Thread(...)`` (one plain Name target), else None."""
    parent = index.parent(call)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        return target if isinstance(target, cst.Name) else None
    return None
