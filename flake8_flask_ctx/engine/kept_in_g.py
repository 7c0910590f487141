"""Is an object kept in ``flask.g`` for the rest of the request?

``weakref.finalize(conn, close, ...)`` runs ``close`` when ``conn`` is collected.  For an
object kept in ``g`` that is when the app context drops ``g``: after the request context
was popped, so a request-tier read in the callback certainly fails.  Anything that could
drop the object earlier, inside the request, makes the moment uncertain, and then the
call is not a dispatch at all:
- the object is ``g.<name>`` itself, or a name the same function stores into
  ``g.<name>`` (``g.conn = conn``), bound once;
- ``g.<name>`` is stored once in the whole project and never removed or replaced
  (``g.pop("conn")``, ``del g.conn``, ``setattr(g, "conn", ...)``: a teardown that
  drops it runs inside the request; ``setattr(g, key, value)`` with a computed name is
  not counted);
- the call is not inside a ``with`` block (``with app.app_context():`` makes a ``g``
  that is dropped when the block ends, inside the request).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Optional

import libcst as cst

from ..index.sources import source_text
from .helpers import walk_shallow
from .node_names import argument_at

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver

G_PROXY = "flask.g"


def kept_in_g(resolver: "Resolver", call: cst.Call, position: int) -> bool:
    """Whether the argument at ``position`` of ``call`` is certainly kept in ``g``
    until the app context ends (see the module's docstring)."""
    argument = argument_at(call, position, "")
    if argument is None or resolver.index.enclosing(call, (cst.With,)) is not None:
        return False
    name = _g_attribute(resolver, argument)
    if name is None and isinstance(argument, cst.Name):
        name = _stored_into_g(resolver, call, argument)
    return name is not None and _stored_once(resolver, name)


def _g_attribute(resolver: "Resolver", expr: cst.BaseExpression) -> Optional[str]:
    """``conn`` for ``g.conn`` (``flask.g.conn``, ``from flask import g as ctx``...)."""
    if isinstance(expr, cst.Attribute) and resolver.proxy_of(expr.value) == G_PROXY:
        return expr.attr.value
    return None


def _stored_into_g(resolver: "Resolver", call: cst.Call, name: cst.Name) -> Optional[str]:
    """``conn`` when the function making ``call`` stores the name, bound once, into
    ``g.conn`` (``g.conn = conn`` or ``g.conn = conn = connect()``)."""
    if len(resolver.index.binding_nodes(name)) != 1:
        return None
    function = resolver.index.enclosing(call, (cst.FunctionDef,))
    if function is None:
        return None
    for node in walk_shallow(function.body):
        if not isinstance(node, cst.Assign):
            continue
        named = [t.target for t in node.targets if isinstance(t.target, cst.Name)]
        holds = (isinstance(node.value, cst.Name) and node.value.value == name.value) or any(
            target.value == name.value for target in named
        )
        if not holds:
            continue
        for target in node.targets:
            found = _g_attribute(resolver, target.target)
            if found is not None:
                return found
    return None


def _stored_once(resolver: "Resolver", name: str) -> bool:
    """``g.<name>`` is stored once in the project's text and never dropped."""
    stores = re.compile(rf"\bg\.{re.escape(name)}\s*(?:=(?!=)|:)")
    drops = re.compile(
        rf"\bdel\s+(?:flask\.)?g\.{re.escape(name)}\b"
        rf"|\bg\.(?:pop|setdefault)\(\s*['\"]{re.escape(name)}['\"]"
        rf"|\b(?:set|del)attr\(\s*(?:flask\.)?g\s*,\s*['\"]{re.escape(name)}['\"]"
    )
    count = 0
    for text in _texts(resolver, name):
        if drops.search(text):
            return False
        count += len(stores.findall(text))
    return count == 1


def _texts(resolver: "Resolver", word: str) -> Iterable[str]:
    """The texts of the modules that mention ``word`` under this module's own root
    (the application it belongs to: not the tests or scripts beside it under the
    working directory); this module's alone when it is checked on its own."""
    unit = resolver.unit
    project = unit.project if unit is not None else None
    located = (
        project.file_of(unit.name)
        if project is not None and unit is not None and unit.name else None
    )
    if project is None or located is None:
        yield resolver.index.module.code
        return
    root = located[1].resolve()
    seen = set()
    for path, _dotted in project.modules_mentioning(word):
        real = path.resolve()
        if real not in seen and root in real.parents:
            seen.add(real)  # a file under two roots is listed once per root
            yield source_text(path) or ""
