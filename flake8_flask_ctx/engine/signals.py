"""Signal receivers run in the sender's thread: ``task_done.send(...)`` in a worker runs
every function connected to ``task_done`` right there, in the worker.

blinker's ``Signal.send`` calls its receivers synchronously, one after the other, in the
thread that sends; a receiver that reads ``session`` fails when a thread pool worker
sends.  Followed only when it is certain:
- the sent object is certainly a signal: bound at module level to
  ``Namespace().signal(...)``, ``namespace.signal(...)`` or ``signal(...)`` of a signal
  library (``knowledge/signals.py``), in this module or imported from another one
  of the project;
- the receiver is connected for every sender: ``@sig.connect`` or ``sig.connect(fn)``
  (a receiver for one sender, ``connect_via(app)``, may not run for this one);
- receivers are looked for in the sending module (``@sig.connect`` and
  ``sig.connect(fn)``) and in the other modules of the project that connect a
  top-level function with ``@sig.connect`` (not in test modules: those connect for the
  test run).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, List, Optional, Tuple

import libcst as cst

from ..index.sources import source_text
from ..knowledge.signals import SIGNAL_FACTORIES, SIGNAL_NAMESPACES
from .targets import Target

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver

#: What identifies a signal across modules: (defining module, module-level name).
SignalKey = Tuple[str, str]

#: How many modules a search for receivers may parse.
MAX_RECEIVER_MODULES = 40


def signal_receivers(resolver: "Resolver", expr: cst.BaseExpression) -> Optional[List[Target]]:
    """The receivers ``expr`` runs when it is ``<signal>.send``; None when it is not
    certainly a signal's ``send`` (then the caller resolves it as usual)."""
    if not (
        isinstance(expr, cst.Attribute) and expr.attr.value == "send"
        and isinstance(expr.value, cst.Name)
    ):
        return None
    key = signal_key(resolver, expr.value)
    if key is None:
        return None
    found = receivers_in(resolver, key)
    unit = resolver.unit
    project = unit.project if unit is not None else None
    if project is None or unit is None:
        return found
    searched = 0
    decorated = re.compile(
        rf"^@{re.escape(key[1])}\.connect[ \t]*\r?\n(?:@.*\r?\n)*(?:async[ \t]+)?def[ \t]+(\w+)",
        re.MULTILINE,
    )
    for path, dotted in project.modules_mentioning(f"{key[1]}.connect"):
        if dotted is None or dotted == unit.name or searched >= MAX_RECEIVER_MODULES:
            continue
        if any(part.startswith(("test", "conftest")) for part in dotted.split(".")):
            continue  # a test's receiver is connected by the test run, not the app
        names = decorated.findall(source_text(path) or "")
        if not names:
            continue
        searched += 1
        there = project.unit_for(dotted, words=(f"{key[1]}.connect",))
        if there is not None and there.cut is not None:
            there = there.cut.grow(names[0], frozenset(names[1:])) or there
        if there is not None:
            found.extend(receivers_in(there.resolver, key, decorated_only=True))
    return found


def signal_key(resolver: "Resolver", name: cst.Name) -> Optional[SignalKey]:
    """Which signal ``name`` is, when it certainly is one."""
    values = resolver.index.bindings(name)
    if values:
        if len(values) != 1 or not _makes_signal(resolver, values[0]):
            return None
        if not _module_level(resolver, name):
            return None
        module = resolver.unit.name if resolver.unit is not None else ""
        return (module or "", name.value)
    symbol = resolver.foreign(name)
    if symbol is None or symbol.node is None or not isinstance(symbol.node, cst.BaseExpression):
        return None
    there = symbol.unit.resolver
    if not _makes_signal(there, symbol.node):
        return None
    unit = resolver.unit
    qualified = sorted(resolver.index.qualified_names_any(name))
    absolute = unit.absolute(qualified[0]) if unit is not None and qualified else None
    if absolute is None:
        return None
    module, _, attribute = absolute.rpartition(".")
    return (module, attribute) if module == symbol.unit.name else None


def _module_level(resolver: "Resolver", name: cst.Name) -> bool:
    """Every binding of ``name`` is a module-level one (a signal is made once)."""
    return all(
        resolver.index.enclosing(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) is None
        for node in resolver.index.binding_nodes(name)
    )


def _makes_signal(resolver: "Resolver", value: cst.CSTNode) -> bool:
    """``signal("x")``, ``Namespace().signal("x")`` or ``ns.signal("x")`` with
    ``ns = Namespace()``, of a known signal library."""
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if resolver.index.qualified_names_any(func) & SIGNAL_FACTORIES:
        return True
    if not isinstance(func, cst.Attribute) or func.attr.value != "signal":
        return False
    owner: cst.CSTNode = func.value
    if isinstance(owner, cst.Name):
        bound = resolver.index.bindings(owner)
        if len(bound) != 1:
            return False
        owner = bound[0]
    return isinstance(owner, cst.Call) and bool(
        resolver.index.qualified_names_any(owner.func) & SIGNAL_NAMESPACES
    )


def receivers_in(
    resolver: "Resolver", key: SignalKey, decorated_only: bool = False
) -> List[Target]:
    """The functions of ``resolver``'s module connected to the signal ``key`` for
    every sender (``decorated_only``: by ``@signal.connect`` only, for a module read
    in part, where a ``signal.connect(fn)`` statement may have been left out)."""
    found: List[Target] = []
    for function in resolver.index.functions:
        for decorator in function.decorators:
            connect = decorator.decorator
            if _is_connect_of(resolver, connect, key):
                found.append(resolver.target(function, resolver.label(function)))
    for call in () if decorated_only else resolver.index.calls:
        if (
            _is_connect_of(resolver, call.func, key) and call.args
            and call.args[0].keyword is None and not call.args[0].star
            and not any(a.keyword is not None and a.keyword.value == "sender" for a in call.args)
            and len([a for a in call.args if a.keyword is None]) == 1
        ):
            found.extend(resolver.callable(call.args[0].value).targets)
    return found


def _is_connect_of(resolver: "Resolver", expr: cst.BaseExpression, key: SignalKey) -> bool:
    return (
        isinstance(expr, cst.Attribute) and expr.attr.value == "connect"
        and isinstance(expr.value, cst.Name) and expr.value.value == key[1]
        and signal_key(resolver, expr.value) == key
    )
