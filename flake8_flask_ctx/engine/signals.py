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
  (a receiver for one sender, ``connect_via(app)`` or ``connect(fn, app)``, may not run
  for this one);
- receivers are looked for in the sending module and in the other modules of the
  project that connect one, at module level or in a top-level function or class (not in
  test modules: those connect for the test run).

Flask's own signals (``template_rendered``, ``got_request_exception`` ...) are certain
signals too, imported from ``flask`` or ``flask.signals``; and ``render_template`` sends
two of them itself, so a worker that renders a template runs their receivers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, FrozenSet, List, Optional, Tuple

import libcst as cst

from ..index.sources import source_text
from ..knowledge.signals import (
    FLASK_SIGNAL_MODULE, FLASK_SIGNALS, IMPLICIT_SEND_WORDS, IMPLICIT_SENDS, SIGNAL_FACTORIES,
    SIGNAL_NAMESPACES,
)
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
    if not (isinstance(expr, cst.Attribute) and expr.attr.value == "send"):
        return None
    key = _key_of(resolver, expr.value)
    return None if key is None else _receivers_of(resolver, key)


def implicit_receivers(resolver: "Resolver", func: cst.BaseExpression) -> List[Target]:
    """The receivers of the Flask signals a call of ``func`` sends before it returns
    (``render_template(...)`` sends ``template_rendered``): they run in the caller's
    thread (``knowledge/signals.py: IMPLICIT_SENDS``)."""
    last = func.attr.value if isinstance(func, cst.Attribute) else (
        func.value if isinstance(func, cst.Name) else None
    )
    if last not in IMPLICIT_SEND_WORDS:
        return []
    found: List[Target] = []
    for qualified in resolver.index.qualified_names_any(func):
        for sent in IMPLICIT_SENDS.get(qualified, ()):
            for target in _receivers_of(resolver, (FLASK_SIGNAL_MODULE, sent)):
                if target not in found:
                    found.append(target)
    return found


def _receivers_of(resolver: "Resolver", key: SignalKey) -> List[Target]:
    """The receivers connected to ``key`` for every sender, in this module and in the
    other modules of the project that connect one."""
    found = receivers_in(resolver, key)
    unit = resolver.unit
    project = unit.project if unit is not None else None
    if project is None or unit is None:
        return found
    searched = 0
    word = f"{key[1]}.connect"
    loaded: Optional[FrozenSet[str]] = None
    if key[0] == FLASK_SIGNAL_MODULE and unit.name is not None:
        # Flask's signals are imported everywhere: a module connects its receiver
        # only if it is loaded, so only modules certainly loaded with this one count
        loaded = project.imported_with(unit.name)
    decorated = re.compile(
        rf"^@{re.escape(key[1])}\.connect[ \t]*\r?\n(?:@.*\r?\n)*(?:async[ \t]+)?def[ \t]+(\w+)",
        re.MULTILINE,
    )
    called = re.compile(rf"\b{re.escape(key[1])}\.connect\(")
    for path, dotted in project.modules_mentioning(word):
        if dotted is None or dotted == unit.name or searched >= MAX_RECEIVER_MODULES:
            continue
        if any(part.startswith(("test", "conftest")) for part in dotted.split(".")):
            continue  # a test's receiver is connected by the test run, not the app
        if loaded is not None and dotted not in loaded:
            continue
        text = source_text(path) or ""
        names = decorated.findall(text)
        calls = [text.count("\n", 0, m.start()) + 1 for m in called.finditer(text)]
        if not names and not calls:
            continue
        searched += 1
        there = project.unit_for(dotted, words=(word,))
        if there is not None and there.cut is not None:
            # keep every top-level def that connects (``def init_app(app):
            # sig.connect(on_done)``) with the decorated receivers
            wanted = set(names) | {
                statement.name for statement in there.cut.outline.statements
                if any(statement.first <= line <= statement.last for line in calls)
            }
            if wanted:
                first, *rest = sorted(wanted)
                there = there.cut.grow(first, frozenset(rest)) or there
        if there is not None:
            found.extend(t for t in receivers_in(there.resolver, key) if t not in found)
    return found


def _key_of(resolver: "Resolver", expr: cst.BaseExpression) -> Optional[SignalKey]:
    """Which signal ``expr`` is: a module-level name bound to a signal, or one of
    Flask's own (``template_rendered``, ``flask.signals.got_request_exception``)."""
    flask_signal = _flask_signal(resolver, expr)
    if flask_signal is not None:
        return flask_signal
    return signal_key(resolver, expr) if isinstance(expr, cst.Name) else None


def _flask_signal(resolver: "Resolver", expr: cst.BaseExpression) -> Optional[SignalKey]:
    last = expr.attr.value if isinstance(expr, cst.Attribute) else (
        expr.value if isinstance(expr, cst.Name) else None
    )
    if last not in FLASK_SIGNALS:
        return None
    names = resolver.index.qualified_names_any(expr)
    if f"flask.{last}" in names or f"{FLASK_SIGNAL_MODULE}.{last}" in names:
        return (FLASK_SIGNAL_MODULE, last)
    return None


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


def receivers_in(resolver: "Resolver", key: SignalKey) -> List[Target]:
    """The functions of ``resolver``'s module connected to the signal ``key`` for
    every sender (a module read in part keeps every top-level statement that connects
    one, see ``_receivers_of``)."""
    found: List[Target] = []
    for function in resolver.index.functions:  # ``@sig.connect``
        for decorator in function.decorators:
            connect = decorator.decorator
            if _is_connect_of(resolver, connect, key):
                found.append(resolver.target(function, resolver.label(function)))
    for call in resolver.index.calls:  # ``sig.connect(fn)``
        if (
            _is_connect_of(resolver, call.func, key) and call.args
            and call.args[0].keyword is None and not call.args[0].star
            and not any(a.keyword is not None and a.keyword.value == "sender" for a in call.args)
            and len([a for a in call.args if a.keyword is None]) == 1
        ):
            found.extend(resolver.callable(call.args[0].value).targets)
    return found


def _is_connect_of(resolver: "Resolver", expr: cst.BaseExpression, key: SignalKey) -> bool:
    if not (isinstance(expr, cst.Attribute) and expr.attr.value == "connect"):
        return False
    signal = expr.value
    named = signal.attr.value if isinstance(signal, cst.Attribute) else (
        signal.value if isinstance(signal, cst.Name) else None
    )
    return named == key[1] and _key_of(resolver, signal) == key
