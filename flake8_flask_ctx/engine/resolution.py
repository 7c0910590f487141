"""What an expression *is*: the functions a callable expression can run, the class an
instance belongs to, the executor a receiver was built from.

Both the dispatch finder and the reach walk ask these questions, so they live here,
bound to one module's ``ModuleIndex``.  Resolution is deliberately shallow and
syntactic (names, ``self.``/``cls.``/``Class.``, ``x = Local()``, ``functools.partial``,
conditional expressions): no type inference, so what it cannot tell stays unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Set, Tuple, Union

import libcst as cst

from ..knowledge import Knowledge
from ..knowledge.contexts import (
    CONTEXT_COPIERS, PARTIAL_FACTORIES, Tier,
)
from .defaults import ParameterDefaults
from .extension_locals import ExtensionLocal, ExtensionLocalQueries
from .names import ModuleIndex, project_import_identifiers, root_name, walk
from .pushes import PUSH_WORDS, pushed_around_parameter
from .receivers import ReceiverQueries, class_aliases, first_class
from .returned_types import items_of_imported_function, property_result_method
from .targets import MAX_RESOLUTION_DEPTH, CallableNode, Resolution, Target, is_name_like

if TYPE_CHECKING:  # pragma: no cover
    from .units import ModuleUnit, Symbol


class Resolver(ExtensionLocalQueries, ReceiverQueries, ParameterDefaults):
    def __init__(
        self, index: ModuleIndex, knowledge: Knowledge, unit: Optional["ModuleUnit"] = None
    ) -> None:
        self.index = index
        self.knowledge = knowledge
        self.unit = unit
        #: Names a method call may run a function of this module by: the functions'
        #: own, and class attributes bound to one (``rows = staticmethod(export)``).
        self.function_names = {f.name.value for f in index.functions} | {
            alias for cls in index.classes for alias, _ in class_aliases(cls)
        }
        self._class_names = {c.name.value for c in index.classes}
        self._alias_names: Optional[Set[str]] = None
        self._project_names: Optional[Set[str]] = None
        self._extension_names: Optional[Set[str]] = None
        self._extension_values: Dict[int, Optional[ExtensionLocal]] = {}
        self._wrapper_words: Optional[FrozenSet[str]] = None
        self._instance_attributes: Dict[cst.ClassDef, Dict[str, List[cst.BaseExpression]]] = {}
        self._names_by_identifier: Optional[Dict[str, List[cst.Name]]] = None
        self._decorator_pushes: Dict[cst.FunctionDef, FrozenSet[Tier]] = {}
        #: Per parameter with a callable-looking default: (is the default what runs,).
        self._defaults: Dict[cst.Param, Tuple[bool]] = {}

    def target(self, node: CallableNode, label: str) -> Target:
        return Target(node, label, self.unit)

    # -- other modules of the project -----------------------------------------------

    def project_names(self) -> Set[str]:
        """Identifiers bound by imports of the project's own modules."""
        if self._project_names is None:
            project = self.unit.project if self.unit is not None else None
            self._project_names = (
                project_import_identifiers(self.index.imports, project.top_level_names())
                if project is not None
                else set()
            )
        return self._project_names

    def foreign(
        self, expr: cst.BaseExpression, words: Optional[Tuple[str, ...]] = None
    ) -> Optional["Symbol"]:
        """What an imported Name/Attribute (``send_report``, ``services.send``) is in
        the project module that defines it, or None (not imported from the project).
        ``words``: what that module's text must contain to be worth parsing."""
        found = self.foreign_symbol(expr, words)
        return found if found is not None and found.node is not None else None

    def _imported_names(self, expr: cst.BaseExpression) -> List[str]:
        """The absolute project names an imported Name/Attribute can stand for (none if
        it is not imported from the project, or its root is rebound locally)."""
        root = root_name(expr)
        if root is None or root.value not in self.project_names():
            return []
        unit = self.unit
        if unit is None or unit.project is None:
            return []
        if any(isinstance(node, cst.Name) for node in self.index.binding_nodes(root)):
            return []  # rebound locally (``send = wrap(send)``): not the import
        found = (unit.absolute(q) for q in sorted(self.index.qualified_names_any(expr)))
        return [name for name in found if name is not None]

    def foreign_symbol(
        self, expr: cst.BaseExpression, words: Optional[Tuple[str, ...]] = None
    ) -> Optional["Symbol"]:
        """Like ``foreign``, but also a library object the project re-exports."""
        for absolute in self._imported_names(expr):
            assert self.unit is not None and self.unit.project is not None
            found = self.unit.project.symbol(absolute, words=words, asker=self.unit)
            if found is not None and (found.node is not None or found.external):
                return found
        return None

    def foreign_external(
        self, expr: cst.BaseExpression, words: Optional[Tuple[str, ...]] = None
    ) -> Optional[str]:
        """``foreign_symbol(expr, words).external``, found on the ``ast`` export tables
        of the modules on the way (``exports.py``), without parsing any with LibCST."""
        from ..index.exports import MODULE, PROJECT, external_name

        for absolute in self._imported_names(expr):
            assert self.unit is not None and self.unit.project is not None
            found = external_name(self.unit.project, absolute, words)
            if found == PROJECT:
                return None
            if found is not None and found != MODULE:
                return found
        return None

    def foreign_may_run(self, expr: cst.BaseExpression, classes: bool) -> bool:
        """False when ``foreign(expr)`` is certainly nothing reach follows when called
        (a module, a library name, a class without ``__init__`` -- or any class, unless
        ``classes`` --, a value that holds no callable), told from the ``ast`` export
        tables: then the module defining it is not parsed with LibCST."""
        from ..index.exports import may_run_code

        unit = self.unit
        if unit is None or unit.project is None:
            return False
        if self._wrapper_words is None:
            self._wrapper_words = frozenset(
                name.rsplit(".", 1)[-1]
                for name in (*PARTIAL_FACTORIES, *self.knowledge.safe_wrappers)
            )
        for qualified in sorted(self.index.qualified_names_any(expr)):
            absolute = unit.absolute(qualified)
            if absolute is not None and may_run_code(
                unit.project, absolute, self._wrapper_words, classes
            ):
                return True
        return False

    def foreign_may_be_class_of(
        self, expr: cst.BaseExpression, bases: FrozenSet[str], words: Tuple[str, ...]
    ) -> bool:
        """False when the imported ``expr`` is certainly no class deriving from one
        of ``bases``, told from the ``ast`` export tables (``may_be_class_of``)."""
        from ..index.exports import may_be_class_of

        project = self.unit.project if self.unit is not None else None
        return project is not None and any(
            may_be_class_of(project, name, bases, words) for name in self._imported_names(expr)
        )

    # -- callables ------------------------------------------------------------------

    def callable(
        self, expr: cst.BaseExpression, depth: int = 0, seen: Optional[Set[cst.CSTNode]] = None
    ) -> Resolution:
        """The functions/lambdas ``expr`` can be, or that it carries the context.

        ``seen``: the values already expanded in this search.  Each is expanded once:
        ``a = b; b = a`` repeated gives every name many bindings, and following each
        of them again on every path was exponential in the depth."""
        result = Resolution()
        if depth > MAX_RESOLUTION_DEPTH:
            return result
        seen = set() if seen is None else seen
        if isinstance(expr, cst.Lambda):
            result.targets.append(self.target(expr, "the lambda"))
        elif isinstance(expr, cst.Name):
            values = self.index.bindings(expr)
            for value in values:
                if value in seen:
                    continue
                seen.add(value)
                if isinstance(value, cst.FunctionDef):
                    result.extend(self._function(value))
                elif isinstance(value, cst.BaseExpression):
                    result.extend(self.callable(value, depth + 1, seen))
            if not values:
                default = self.parameter_default(expr)
                if default is not None and default not in seen:
                    seen.add(default)
                    result.extend(self.callable(default, depth + 1, seen))
                else:
                    result.extend(self._foreign_callable(expr, depth))
        elif isinstance(expr, cst.Attribute):
            copied = self.context_copy(expr.value) if expr.attr.value == "run" else None
            if copied is not None:
                result.carries_context = copied
                result.runs_next_argument = not copied
            else:
                method = self.method_of(expr)
                if method is not None:
                    result.extend(self._function(method))
                else:
                    foreign = self.foreign_method(expr) or property_result_method(self, expr)
                    if foreign is not None:
                        there, method = foreign
                        result.extend(there._function(method))
                    else:
                        result.extend(self._foreign_callable(expr, depth))
        elif isinstance(expr, cst.Call) and is_name_like(expr.func):
            qualified = self.index.qualified_names_any(expr.func)
            if qualified & self.knowledge.safe_wrappers:
                result.carries_context = True
                result.wrappers.append(expr)
                if expr.args:
                    inner = self.callable(expr.args[0].value, depth + 1, seen)
                    result.wrapped_targets.extend(inner.targets)
            elif qualified & PARTIAL_FACTORIES and expr.args:
                result.extend(self.callable(expr.args[0].value, depth + 1, seen))
                result.bound_arguments.extend(arg.value for arg in expr.args[1:])
            elif (
                isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get"
                and isinstance(expr.func.value, cst.Name) and expr.args
            ):  # ``HANDLERS.get(kind, fallback)``
                key = literal_key(expr.args[0].value)
                for item in self.container_items(expr.func.value, key):
                    result.extend(self.callable(item, depth + 1, seen))
                if len(expr.args) > 1:
                    result.extend(self.callable(expr.args[1].value, depth + 1, seen))
        elif isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name):
            index = expr.slice[0].slice if len(expr.slice) == 1 else None
            key = literal_key(index.value) if isinstance(index, cst.Index) else None
            for item in self.container_items(expr.value, key):  # ``HANDLERS[kind]``
                result.extend(self.callable(item, depth + 1, seen))
        elif isinstance(expr, cst.IfExp):
            result.extend(self.callable(expr.body, depth + 1, seen))
            result.extend(self.callable(expr.orelse, depth + 1, seen))
        return result

    def container_items(
        self, name: cst.Name, key: Union[str, int, None]
    ) -> List[cst.BaseExpression]:
        """The values of the dict/list/tuple literal ``name`` is bound to: the one under
        ``key`` when it is a literal found there, else all of them (SPEC section 3)."""
        items: List[cst.BaseExpression] = []
        for value in self.index.bindings(name):
            if isinstance(value, cst.Dict):
                pairs = [e for e in value.elements if isinstance(e, cst.DictElement)]
                chosen = [e.value for e in pairs if literal_key(e.key) == key]
                items.extend(chosen if key is not None and chosen else [e.value for e in pairs])
            elif isinstance(value, (cst.List, cst.Tuple)):
                elements = [e.value for e in value.elements if isinstance(e, cst.Element)]
                if isinstance(key, int) and -len(elements) <= key < len(elements):
                    items.append(elements[key])
                else:
                    items.extend(elements)
        return items

    def _references_to(self, identifier: str) -> List[cst.Name]:
        if self._names_by_identifier is None:
            found: Dict[str, List[cst.Name]] = {}
            for node in walk(self.index.module):
                if isinstance(node, cst.Name):
                    found.setdefault(node.value, []).append(node)
            self._names_by_identifier = found
        return self._names_by_identifier.get(identifier, [])

    def pushed_by_decorators(self, function: cst.FunctionDef) -> FrozenSet[Tier]:
        """Tiers a project decorator of ``function`` pushes around every call of it
        (``def with_app_context(fn)`` whose wrapper calls ``fn`` inside ``with
        app.app_context():``): its body runs with that context wherever it is called."""
        tiers: Set[Tier] = set()
        for decorator in function.decorators:
            expr = decorator.decorator
            factory = isinstance(expr, cst.Call)
            if isinstance(expr, cst.Call):  # ``@with_context(app)``: a decorator factory
                expr = expr.func
            definition: Optional[cst.CSTNode] = None
            if isinstance(expr, cst.Name):
                definition = next(
                    (v for v in self.index.bindings(expr) if isinstance(v, cst.FunctionDef)),
                    None,
                )
            if definition is None and is_name_like(expr):
                # Only a module that spells the push is parsed for it.
                symbol = self.foreign(expr, PUSH_WORDS)
                definition = symbol.node if symbol is not None else None
            if not isinstance(definition, cst.FunctionDef):
                continue
            decorators = [definition]
            if factory:  # the decorators it builds: its nested functions
                decorators = [
                    node for node in walk(definition.body) if isinstance(node, cst.FunctionDef)
                ]
            for built in decorators:
                cached = self._decorator_pushes.get(built)
                if cached is None:
                    cached = self._decorator_pushes[built] = pushed_around_parameter(built)
                tiers |= cached
        return frozenset(tiers)

    def _foreign_callable(self, expr: cst.BaseExpression, depth: int) -> Resolution:
        """An imported callable, resolved in the project module that defines it."""
        if not self.foreign_may_run(expr, classes=False):
            return Resolution()
        symbol = self.foreign(expr)
        if symbol is None:
            return Resolution()
        there = symbol.unit.resolver
        if isinstance(symbol.node, cst.FunctionDef):
            return there._function(symbol.node)
        if isinstance(symbol.node, cst.BaseExpression):
            return there.callable(symbol.node, depth + 1)
        return Resolution()

    def callable_function(self, function: cst.FunctionDef) -> List[Target]:
        """The target a call of ``function`` follows (none if it carries the context)."""
        return self._function(function).targets

    def _function(self, function: cst.FunctionDef) -> Resolution:
        target = self.target(function, self.label(function))
        decorator = self.context_wrapper(function)
        if decorator is not None:
            return Resolution(
                carries_context=True, wrappers=[decorator], wrapped_targets=[target]
            )
        return Resolution(targets=[target])

    def method_of(self, expr: cst.Attribute) -> Optional[cst.FunctionDef]:
        """``self.m`` / ``cls.m`` in a class, ``Class.m``, or ``obj.m`` where
        ``obj = Class(...)``, as the FunctionDef of this module that runs."""
        if expr.attr.value not in self.function_names:
            return None
        owner = self.class_of_receiver(expr.value)
        if owner is None:
            return None
        return self.find_method(owner, expr.attr.value)

    def foreign_method(
        self, expr: cst.Attribute
    ) -> Optional[Tuple["Resolver", cst.FunctionDef]]:
        """``order.total`` where ``order``'s class is imported from another module of
        the project (``order = Order(...)``, ``order: Order``, a query loop): the method
        (or property getter) there, with that module's resolver.  Only a module whose
        text defines a function of that name is parsed."""
        if self.unit is None:
            return None
        if isinstance(expr.value, cst.Attribute):
            return self._constructed_elsewhere(expr.value, expr.attr.value)
        if not isinstance(expr.value, cst.Name):
            return None
        named = self.imported_class_expression(expr.value)
        if named is None:
            # ``for report in scheduled_reports():`` with the function imported
            found = items_of_imported_function(self, expr.value)
            if found is None:
                return None
            there, cls = found
            method = there.find_method(cls, expr.attr.value)
            return (there, method) if method is not None else None
        if not self._imported_class_has(named, expr.attr.value):
            return None
        symbol = self.foreign(named, (f"def {expr.attr.value}",))
        if symbol is None or not isinstance(symbol.node, cst.ClassDef):
            return None
        there = symbol.unit.resolver
        method = there.find_method(symbol.node, expr.attr.value)
        return (there, method) if method is not None else None

    def _constructed_elsewhere(
        self, attribute: cst.Attribute, method: str
    ) -> Optional[Tuple["Resolver", cst.FunctionDef]]:
        """``self.store.add_watch`` where ``self.store = store`` in ``__init__``: the
        method of the class the project's constructions pass for ``store``, in this
        module or any other (``index/constructions.py``, on ``ast``)."""
        unit = self.unit
        if (
            unit is None or unit.project is None or unit.name is None
            or not isinstance(attribute.value, cst.Name)
        ):
            return None
        owner = self.class_of_instance_name(attribute.value)
        if owner is None:
            return None
        project = unit.project
        if not project.mentions_anywhere((f"def {method}(",)):
            return None  # no module defines it: nothing to find
        from ..index.constructions import constructed_classes

        for value in self.instance_attribute_values(owner, attribute.attr.value):
            binding = (
                self.index.parameter_binding(value) if isinstance(value, cst.Name) else None
            )
            if binding is None or binding[0].name.value != "__init__":
                continue
            if self.index.enclosing_class_of_function(binding[0]) is not owner:
                continue
            positional = [*binding[0].params.posonly_params, *binding[0].params.params]
            position = positional.index(binding[1]) - 1 if binding[1] in positional[1:] else None
            for absolute in constructed_classes(
                project, unit.name, owner.name.value, position, binding[1].name.value
            ):
                symbol = project.symbol(absolute, words=(f"def {method}(",))
                if symbol is not None and isinstance(symbol.node, cst.ClassDef):
                    there = symbol.unit.resolver
                    found = there.find_method(symbol.node, method)
                    if found is not None:
                        return there, found
        return None

    def _imported_class_has(self, named: cst.BaseExpression, method: str) -> bool:
        """Whether the imported project class may define ``method``, told from the
        ``ast`` export tables (no LibCST parse of its module when it does not)."""
        from ..index.exports import UNKNOWN, find

        assert self.unit is not None and self.unit.project is not None
        for absolute in self._imported_names(named):
            found = find(self.unit.project, f"{absolute}.{method}")
            if found is UNKNOWN or (found is not None and found.method):
                return True
        return False

    def class_of_receiver(self, expr: cst.BaseExpression) -> Optional[cst.ClassDef]:
        """The class of this module that ``expr`` is an instance of, or names."""
        if isinstance(expr, cst.Name):
            return (
                self.class_of_instance_name(expr)
                or self.local_class(expr)
                or first_class(self.receiver_kind(expr))
                or self.instance_class(expr)
            )
        if isinstance(expr, (cst.Attribute, cst.Call)):
            return first_class(self.receiver_kind(expr))
        return None

    def context_wrapper(self, function: cst.FunctionDef) -> Optional[cst.Decorator]:
        """The ``@copy_current_request_context`` (or configured safe wrapper) decorator."""
        for decorator in function.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if is_name_like(expr) and (
                self.index.qualified_names_any(expr) & self.knowledge.safe_wrappers
            ):
                return decorator
        return None

    def context_copy(
        self, expr: cst.BaseExpression, depth: int = 0, seen: Optional[Set[cst.CSTNode]] = None
    ) -> Optional[bool]:
        """Is ``expr`` a ``contextvars.copy_context()`` (or a name bound to one)?

        ``True``: copied while a function (the view) ran, so it carries the request;
        ``False``: copied at import time, so it carries no context; ``None``: not a copy.
        """
        if depth > MAX_RESOLUTION_DEPTH:
            return None
        if isinstance(expr, cst.Call):
            if is_name_like(expr.func) and (
                self.index.qualified_names_any(expr.func) & CONTEXT_COPIERS
            ):
                return self.index.enclosing(expr, (cst.FunctionDef,)) is not None
            return None
        if isinstance(expr, cst.Name):
            seen = set() if seen is None else seen  # each binding once (see ``callable``)
            for value in self.index.bindings(expr):
                if isinstance(value, cst.BaseExpression) and value not in seen:
                    seen.add(value)
                    found = self.context_copy(value, depth + 1, seen)
                    if found is not None:
                        return found
        return None

    def label(self, function: cst.FunctionDef) -> str:
        owner = self.index.enclosing_class_of_function(function)
        prefix = f"{owner.name.value}." if owner is not None else ""
        return f"{prefix}{function.name.value}()"


def literal_key(node: Optional[cst.BaseExpression]) -> Union[str, int, None]:
    """A string or integer literal's value (a container key), else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal_key(node.expression)
        return -inner if isinstance(inner, int) else None
    return None


#: Context-manager methods that push a real context (not a fake request's).
