"""A model instance's ``lazy="dynamic"`` relationship is a query, not a list.

``project.tasks`` where ``Project.tasks = db.relationship("Task", lazy="dynamic")`` is
an ``AppenderQuery``: nothing is loaded until it is iterated, and iterating runs SQL
through the session of the request's app context.  Handed to a worker it fails there
(``Working outside of application context`` while the request's session is open) or,
once the request ended and the instance was detached, silently yields nothing: the
same crossing as a ``Model.query...`` handed over (FCX210, "the lazy query").

Recognised when the code says so plainly: the instance is bound in this module to one
row of a query of a class of this module (``Project.query.get_or_404(id)``,
``db.session.get(Project, id)``, ``...filter_by(...).first()``), or is a parameter
annotated with it, or the loop variable of a query of it; and the class body assigns
the attribute a ``relationship(..., lazy="dynamic")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from ..knowledge.contexts import (
    EXTENSION_WORDS, MODEL_FIRST_METHODS, ONE_ROW_METHODS, RELATIONSHIP_FACTORIES,
)
from .returned_types import queried_class

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver


def is_dynamic_relationship(resolver: "Resolver", value: cst.BaseExpression) -> bool:
    """Whether ``value`` is ``instance.attribute`` for a ``lazy="dynamic"``
    relationship of the instance's model (see the module's docstring)."""
    if not isinstance(value, cst.Attribute) or not isinstance(value.value, cst.Name):
        return False
    model = _model_of(resolver, value.value)
    return model is not None and _declares_dynamic(model, value.attr.value)


def _model_of(resolver: "Resolver", name: cst.Name) -> Optional[cst.ClassDef]:
    found = resolver.instance_class(name)
    if found is not None:
        return found
    bound = resolver.index.bindings(name)
    if len(bound) != 1 or not isinstance(bound[0], cst.Call):
        return None
    call = bound[0]
    if not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method in ONE_ROW_METHODS:
        queried = queried_class(call.func.value)
        if queried is not None:
            return resolver.local_class(queried)
    if method in MODEL_FIRST_METHODS and call.args and call.args[0].keyword is None:
        receiver = call.func.value
        session = isinstance(receiver, (cst.Name, cst.Attribute)) and (
            resolver.extension_local(receiver) is not None
        )
        if session or _is_db(resolver, call):
            return resolver.local_class(call.args[0].value)
    return None


def _is_db(resolver: "Resolver", call: cst.Call) -> bool:
    """``db.get_or_404(Model, id)``: the receiver is a Flask-SQLAlchemy object."""
    assert isinstance(call.func, cst.Attribute)
    value = resolver.resolved_value(call.func.value, words=EXTENSION_WORDS)
    if value is None:
        return False
    there, made = value
    return isinstance(made, cst.Call) and there._extension_attributes(made) is not None


def _declares_dynamic(model: cst.ClassDef, attribute: str) -> bool:
    body = model.body.body if isinstance(model.body, cst.IndentedBlock) else ()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Assign) or not isinstance(small.value, cst.Call):
                continue
            named = any(
                isinstance(t.target, cst.Name) and t.target.value == attribute
                for t in small.targets
            )
            if named and _is_dynamic(small.value):
                return True
    return False


def _is_dynamic(call: cst.Call) -> bool:
    func = call.func
    last = func.attr.value if isinstance(func, cst.Attribute) else (
        func.value if isinstance(func, cst.Name) else None
    )
    if last not in RELATIONSHIP_FACTORIES:
        return False
    if last == "dynamic_loader":
        return True
    return any(
        arg.keyword is not None and arg.keyword.value == "lazy"
        and isinstance(arg.value, cst.SimpleString) and arg.value.evaluated_value == "dynamic"
        for arg in call.args
    )
