"""The resolver's questions about receivers and classes: what executor or project class
``pool`` in ``pool.submit(fn)`` was built from (``ThreadPoolExecutor(...)``,
``self.pool = ...`` in ``__init__``, ``Executor(app)``), the class of an instance name,
a method found through a class's project bases.

A mixin of ``resolution.Resolver``; the attributes and methods it uses are the
resolver's, declared below for the type checker.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from ..knowledge.contexts import Tier
from ..knowledge.dispatchers import (
    RECEIVER_FACTORIES,
    RECEIVER_TYPES,
    RECEIVER_WORDS,
    RECEIVERS_BY_KEY,
    THREAD_BASES,
    ReceiverType,
    ThreadBase,
)
from .helpers import walk_shallow
from .returned_types import (
    function_items, imported_factory_class, queried_class, returns_own_query,
)
from .names import ModuleIndex, walk
from .pushes import entered_in
from .node_names import argument_at
from .targets import MAX_RESOLUTION_DEPTH, is_name_like
from .uses import is_property

if TYPE_CHECKING:  # pragma: no cover
    from .units import Symbol

#: What a receiver expression was built from: a known executor type, a class of this
#: module, or unknown (``None``).
ReceiverKind = Union[ReceiverType, cst.ClassDef, None]


class ReceiverQueries:
    """Receivers, instances and classes, as seen from one module."""

    if TYPE_CHECKING:  # pragma: no cover
        index: ModuleIndex
        _class_names: Set[str]
        _instance_attributes: Dict[cst.ClassDef, Dict[str, List[cst.BaseExpression]]]

        def foreign(
            self, expr: cst.BaseExpression, words: Optional[Tuple[str, ...]] = None
        ) -> Optional[Symbol]: ...

        def _references_to(self, identifier: str) -> List[cst.Name]: ...

        def project_names(self) -> Set[str]: ...

    # -- receivers ------------------------------------------------------------------

    def receiver_kind(
        self, expr: cst.BaseExpression, depth: int = 0, seen: Optional[Set[cst.CSTNode]] = None
    ) -> ReceiverKind:
        """What ``expr`` was built from: an executor type, a local class, or unknown.
        (``seen``: each binding followed once, see ``callable``.)"""
        if depth > MAX_RESOLUTION_DEPTH:
            return None
        seen = set() if seen is None else seen
        if isinstance(expr, cst.Call):
            return self._constructed_kind(expr, depth, seen)
        values: Sequence[cst.CSTNode] = ()
        if isinstance(expr, cst.Name):
            values = self.index.bindings(expr) or self._constructor_arguments(expr)
            if not values:
                symbol = self.foreign(expr, RECEIVER_WORDS)
                if symbol is not None and isinstance(symbol.node, cst.BaseExpression):
                    found = symbol.unit.resolver.receiver_kind(symbol.node, depth + 1)
                    # A class of that module is not one of ours: only executor types.
                    return found if isinstance(found, ReceiverType) else None
        elif isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = self.class_of_instance_name(expr.value) or self.instance_class(expr.value)
            if owner is not None:
                values = self.instance_attribute_values(owner, expr.attr.value)
                getter = self.find_method(owner, expr.attr.value)
                if not values and getter is not None and is_property(getter):
                    # ``query.parameterized`` where the property returns
                    # ``ParameterizedQuery(...)``: what the getter returns.
                    values = [
                        node.value for node in walk_shallow(getter.body)
                        if isinstance(node, cst.Return) and node.value is not None
                    ]
        for value in values:
            if isinstance(value, cst.BaseExpression) and value not in seen:
                seen.add(value)
                found = self.receiver_kind(value, depth + 1, seen)
                if found is not None:
                    return found
        return None

    def _constructed_kind(
        self, call: cst.Call, depth: int = 0, seen: Optional[Set[cst.CSTNode]] = None
    ) -> ReceiverKind:
        local = self.local_class(call.func)
        if local is not None:
            return self.receiver_base(local) or local
        if not is_name_like(call.func):
            return None
        found = receiver_type(self.index.qualified_names_any(call.func))
        if found is not None and found.dispatches:
            found = self._with_initializer(found, call)
        if found is None and isinstance(call.func, cst.Attribute):
            # ``ctx.Pool(2)`` where ``ctx = multiprocessing.get_context(...)``
            # (depth carried on: ``pool = pool.submit()`` must not loop forever)
            factory = self.receiver_kind(call.func.value, depth + 1, seen)
            if isinstance(factory, ReceiverType):
                key = RECEIVER_FACTORIES.get((factory.key, call.func.attr.value))
                found = RECEIVERS_BY_KEY.get(key) if key else None
        return found

    def _with_initializer(self, found: ReceiverType, call: cst.Call) -> ReceiverType:
        """A pool whose ``initializer=`` pushes an app context in each of its workers
        (``app.app_context().push()``): every job it runs has one (SPEC section 6)."""
        initializer = None
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "initializer":
                initializer = arg.value
        if initializer is None:
            return found
        tiers: Set[Tier] = set()
        for target in self.callable(initializer).targets:  # type: ignore[attr-defined]
            tiers |= entered_in(target.node, lasting=True)
        if not tiers:
            return found
        return replace(
            found,
            carries=found.carries | frozenset(tiers),
            label=f"{found.label} (its initializer pushes an app context)",
        )

    def receiver_base(
        self, cls: cst.ClassDef, seen: Optional[Set[cst.ClassDef]] = None
    ) -> Optional[ReceiverType]:
        """The receiver type a class of this module derives from, if any."""
        seen = set() if seen is None else seen
        if cls in seen:
            return None
        seen.add(cls)
        for base in cls.bases:
            if not is_name_like(base.value):
                continue
            found = receiver_type(self.index.qualified_names_any(base.value))
            local = self.local_class(base.value)
            if found is None and local is not None:
                found = self.receiver_base(local, seen)
            if found is not None:
                return found
        return None

    def _constructor_arguments(self, name: cst.Name) -> List[cst.BaseExpression]:
        """For a parameter of ``__init__`` (``def __init__(self, store)``), what the
        module's constructions of that class pass for it (``Worker(datastore)``): so
        ``self.store = store`` has the class of ``datastore``."""
        binding = self.index.parameter_binding(name)
        if binding is None or binding[0].name.value != "__init__":
            return []
        function, param = binding
        owner = self.index.enclosing_class_of_function(function)
        if owner is None:
            return []
        positional = [*function.params.posonly_params, *function.params.params]
        position = positional.index(param) - 1 if param in positional[1:] else None
        found: List[cst.BaseExpression] = []
        for reference in self._references_to(owner.name.value):
            call = self.index.parent(reference)
            if isinstance(call, cst.Call) and call.func is reference:
                argument = argument_at(call, position, param.name.value)
                if argument is not None:
                    found.append(argument)
        return found

    def instance_attribute_values(
        self, owner: cst.ClassDef, attribute: str
    ) -> List[cst.BaseExpression]:
        """Values assigned to ``self.<attribute>`` in the methods of ``owner``.  The class
        is walked once for all its attributes (a 400-method class asked about
        ``self.x`` in every method was walked 400 times)."""
        table = self._instance_attributes.get(owner)
        if table is None:
            table = self._instance_attributes[owner] = self._assigned_attributes(owner)
        return table.get(attribute, [])

    def _assigned_attributes(self, owner: cst.ClassDef) -> Dict[str, List[cst.BaseExpression]]:
        table: Dict[str, List[cst.BaseExpression]] = {}
        for statement in owner.body.body:
            if not isinstance(statement, cst.FunctionDef):
                continue
            instance = self.index.first_parameter(statement)
            if instance is None:
                continue
            for node in walk(statement.body):
                if not isinstance(node, cst.Assign):
                    continue
                for target in node.targets:
                    t = target.target
                    if (
                        isinstance(t, cst.Attribute)
                        and isinstance(t.value, cst.Name)
                        and t.value.value == instance
                    ):
                        table.setdefault(t.attr.value, []).append(node.value)
        return table

    # -- classes --------------------------------------------------------------------

    def class_of_instance_name(self, name: cst.Name) -> Optional[cst.ClassDef]:
        """The class whose method has ``name`` as its ``self``/``cls`` parameter."""
        for ancestor in self.index.ancestors(name):
            if isinstance(ancestor, cst.FunctionDef):
                owner = self.index.enclosing_class_of_function(ancestor)
                if owner is not None and self.index.first_parameter(ancestor) == name.value:
                    return owner
        return None

    def instance_class(self, name: cst.Name) -> Optional[cst.ClassDef]:
        """The class of this module whose instance ``name`` holds, known without type
        inference: a parameter annotated with it (``order: Order``), or a loop over a
        query of it (``for order in Order.query.filter(...)``)."""
        binding = self.index.parameter_binding(name)
        if binding is not None:
            annotation = binding[1].annotation
            if annotation is not None:
                return self._annotated_class(annotation.annotation)
            return None
        for node in self.index.binding_nodes(name):
            loop = self.index.parent(node)
            if isinstance(loop, (cst.For, cst.CompFor)) and loop.target is node:
                queried = queried_class(loop.iter)
                if queried is not None:
                    return self.local_class(queried)
                return self.queried_by_factory(loop.iter)
        return None

    def queried_by_factory(self, expr: cst.BaseExpression) -> Optional[cst.ClassDef]:
        """``Query.outdated_queries()`` where the classmethod (or staticmethod) of a
        class of this module returns only queries of that class (``cls.query...``,
        ``Query.query...``): its items are instances of the class.  Also a function of
        this module returning one class's queries, or declaring ``-> List[Order]``."""
        returned = self.function_result_items(expr)
        if isinstance(returned, cst.Name) and self.index.parent(returned) is None:
            return self._class_named(returned.value)  # parsed from a string annotation
        if returned is not None:
            return self._annotated_class(returned)
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
            return None
        owner = self.local_class(expr.func.value)
        if owner is None:
            return None
        found = returns_own_query(
            self, owner, self.find_method(owner, expr.func.attr.value)  # type: ignore[arg-type]
        )
        return owner if found else None

    def function_result_items(self, expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        """For ``outdated()``, a call of a module-level function of this module: the
        expression naming what iterating its result yields (``returned_types``)."""
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Name):
            return None
        for bound in self.index.bindings(expr.func):
            if isinstance(bound, cst.FunctionDef) and self.index.parent(bound) is self.index.module:
                return function_items(self, bound)  # type: ignore[arg-type]
        return None

    def imported_class_expression(self, name: cst.Name) -> Optional[cst.BaseExpression]:
        """For an instance name whose class is imported from another project module,
        the expression naming that class here (``Order`` in ``x = Order(...)``, a
        parameter annotated ``order: Order``, ``for order in Order.query...``), to be
        looked up there; None if the class is not known that way."""
        imported = self.project_names()
        binding = self.index.parameter_binding(name)
        candidates: List[cst.BaseExpression] = []
        if binding is not None:
            annotation = binding[1].annotation
            if annotation is not None:
                candidates.append(annotation.annotation)
        else:
            for value in self.index.bindings(name):
                if isinstance(value, cst.Call):
                    candidates.append(value.func)
            for node in self.index.binding_nodes(name):
                loop = self.index.parent(node)
                if isinstance(loop, (cst.For, cst.CompFor)) and loop.target is node:
                    queried = queried_class(loop.iter) or self.function_result_items(
                        loop.iter
                    )
                    if queried is not None:
                        candidates.append(queried)
                    else:
                        factory = imported_factory_class(self, loop.iter)  # type: ignore[arg-type]
                        if factory is not None:
                            candidates.append(factory)
        for candidate in candidates:
            root = _root_name(candidate)
            if root is not None and root.value in imported and is_name_like(candidate):
                return candidate
        return None

    def _annotated_class(self, annotation: cst.BaseExpression) -> Optional[cst.ClassDef]:
        if isinstance(annotation, cst.SimpleString):  # ``"Order"``
            value = annotation.evaluated_value
            return self._class_named(value) if isinstance(value, str) else None
        return self.local_class(annotation)

    def _class_named(self, name: str) -> Optional[cst.ClassDef]:
        if name not in self._class_names:
            return None
        return next((c for c in self.index.classes if c.name.value == name), None)

    def local_class(self, expr: cst.BaseExpression) -> Optional[cst.ClassDef]:
        """The class of this module that a Name refers to."""
        if isinstance(expr, cst.Name) and expr.value in self._class_names:
            for value in self.index.bindings(expr):
                if isinstance(value, cst.ClassDef):
                    return value
        return None

    def thread_base(
        self, cls: cst.ClassDef, seen: Optional[Set[cst.ClassDef]] = None
    ) -> Optional[ThreadBase]:
        """The thread-like base (``threading.Thread``, ``Process``, ``Greenlet``...) a
        class of this module derives from, directly or through local classes."""
        seen = set() if seen is None else seen
        if cls in seen:
            return None
        seen.add(cls)
        for base in cls.bases:
            if base.keyword is not None or not is_name_like(base.value):
                continue
            qualified = self.index.qualified_names_any(base.value)
            for known in THREAD_BASES:
                if qualified & known.qualified_names:
                    return known
            local = self.local_class(base.value)
            found = self.thread_base(local, seen) if local is not None else None
            if found is not None:
                return found
        return None

    def find_method(
        self, cls: cst.ClassDef, name: str, seen: Optional[Set[cst.ClassDef]] = None
    ) -> Optional[cst.FunctionDef]:
        """``name`` defined in ``cls`` or, failing that, in a base class of this module."""
        seen = set() if seen is None else seen
        if cls in seen:
            return None
        seen.add(cls)
        for statement in cls.body.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
                return statement
        aliased = self._aliased_function(cls, name)
        if aliased is not None:
            return aliased
        for base in cls.bases:
            local = self.local_class(base.value)
            if local is not None:
                found = self.find_method(local, name, seen)
                if found is not None:
                    return found
        return None

    def _aliased_function(self, cls: cst.ClassDef, name: str) -> Optional[cst.FunctionDef]:
        """``row_source = staticmethod(export_rows)`` (or ``= export_rows``) in the body
        of ``cls``: the module's function that ``self.row_source()`` runs."""
        for target, value in class_aliases(cls):
            if target != name:
                continue
            for binding in self.index.bindings(value):
                if isinstance(binding, cst.FunctionDef):
                    return binding
        return None


#: Wrappers that make a function a class attribute without changing what runs.
METHOD_WRAPPERS = frozenset({"staticmethod", "classmethod"})


def class_aliases(cls: cst.ClassDef) -> List[Tuple[str, cst.Name]]:
    """(attribute, function name) for each ``attr = func`` / ``attr = staticmethod(func)``
    / ``attr = classmethod(func)`` statement of ``cls``'s body."""
    found: List[Tuple[str, cst.Name]] = []
    for statement in cls.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                continue
            target, value = small.targets[0].target, small.value
            if (
                isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                and value.func.value in METHOD_WRAPPERS and len(value.args) == 1
                and not value.args[0].star and value.args[0].keyword is None
            ):
                value = value.args[0].value
            if isinstance(target, cst.Name) and isinstance(value, cst.Name):
                found.append((target.value, value))
    return found


def receiver_type(qualified: Set[str]) -> Optional[ReceiverType]:
    for receiver in RECEIVER_TYPES:
        if qualified & receiver.qualified_names:
            return receiver
    return None


def first_class(kind: ReceiverKind) -> Optional[cst.ClassDef]:
    return kind if isinstance(kind, cst.ClassDef) else None


def _root_name(expr: cst.BaseExpression) -> Optional[cst.Name]:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None
