"""Project helpers a callable or proxy is handed to (SPEC section 6): ``with_retry(load)``
calls ``load`` when ``with_retry``'s own body calls that parameter; ``describe(app)``
reads ``app`` when it dereferences it.  A mixin of ``Reach`` (which supplies ``index``,
``callees_of`` and ``resolver``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import libcst as cst

from .names import ModuleIndex, child_nodes
from .targets import Target, is_name_like
from .uses import certainly_called, dereferenced

if TYPE_CHECKING:  # pragma: no cover
    from .resolution import Resolver


class ProjectHelpers:
    """What project functions do with the callables and proxies handed to them."""

    index: ModuleIndex
    resolver: "Resolver"
    #: ``function`` -> the names its own body mentions (``walk_own``), worked out once:
    #: every reference a scan meets may ask about the same helper again.
    _own_names: Dict[cst.FunctionDef, Dict[str, List[cst.Name]]]
    #: (``function``, parameter, depth, called) -> ``uses_parameter``'s answer.
    _parameter_uses: Dict[Tuple[cst.FunctionDef, str, int, bool], bool]

    def callees_of(self, expr: cst.BaseExpression) -> List[Target]:
        raise NotImplementedError

    def called_by_helper(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """``with_retry(load)`` where the project function ``with_retry`` calls the
        parameter ``load`` is passed for (``fn()`` in its own body, not in a closure it
        builds), or hands it on to a function that does (SPEC section 6: a callable handed
        to a function *of the project* is followed into it)."""
        return self._used_by_helper(expr, depth, called=True)

    def read_by_helper(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """``log_request(request)`` where the project function dereferences the parameter
        the proxy is passed for (``r.args``), or hands it on to one that does."""
        return self._used_by_helper(expr, depth, called=False)

    def _used_by_helper(self, expr: cst.BaseExpression, depth: int, called: bool) -> bool:
        parent = self.index.parent(expr)
        items = False
        if isinstance(parent, cst.Element) and called:
            # ``run_steps([audit, notify])``: an item of a list handed to the helper
            sequence = self.index.parent(parent)
            if isinstance(sequence, (cst.List, cst.Tuple)):
                expr, parent, items = sequence, self.index.parent(sequence), True
        if (
            depth > MAX_HELPER_DEPTH
            or not isinstance(parent, cst.Arg)
            or parent.value is not expr
            or parent.star
        ):
            return False
        call = self.index.parent(parent)
        if not isinstance(call, cst.Call) or not is_name_like(call.func):
            return False
        bound = isinstance(call.func, cst.Attribute)
        for callee in self.callees_of(call.func):
            if not isinstance(callee.node, cst.FunctionDef):
                continue
            name = parameter_for(call, parent, callee.node, bound)
            there = callee.home.reach if callee.home is not None else self
            if name is None:
                continue
            if items:
                name = there.loop_variable(callee.node, name) or ""
            if name and there.uses_parameter(callee.node, name, depth, called):
                return True
        return False

    def loop_variable(self, function: cst.FunctionDef, name: str) -> Optional[str]:
        """``x`` of ``for x in <name>:`` in ``function``'s body (its items, one by one)."""
        for node in walk_own(function):
            if (
                isinstance(node, cst.For)
                and isinstance(node.iter, cst.Name) and node.iter.value == name
                and isinstance(node.target, cst.Name)
            ):
                return node.target.value
        return None

    def uses_parameter(
        self, function: cst.FunctionDef, name: str, depth: int, called: bool
    ) -> bool:
        """Whether ``function``'s own body calls (``called``) or dereferences its
        parameter ``name``, itself or through another project function (a closure it
        builds counts only if the body calls it at once: ``def run(): fn()``; ``run()``)."""
        key = (function, name, depth, called)
        known = self._parameter_uses.get(key)
        if known is None:
            known = any(
                (certainly_called(self.index, node) if called
                 else dereferenced(self.index, node))
                or self._used_by_helper(node, depth + 1, called)
                for node in self._names_in(function).get(name, ())
            )
            self._parameter_uses[key] = known
        return known

    def _names_in(self, function: cst.FunctionDef) -> Dict[str, List[cst.Name]]:
        """The ``Name`` nodes of ``walk_own(function)`` by identifier, built once."""
        names = self._own_names.get(function)
        if names is None:
            names = {}
            for node in walk_own(function):
                if isinstance(node, cst.Name):
                    names.setdefault(node.value, []).append(node)
            self._own_names[function] = names
        return names

    def _forwarded_callables(
        self, call: cst.Call, root: Target, bound: bool
    ) -> List[Tuple[cst.BaseExpression, Target]]:
        """Callables the dispatch forwards to ``root`` (``pool.submit(with_retry,
        fetch)``) that ``root`` certainly calls: they run in the worker too."""
        if not isinstance(root.node, cst.FunctionDef):
            return []
        there = root.home.reach if root.home is not None else self
        found: List[Tuple[cst.BaseExpression, Target]] = []
        for arg in call.args:
            if arg.star:
                continue
            name = parameter_for(call, arg, root.node, bound)
            if name is None or not there.uses_parameter(root.node, name, 0, called=True):
                continue
            value = arg.value
            if isinstance(value, cst.Lambda):
                found.append((value, self.resolver.target(value, "the lambda")))
            elif is_name_like(value):
                found.extend((value, target) for target in self.callees_of(value))
        return found


#: How many project helpers deep a handed-on callable is followed (``a(fn)`` -> ``b(fn)``).
MAX_HELPER_DEPTH = 3


def parameter_for(
    call: cst.Call, arg: cst.Arg, function: cst.FunctionDef, bound: bool
) -> Optional[str]:
    """The parameter of ``function`` that ``arg`` of ``call`` is passed for."""
    if arg.keyword is not None:
        return arg.keyword.value
    positional = list(function.params.posonly_params) + list(function.params.params)
    if bound and positional and positional[0].name.value in ("self", "cls"):
        positional = positional[1:]
    position = 0
    for current in call.args:
        if current.star or current.keyword is not None:
            return None  # after ``*args`` the position is unknown
        if current is arg:
            return positional[position].name.value if position < len(positional) else None
        position += 1
    return None


def walk_own(function: cst.FunctionDef) -> List[cst.CSTNode]:
    """The nodes of ``function``'s body, and of the nested functions that body itself
    calls by name (``def run(): ...``; ``return run()``); not of closures it only builds,
    lambdas or classes."""
    called = {
        node.func.value for node in walk_shallow(function.body)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
    }
    found: List[cst.CSTNode] = []
    stack: List[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.FunctionDef):
            if node.name.value in called and node is not function:
                stack.append(node.body)
            continue
        if isinstance(node, (cst.Lambda, cst.ClassDef)):
            continue
        found.append(node)
        stack.extend(child_nodes(node))
    return found


def walk_shallow(body: cst.CSTNode) -> List[cst.CSTNode]:
    """Nodes of ``body`` outside nested functions, lambdas and classes."""
    found: List[cst.CSTNode] = []
    stack: List[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        found.append(node)
        stack.extend(child_nodes(node))
    return found
