"""Streamed response bodies (FCX300): generators that run after the view returned.

Flask pops the request and app contexts when the view returns; a generator used as
the response body is iterated afterwards, while the server writes the response, so
a context-local it touches fails unless the generator is wrapped with
``stream_with_context``.  The generator's body is followed like a dispatched callable
(helpers included); arguments passed when it is created are evaluated in the view
and are fine.
"""

from __future__ import annotations

from typing import List, Optional, Set, Tuple

import libcst as cst

from ..engine.node_names import argument_at, decorated_by_method
from ..engine.sites import DispatchSite
from ..knowledge.contexts import (
    RESPONSE_CLASS_ATTRIBUTE,
    RESPONSE_CLASSES,
    RESPONSE_FACTORIES,
    STREAM_WRAPPERS,
    VIEW_CLASS_METHODS,
    VIEW_CLASSES,
    VIEW_DECORATOR_METHODS,
    VIEW_REGISTRATION_METHOD,
)
from ..engine.names import ModuleIndex, child_nodes
from ..engine.resolution import Resolver
from ..engine.targets import MAX_RESOLUTION_DEPTH, Target, is_name_like

MECHANISM = "while the response streams (the view's contexts are popped by then)"


class StreamFinder:
    def __init__(self, index: ModuleIndex, resolver: Resolver) -> None:
        self.index = index
        self.resolver = resolver

    def sites(self) -> List[DispatchSite]:
        sites: List[DispatchSite] = []
        seen: Set[cst.CSTNode] = set()
        for body in self._bodies():
            site = self._generator_site(body, 0)
            if site is not None and site.report_at not in seen:
                seen.add(site.report_at)
                sites.append(site)
        return sites

    def _bodies(self) -> List[cst.BaseExpression]:
        """Expressions used as a response body: ``Response(body)``, returned by a view."""
        bodies: List[cst.BaseExpression] = []
        for call in self.index.calls:
            if self._is_response_class(call.func):
                body = argument_at(call, 0, "response")
                if body is not None:
                    bodies.append(body)
        for function in self._views():
            for node in _own_nodes(function):
                if isinstance(node, cst.Return) and node.value is not None:
                    value = node.value
                    if isinstance(value, cst.Tuple) and value.elements:
                        value = value.elements[0].value
                    bodies.append(value)
        return bodies

    def _views(self) -> List[cst.FunctionDef]:
        """Functions that run as views: decorated with a route, registered with
        ``add_url_rule`` (a function, or ``SomeView.as_view(...)``), and the HTTP-method
        functions of class-based views (``MethodView`` subclasses)."""
        views = [function for function in self.index.functions if is_view(function)]
        for call in self.index.calls:
            func = call.func
            registers = isinstance(func, cst.Attribute) and (
                func.attr.value == VIEW_REGISTRATION_METHOD
            )
            if not registers:
                continue
            view = argument_at(call, 2, "view_func")
            if view is None:
                continue
            if isinstance(view, cst.Call) and isinstance(view.func, cst.Attribute):
                owner = self.resolver.local_class(view.func.value)  # ``X.as_view("x")``
                if owner is not None:
                    views.extend(self._class_view_methods(owner))
                continue
            views.extend(
                target.node for target in self.resolver.callable(view).targets
                if isinstance(target.node, cst.FunctionDef)
                and target.home is self.resolver.unit  # this module's: its lines are ours
            )
        for owner in self.index.classes:
            if self._is_view_class(owner, 0):
                views.extend(self._class_view_methods(owner))
        return list(dict.fromkeys(views))

    def _is_view_class(self, owner: cst.ClassDef, depth: int) -> bool:
        if depth > MAX_RESOLUTION_DEPTH:
            return False
        for base in owner.bases:
            if is_name_like(base.value) and (
                self.index.qualified_names_any(base.value) & VIEW_CLASSES
            ):
                return True
            local = self.resolver.local_class(base.value)
            if local is not None and local is not owner and self._is_view_class(local, depth + 1):
                return True
        return False

    def _class_view_methods(self, owner: cst.ClassDef) -> List[cst.FunctionDef]:
        return [
            statement for statement in owner.body.body
            if isinstance(statement, cst.FunctionDef)
            and statement.name.value in VIEW_CLASS_METHODS
        ]

    def _is_response_class(self, func: cst.BaseExpression) -> bool:
        if isinstance(func, cst.Attribute) and func.attr.value == RESPONSE_CLASS_ATTRIBUTE:
            return True
        return is_name_like(func) and bool(
            self.index.qualified_names_any(func) & (RESPONSE_CLASSES | RESPONSE_FACTORIES)
        )

    def _generator_site(self, body: cst.BaseExpression, depth: int) -> Optional[DispatchSite]:
        if depth > MAX_RESOLUTION_DEPTH:
            return None
        if isinstance(body, cst.GeneratorExp):
            return DispatchSite(
                body, (self.resolver.target(body, "the generator expression"),), MECHANISM
            )
        if isinstance(body, cst.Name):
            for value in self.index.bindings(body):
                if isinstance(value, (cst.Call, cst.GeneratorExp)):
                    return self._generator_site(value, depth + 1)
            return None
        if not isinstance(body, cst.Call) or not is_name_like(body.func):
            return None
        if self.index.qualified_names_any(body.func) & STREAM_WRAPPERS:
            return None
        generators: List[Target] = []
        helpers: List[cst.FunctionDef] = []
        for target in self.resolver.callable(body.func).targets:
            node = target.node
            if not isinstance(node, cst.FunctionDef):
                continue
            if is_generator(node):
                if not self._keeps_context(node):
                    generators.append(target)
            elif target.home is self.resolver.unit:
                helpers.append(node)
        if generators:
            nested = [target for _, target in self.nested_generators(body)]
            return DispatchSite(body, tuple(generators + nested), MECHANISM)
        for helper in helpers:  # ``return csv_body()`` where the helper returns ``rows()``
            for inner in _own_nodes(helper):
                if isinstance(inner, cst.Return) and inner.value is not None:
                    site = self._generator_site(inner.value, depth + 1)
                    if site is not None:
                        return site
        return None

    def nested_generators(
        self, call: cst.Call, depth: int = 0
    ) -> List[Tuple[cst.Call, Target]]:
        """Generators of the project handed, unstarted, to the streamed generator
        ``call``: ``stream(_product_stream(products))`` (also through a name bound to
        the call).  A generator's body runs only when it is iterated: here, by the outer
        one, while the response streams -- its reads and its arguments are streamed too."""
        found: List[Tuple[cst.Call, Target]] = []
        for arg in call.args:
            value = self.index.value_before_rewrap(arg.value, call)
            found.extend(self.generators_in(value, depth))
        return found

    def generators_in(
        self, expr: cst.BaseExpression, depth: int = 0
    ) -> List[Tuple[cst.Call, Target]]:
        """The unstarted project generators ``expr`` is (or names), and those handed to
        them, to ``MAX_NESTED_GENERATORS`` levels."""
        if depth > MAX_NESTED_GENERATORS:
            return []
        value: cst.CSTNode = expr
        if isinstance(value, cst.Name):
            bound = self.index.bindings(value)
            value = bound[0] if len(bound) == 1 else value
        if not isinstance(value, cst.Call) or not is_name_like(value.func):
            return []
        if self.index.qualified_names_any(value.func) & STREAM_WRAPPERS:
            return []
        generators = [
            target for target in self.resolver.callable(value.func).targets
            if isinstance(target.node, cst.FunctionDef) and is_generator(target.node)
            and not self._keeps_context(target.node)
        ]
        found = [(value, target) for target in generators]
        if generators:
            found.extend(self.nested_generators(value, depth + 1))
        return found

    def _keeps_context(self, function: cst.FunctionDef) -> bool:
        for decorator in function.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if is_name_like(expr) and self.index.qualified_names_any(expr) & STREAM_WRAPPERS:
                return True
        return False


#: How deep generators handed to generators are followed (``a(b(c(query)))``).
MAX_NESTED_GENERATORS = 3


def is_generator(function: cst.FunctionDef) -> bool:
    """Whether ``function`` itself yields (a ``yield`` in a nested def does not count)."""
    return any(isinstance(node, cst.Yield) for node in _own_nodes(function))


def _own_nodes(function: cst.FunctionDef) -> List[cst.CSTNode]:
    """Nodes of ``function``'s body, not descending into nested functions or classes."""
    out: List[cst.CSTNode] = []
    stack: List[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        stack.extend(child_nodes(node))
    return out


def is_view(function: cst.FunctionDef) -> bool:
    """Decorated with ``@<app or blueprint>.route/get/post/...``: runs in a request."""
    return decorated_by_method(function, VIEW_DECORATOR_METHODS)
