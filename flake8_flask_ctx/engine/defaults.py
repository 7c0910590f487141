"""Parameter defaults that are functions: ``def consume(handler=on_message)`` runs
``on_message`` wherever no caller passes ``handler``.  The callers in the defining module
are read on its LibCST tree; those in other modules on ``ast`` (``index/callers.py``).
An uncertain default is not followed (no false positive).

A mixin of ``resolution.Resolver``; the attributes it uses are the resolver's, declared
below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import libcst as cst

from ..knowledge.dispatchers import DISPATCH_OPTIONS, Forwards, ReceiverType
from .forwarded import forwarded_call
from .names import ModuleIndex
from .node_names import argument_at

if TYPE_CHECKING:  # pragma: no cover
    from ..knowledge import Knowledge
    from .receivers import ReceiverKind
    from .units import ModuleUnit


class ParameterDefaults:
    """Which parameter defaults run, as seen from one module."""

    if TYPE_CHECKING:  # pragma: no cover
        index: ModuleIndex
        knowledge: Knowledge
        unit: Optional[ModuleUnit]
        _defaults: Dict[cst.Param, Tuple[bool]]

        def _references_to(self, identifier: str) -> List[cst.Name]: ...

        def receiver_kind(self, expr: cst.BaseExpression) -> "ReceiverKind": ...

    def parameter_default(self, name: cst.Name) -> Optional[cst.BaseExpression]:
        """The default of the parameter ``name`` is, when no call of its function in
        this module passes that parameter (``def start(handler=on_message)`` called as
        ``start()``): then the default is what runs."""
        binding = self.index.parameter_binding(name)
        if binding is None or not _may_be_callable(binding[1].default):
            return None  # no default, or a literal (``timeout=None``): nothing runs
        function, param = binding
        cached = self._defaults.get(param)
        if cached is None:
            passed = self._passed_by_a_caller(function, param) or self._passed_elsewhere(
                function, param
            )
            cached = self._defaults[param] = (not passed,)
        return binding[1].default if cached[0] else None

    def _passed_elsewhere(self, function: cst.FunctionDef, param: cst.Param) -> bool:
        """Whether a caller in another module of the project may pass ``param``."""
        unit = self.unit
        if unit is None or unit.project is None:
            return False
        from ..index.callers import passed_elsewhere

        positional = [*function.params.posonly_params, *function.params.params]
        position = positional.index(param) if param in positional else None
        if position is not None and self.index.enclosing_class_of_function(function):
            position -= 1  # ``obj.method(x)``: ``self`` is not passed
        return passed_elsewhere(
            unit.project, unit.name, function.name.value, param.name.value, position
        )

    def _passed_by_a_caller(self, function: cst.FunctionDef, param: cst.Param) -> bool:
        """Whether some reference to ``function`` in this module may pass ``param``:
        a call with that keyword, enough positional arguments, or ``*``/``**``; a
        reference handed to another call along with other arguments (``partial``)."""
        positional = [*function.params.posonly_params, *function.params.params]
        position = positional.index(param) if param in positional else None
        method = self.index.enclosing_class_of_function(function) is not None
        for name in self._references_to(function.name.value):
            reference: cst.CSTNode = name
            holder = self.index.parent(name)
            if isinstance(holder, cst.Attribute) and holder.attr is name:
                reference, holder = holder, self.index.parent(holder)
            if isinstance(holder, cst.Call) and holder.func is reference:
                shift = 1 if method and isinstance(reference, cst.Attribute) else 0
                if _passes(holder, param.name.value, position, shift):
                    return True
            elif isinstance(holder, cst.Arg):
                call = self.index.parent(holder)
                if isinstance(call, cst.Call) and self._handed_on_with(
                    call, holder, param.name.value, position
                ):
                    return True
        return False

    def _handed_on_with(
        self, call: cst.Call, arg: cst.Arg, keyword: str, position: Optional[int]
    ) -> bool:
        """Whether ``call``, given the function as ``arg``, may call it with the
        parameter.  A known dispatch forwards what its ``Forwards`` say
        (``Thread(target=deliver, args=(msg,))`` calls ``deliver(msg)``); any other call
        given more arguments may pass them on (``partial``)."""
        forwards = self._dispatch_forwards(call, arg)
        if forwards is not None:
            worker = forwarded_call(call, arg.value, forwards)
            return worker is None or _passes(worker, keyword, position, 0)
        return any(
            other is not arg and (
                other.keyword is None or other.keyword.value not in DISPATCH_OPTIONS
            )
            for other in call.args
        )

    def _dispatch_forwards(self, call: cst.Call, arg: cst.Arg) -> Optional[Forwards]:
        """How ``call`` forwards arguments to ``arg``'s value, when ``call`` is certainly
        a dispatch of it: a dispatch function, or a dispatch method on a receiver known
        to run callables (``ThreadPoolExecutor(...).submit``)."""
        func = call.func
        qualified = self.index.qualified_names_any(func)
        for dispatcher in self.knowledge.call_dispatchers:
            if qualified & dispatcher.qualified_names:
                found = argument_at(call, dispatcher.position, dispatcher.keyword)
                return dispatcher.forwards if found is arg.value else None
        if not isinstance(func, cst.Attribute):
            return None
        kind = self.receiver_kind(func.value)
        if not isinstance(kind, ReceiverType) or not kind.dispatches:
            return None
        for method in self.knowledge.method_dispatchers:
            if method.method != func.attr.value or method.callback:
                continue
            if method.receivers and kind.key not in method.receivers:
                continue
            found = argument_at(call, method.position, method.keyword)
            return method.forwards if found is arg.value else None
        return None


def _may_be_callable(default: Optional[cst.BaseExpression]) -> bool:
    """A default that may hold a function: a name (not ``None``/``True``/``False``),
    an attribute, a lambda, a pick from a container, a call (``partial``)."""
    if isinstance(default, cst.Name):
        return default.value not in ("None", "True", "False")
    return isinstance(default, (cst.Attribute, cst.Lambda, cst.Subscript, cst.Call))


def _passes(call: cst.Call, keyword: str, position: Optional[int], shift: int) -> bool:
    """Whether ``call`` may pass the parameter (``keyword``, at ``position``)."""
    positional = 0
    for arg in call.args:
        if arg.star:
            return True
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return True
        else:
            positional += 1
    return position is not None and positional + shift > position
