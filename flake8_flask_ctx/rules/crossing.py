"""Values that die with the request, handed to code that outlives it (FCX200/FCX210).

The worker may read no context-local by name and still fail, because what it was
*given* is bound to the request:

* FCX200 -- a proxy itself (``request``, ``current_app``, ``g``... or a local alias
  ``req = request``) passed as an argument, bound by ``functools.partial``, used as a
  default value of the dispatched function, or closed over: it is resolved again in
  the worker, where no context exists.  ``current_app._get_current_object()`` is the
  real app and is fine.
* FCX210 -- a request-lifetime object (an uploaded file, the body stream, the real
  request object): valid only until the request ends, when Werkzeug closes it.

Values computed in the view (``request.get_json()``, ``f.read()``) are fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Set

import libcst as cst

from ..engine.sites import DispatchSite
from ..knowledge import Knowledge
from ..knowledge.contexts import (
    LAZY_QUERY_METHODS,
    LIFETIME_ATTRIBUTES,
    LIFETIME_CALLS,
    LIFETIME_ITERABLES,
    LIFETIME_SUBSCRIPTS,
    QUERY_ATTRIBUTES,
    canonical_name,
)
from .codes import LAZY_QUERY
from ..knowledge.dispatchers import DISPATCH_OPTIONS
from ..engine.dynamic_relationships import is_dynamic_relationship
from ..engine.names import ModuleIndex
from ..engine.resolution import Resolver
from ..engine.targets import MAX_RESOLUTION_DEPTH, is_name_like


@dataclass(frozen=True)
class Crossing:
    """``node`` carries ``what`` (a proxy, or a request-lifetime object) across."""

    code: str
    node: cst.CSTNode
    what: str
    how: str


class CrossingFinder:
    def __init__(self, index: ModuleIndex, resolver: Resolver, knowledge: Knowledge) -> None:
        self.index = index
        self.resolver = resolver
        self.knowledge = knowledge

    def crossings(self, site: DispatchSite) -> List[Crossing]:
        found: List[Crossing] = []
        for value, how in self._travelling_values(site):
            for element in _elements(value):
                crossing = self.classify(element, how)
                if crossing is not None:
                    found.append(crossing)
        for target in site.targets:
            node = target.node
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                for param in _parameters(node.params):
                    if param.default is not None:
                        crossing = self.classify(param.default, f"the default of {target.label}")
                        if crossing is not None:
                            found.append(crossing)
        return found

    def _travelling_values(self, site: DispatchSite) -> Iterator[tuple[cst.BaseExpression, str]]:
        for value in site.bound_arguments:
            yield value, "bound by functools.partial"
        call = site.call
        if call is None:
            return
        forwards = site.forwards
        named = {keyword for _, keyword in forwards.containers}
        positional = 0
        for arg in call.args:
            if arg.star == "**" and forwards.other_keywords:
                yield arg.value, "passed as **kwargs"
                continue
            if arg.value is site.report_at or arg.star:
                if arg.keyword is None and not arg.star:
                    positional += 1
                continue
            if arg.keyword is not None:
                keyword = arg.keyword.value
                forwarded = forwards.other_keywords and keyword not in DISPATCH_OPTIONS
                if keyword in named or forwarded:
                    yield arg.value, f"passed as {keyword}="
                continue
            container = any(position == positional for position, _ in forwards.containers)
            rest = forwards.rest_from is not None and positional >= forwards.rest_from
            if container or rest:
                yield arg.value, "passed as an argument"
            positional += 1

    # -- what a value is ------------------------------------------------------------

    def classify(self, value: cst.BaseExpression, how: str) -> Optional[Crossing]:
        """FCX200 for a proxy (or an alias of one), FCX210 for a request-lifetime object."""
        proxy = self.proxy_name(value, 0)
        if proxy is not None:
            return Crossing("FCX200", value, proxy, how)
        lifetime = self.lifetime_object(value, 0)
        if lifetime is not None:
            return Crossing("FCX210", value, lifetime, how)
        return None

    def proxy_name(self, value: cst.BaseExpression, depth: int) -> Optional[str]:
        """The proxy ``value`` is (``request``), or aliases (``req = request``)."""
        if depth > MAX_RESOLUTION_DEPTH or not is_name_like(value):
            return None
        for qualified in self.index.qualified_names(value):
            local = canonical_name(qualified)
            if local in self.knowledge.proxy_objects:
                return local
        if isinstance(value, cst.Name):
            for bound in self.index.bindings(value):
                if isinstance(bound, cst.BaseExpression):
                    found = self.proxy_name(bound, depth + 1)
                    if found is not None:
                        return found
        return None

    def lifetime_object(self, value: cst.BaseExpression, depth: int) -> Optional[str]:
        """A description of the request-lifetime object ``value`` is, if it is one."""
        if depth > MAX_RESOLUTION_DEPTH:
            return None
        if isinstance(value, cst.Subscript) and self._is(value.value, LIFETIME_SUBSCRIPTS):
            return self.index.code(value, 50)
        if isinstance(value, cst.Call) and self._is(value.func, LIFETIME_CALLS):
            return self.index.code(value, 50)
        if isinstance(value, cst.Attribute) and self._is(value, LIFETIME_ATTRIBUTES):
            return self.index.code(value, 50)
        if isinstance(value, (cst.Call, cst.Attribute)) and self._lazy_query(value, depth):
            return f"{LAZY_QUERY} {self.index.code(value, 50)}"
        if isinstance(value, cst.Name):
            for bound in self.index.bindings(value):
                if isinstance(bound, cst.BaseExpression):
                    found = self.lifetime_object(bound, depth + 1)
                    if found is not None:
                        return found
            iterable = self._loop_iterable(value)
            if isinstance(iterable, cst.Call) and self._is(iterable.func, LIFETIME_ITERABLES):
                return f"an uploaded file from {self.index.code(iterable, 40)}"
        return None

    def _lazy_query(self, value: cst.BaseExpression, depth: int) -> bool:
        """A Flask-SQLAlchemy query not yet evaluated: ``Model.query`` or
        ``db.session.query(...)``, refined only by methods that stay lazy."""
        if depth > MAX_RESOLUTION_DEPTH:
            return False
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            method = value.func.attr.value
            if method not in LAZY_QUERY_METHODS:
                return False  # ``.all()``, ``.first()``, ``.count()``: evaluated here
            inner = value.func.value
            if (
                method == "query" and isinstance(inner, (cst.Name, cst.Attribute))
                and self.resolver.extension_local(inner) is not None
            ):
                return True  # ``db.session.query(Product)``
            return self._lazy_query(inner, depth + 1)
        if isinstance(value, cst.Attribute) and value.attr.value in QUERY_ATTRIBUTES:
            return self.resolver.extension_local(value) is not None
        # ``project.tasks``: a ``lazy="dynamic"`` relationship is a query too
        return is_dynamic_relationship(self.resolver, value)

    def _is(self, expr: cst.BaseExpression, names: "frozenset[str]") -> bool:
        if not is_name_like(expr):
            return False
        return any(canonical_name(q) in names for q in self.index.qualified_names(expr))

    def _loop_iterable(self, name: cst.Name) -> Optional[cst.BaseExpression]:
        """``items`` for a ``name`` bound by ``for name in items`` (a single target)."""
        for node in self.index.binding_nodes(name):
            loop = self.index.parent(node)
            if isinstance(loop, cst.For) and loop.target is node:
                return loop.iter
        return None


#: Keyword arguments of dispatchers that configure the job rather than travel to it.


def _elements(value: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """``value`` and, for literal tuples/lists/sets/dicts, the values inside."""
    stack: List[cst.BaseExpression] = [value]
    seen: Set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (cst.Tuple, cst.List, cst.Set)):
            stack.extend(e.value for e in current.elements)
        elif isinstance(current, cst.Dict):
            stack.extend(
                e.value
                for e in current.elements
                if isinstance(e, (cst.DictElement, cst.StarredDictElement))
            )
        else:
            yield current


def _parameters(params: cst.Parameters) -> List[cst.Param]:
    return list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
