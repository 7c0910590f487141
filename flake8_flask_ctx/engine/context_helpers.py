"""Flask's own context helpers used in ways that fail (FCX400).

``copy_current_request_context`` copies the *current* request context when it is
applied, and pushes that one copy every time the wrapper runs:

* applied at import time (a module-level decorator or call) there is no request to
  copy: ``RuntimeError`` when the module is imported;
* one wrapper run several times concurrently (dispatched twice, from a loop, or
  through ``.map``) pushes the same context from several threads; popping it in one
  thread resets a token created in another: ``ValueError: ... created in a different
  Context``.
"""

from __future__ import annotations

from typing import Dict, List

import libcst as cst

from .sites import DispatchSite
from ..knowledge.contexts import SAFE_WRAPPERS
from .names import ModuleIndex
from .targets import is_name_like

#: Methods that wait for a dispatched job to finish.
_WAITS = frozenset({"result", "join", "get", "wait", "exception"})
#: Nodes that run their body many times.
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class CopyContextChecks:
    def __init__(self, index: ModuleIndex) -> None:
        self.index = index

    def import_time_wrappers(self) -> List[cst.CSTNode]:
        """Decorators and calls of Flask's ``copy_current_request_context`` that run
        when the module is imported (not inside any function)."""
        found: List[cst.CSTNode] = []
        for function in self.index.functions:
            if self.index.enclosing(function, (cst.FunctionDef,)) is not None:
                continue
            for decorator in function.decorators:
                expr = decorator.decorator
                if isinstance(expr, cst.Call):
                    expr = expr.func
                if self._is_copy(expr):
                    found.append(decorator)
        for call in self.index.calls:
            if self._is_copy(call.func) and self.index.enclosing(call, (cst.FunctionDef,)) is None:
                found.append(call)
        return found

    def reused_wrappers(self, sites: List[DispatchSite]) -> Dict[cst.CSTNode, str]:
        """Wrappers run more than once: wrapper node -> why."""
        uses: Dict[cst.CSTNode, List[DispatchSite]] = {}
        for site in sites:
            for wrapper in site.wrappers:
                uses.setdefault(wrapper, []).append(site)
        reused: Dict[cst.CSTNode, str] = {}
        for wrapper, using in uses.items():
            using = sorted(using, key=lambda site: self._position(site.report_at))
            if any(site.runs_many for site in using):
                reused[wrapper] = "run for every item by a map"
            elif any(
                self._in_loop_without(site, wrapper) and not self._waited(site)
                for site in using
            ):
                reused[wrapper] = "dispatched in a loop"
            elif any(not self._waited(site) for site in using[:-1]):
                # A run the view does not wait for overlaps the next one; runs waited
                # for (``submit(...).result()``) are sequential, which works.
                reused[wrapper] = f"dispatched {len(using)} times"
        return reused

    def _position(self, node: cst.CSTNode) -> int:
        return self.index.order(node)

    def _waited(self, site: DispatchSite) -> bool:
        """``pool.submit(w).result()`` / ``Thread(target=w).join()``: done before the
        view goes on."""
        if site.call is None:
            return False
        holder = self.index.parent(site.call)
        return (
            isinstance(holder, cst.Attribute)
            and holder.value is site.call
            and holder.attr.value in _WAITS
            and isinstance(self.index.parent(holder), cst.Call)
        )

    def _in_loop_without(self, site: DispatchSite, wrapper: cst.CSTNode) -> bool:
        """The dispatch repeats in a loop that does not also re-create the wrapper."""
        wrapper_ancestors = set(map(id, self.index.ancestors(wrapper)))
        for ancestor in self.index.ancestors(site.report_at):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                return False
            if isinstance(ancestor, _LOOPS) and id(ancestor) not in wrapper_ancestors:
                return True
        return False

    def _is_copy(self, expr: cst.BaseExpression) -> bool:
        return is_name_like(expr) and bool(
            self.index.qualified_names_any(expr) & SAFE_WRAPPERS
        )
