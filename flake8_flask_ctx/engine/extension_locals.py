"""The resolver's questions about extension context-locals: which project names are
Flask's proxies (``from flask import request as rq``; ``req = request``), which are
context-locals of an extension object (``db.session``, ``User.query`` of a
``db.Model`` subclass) or a project's own ``LocalProxy`` -- wherever in the project
they are defined.

A mixin of ``resolution.Resolver``, kept apart because it is the one part that knows
about extensions; the attributes and methods it uses are the resolver's, declared below
for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional, Set, Tuple, Union, cast

import libcst as cst

from ..knowledge import Knowledge
from ..knowledge.contexts import (
    EXTENSION_ATTRIBUTES,
    EXTENSION_FACTORY_WORDS,
    EXTENSION_MODEL_BASES,
    EXTENSION_OBJECTS,
    EXTENSION_WORDS,
    LOCAL_PROXY_CLASSES,
    LOCAL_PROXY_WORDS,
    Tier,
    canonical_name,
)
from .names import ModuleIndex, dotted_name, root_name
from .targets import MAX_RESOLUTION_DEPTH, is_name_like

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver
    from .units import Symbol

#: An extension context-local found by ``Resolver.extension_local``: the name shown in
#: messages, its tier, and whether it is a proxy object (``if proxy:`` is a guard).
ExtensionLocal = Tuple[str, Tier, bool]


class ExtensionLocalQueries:
    """Proxies and extension context-locals, as seen from one module."""

    if TYPE_CHECKING:  # pragma: no cover
        index: ModuleIndex
        knowledge: Knowledge
        _class_names: Set[str]
        _alias_names: Optional[Set[str]]
        _extension_names: Optional[Set[str]]
        _extension_values: Dict[int, Optional[ExtensionLocal]]

        def project_names(self) -> Set[str]: ...

        def foreign(
            self, expr: cst.BaseExpression, words: Optional[Tuple[str, ...]] = None
        ) -> Optional[Symbol]: ...

        def foreign_external(
            self, expr: cst.BaseExpression, words: Optional[Tuple[str, ...]] = None
        ) -> Optional[str]: ...

    def _as_resolver(self) -> "Resolver":
        """This object as what it always is: the mixin only ever runs as a ``Resolver``."""
        return cast("Resolver", self)

    # -- proxies ---------------------------------------------------------------------

    def proxy_of(self, expr: cst.BaseExpression) -> Optional[str]:
        """The proxy object (``flask.request``...) a Name/Attribute resolves to."""
        if not is_name_like(expr):
            return None
        for qualified in self.index.qualified_names(expr):
            local = canonical_name(qualified)
            if local in self.knowledge.proxy_objects:
                return local
        return None

    def proxy_alias(self, name: cst.Name) -> Optional[Tuple[str, Optional[cst.FunctionDef]]]:
        """``(proxy, function)`` when ``name`` is a variable assigned a proxy
        (``req = request``): ``function`` is where it was assigned (None: module level)."""
        if self._alias_names is None:
            self._alias_names = {
                target.target.value
                for assign in self.index.assigns
                if self.proxy_of(assign.value) is not None
                for target in assign.targets
                if isinstance(target.target, cst.Name)
            }
        if name.value not in self._alias_names:
            return None
        for node in self.index.binding_nodes(name):
            if not isinstance(node, cst.Name):
                continue
            value = self.index.bound_value(node)
            proxy = self.proxy_of(value) if value is not None else None
            if proxy is not None:
                return proxy, self.index.enclosing(node, (cst.FunctionDef,))
        return None

    # -- extension context-locals ----------------------------------------------------

    def extension_local(
        self, node: Union[cst.Name, cst.Attribute]
    ) -> Optional[ExtensionLocal]:
        """``db.session`` / ``db.engine`` of a Flask-SQLAlchemy object, ``User.query`` of
        one of its models, or a project's own ``LocalProxy``, wherever in the project
        ``db``, ``User`` or the proxy are defined."""
        root = root_name(node)
        if isinstance(node, cst.Attribute) and node.attr.value in EXTENSION_ATTRIBUTES:
            model = self._classmethod_owner(node.value)
            if model is not None:  # ``cls.query`` in a classmethod of a model
                tier = self._model_attribute(model, node.attr.value, set())
                return (self.index.code(node, 50), tier, False) if tier is not None else None
        if root is None or root.value not in self._extension_candidates():
            return None
        if root.value in self.project_names():
            external = self.foreign_external(node, self.knowledge.watched_packages)
            if external is not None:
                local = canonical_name(external)
                tier = self.knowledge.tier_of(local)
                if tier is None:
                    return None
                return local, tier, local in self.knowledge.proxy_objects
        if isinstance(node, cst.Name):
            return self._local_proxy(node)
        attribute = node.attr.value
        if attribute not in EXTENSION_ATTRIBUTES:
            return None
        value = self.resolved_value(node.value, words=EXTENSION_WORDS)
        if value is None:
            return None
        there, owner = value
        text = self.index.code(node, 50)
        if isinstance(owner, cst.Call):
            tiers = there._extension_attributes(owner)
            tier = tiers.get(attribute) if tiers else None
            return (text, tier, False) if tier is not None else None
        if isinstance(owner, cst.ClassDef):
            tier = there._model_attribute(owner, attribute, set())
            return (text, tier, False) if tier is not None else None
        return None

    def _extension_candidates(self) -> Set[str]:
        """Identifiers that can name an extension object, model or proxy (a text gate:
        every Name/Attribute of every reached body passes through here)."""
        if self._extension_names is None:
            names = set(self.project_names()) | self._class_names
            for assign in self.index.assigns:
                value = assign.value
                if isinstance(value, cst.Call):
                    func = dotted_name(value.func) if is_name_like(value.func) else None
                    if func and func.rsplit(".", 1)[-1] in EXTENSION_FACTORY_WORDS:
                        names.update(
                            t.target.value for t in assign.targets
                            if isinstance(t.target, cst.Name)
                        )
            self._extension_names = names
        return self._extension_names

    def resolved_value(
        self,
        expr: cst.BaseExpression,
        depth: int = 0,
        words: Optional[Tuple[str, ...]] = None,
    ) -> Optional[Tuple["Resolver", cst.CSTNode]]:
        """The call or class a Name/Attribute is bound to, here or in the project module
        it is imported from, with the resolver of that module."""
        if depth > MAX_RESOLUTION_DEPTH or not is_name_like(expr):
            return None
        if isinstance(expr, cst.Name):
            values = self.index.bindings(expr)
            for value in values:
                if isinstance(value, (cst.Call, cst.ClassDef)):
                    return self._as_resolver(), value
                if isinstance(value, cst.Name):
                    return self.resolved_value(value, depth + 1, words)
            if values:
                return None
        symbol = self.foreign(expr, words)
        if symbol is None or symbol.node is None:
            return None
        if isinstance(symbol.node, (cst.Call, cst.ClassDef)):
            return symbol.unit.resolver, symbol.node
        if isinstance(symbol.node, (cst.Name, cst.Attribute)):
            return symbol.unit.resolver.resolved_value(symbol.node, depth + 1, words)
        return None

    def _factory_names(self, call: cst.Call) -> Set[str]:
        if not is_name_like(call.func):
            return set()
        return {canonical_name(q) for q in self.index.qualified_names_any(call.func)}

    def _extension_attributes(self, call: cst.Call) -> Optional[Dict[str, Tier]]:
        for name in self._factory_names(call):
            table = EXTENSION_OBJECTS.get(name)
            if table is not None:
                return dict(table)
        return None

    def _classmethod_owner(self, expr: cst.BaseExpression) -> Optional[cst.ClassDef]:
        """The class ``cls`` stands for: the first parameter of a ``@classmethod`` of a
        class of this module."""
        if not isinstance(expr, cst.Name):
            return None
        binding = self.index.parameter_binding(expr)
        if binding is None:
            return None
        function, param = binding
        positional = [*function.params.posonly_params, *function.params.params]
        if not positional or positional[0] is not param or not any(
            isinstance(d.decorator, cst.Name) and d.decorator.value == "classmethod"
            for d in function.decorators
        ):
            return None
        return self.index.enclosing_class_of_function(function)

    def _model_attribute(
        self, cls: cst.ClassDef, attribute: str, seen: Set[cst.ClassDef]
    ) -> Optional[Tier]:
        """``query`` of a class deriving (through classes of the project) from
        ``db.Model`` of a Flask-SQLAlchemy object."""
        if cls in seen or len(seen) > MAX_RESOLUTION_DEPTH:
            return None
        seen.add(cls)
        for base in cls.bases:
            if base.keyword is not None or not is_name_like(base.value):
                continue
            if isinstance(base.value, cst.Attribute):
                owner = self.resolved_value(base.value.value, words=EXTENSION_WORDS)
                if owner is not None and isinstance(owner[1], cst.Call):
                    for name in owner[0]._factory_names(owner[1]):
                        model = EXTENSION_MODEL_BASES.get(name)
                        if model is not None and model[0] == base.value.attr.value:
                            return model[1].get(attribute)
            parent = self.resolved_value(base.value, words=EXTENSION_WORDS)
            if parent is not None and isinstance(parent[1], cst.ClassDef):
                found = parent[0]._model_attribute(parent[1], attribute, seen)
                if found is not None:
                    return found
        return None

    def _local_proxy(self, name: cst.Name) -> Optional[ExtensionLocal]:
        """A ``werkzeug.local.LocalProxy(...)`` of the project: a context-local of the
        first tier the wrapped callable certainly reads -- request if it reads a
        request-tier name, app if only app-tier ones.  One whose callable reads none
        (``LocalProxy(lambda: appbuilder.sm)``), or cannot be followed, is not a
        context-local the engine can vouch for: not one (SPEC section 6)."""
        value = self.resolved_value(name, words=LOCAL_PROXY_WORDS)
        if value is None or not isinstance(value[1], cst.Call):
            return None
        there, call = value[0], value[1]
        if not (there._factory_names(call) & LOCAL_PROXY_CLASSES):
            return None
        key = id(call)
        if key in there._extension_values:
            return there._extension_values[key]
        there._extension_values[key] = None  # a cycle through the proxy itself: not one
        found = {}
        if call.args and there.unit is not None:
            wrapped = there.callable(call.args[0].value).targets
            found = there.unit.reach.first_reads(wrapped) if wrapped else {}
        result: Optional[ExtensionLocal] = None
        if Tier.REQUEST in found:
            result = (name.value, Tier.REQUEST, True)
        elif Tier.APP in found:
            result = (name.value, Tier.APP, True)
        there._extension_values[key] = result
        return result
