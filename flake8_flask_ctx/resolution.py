"""What an expression *is*: the functions a callable expression can run, the class an
instance belongs to, the executor a receiver was built from.

Both the dispatch finder and the reach walk ask these questions, so they live here,
bound to one module's ``ModuleIndex``.  Resolution is deliberately shallow and
syntactic (names, ``self.``/``cls.``/``Class.``, ``x = Local()``, ``functools.partial``,
conditional expressions): no type inference, so what it cannot tell stays unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union,
)

import libcst as cst

from .knowledge import (
    CONTEXT_COPIERS,
    EXTENSION_ATTRIBUTES,
    EXTENSION_FACTORY_WORDS,
    EXTENSION_WORDS,
    LOCAL_PROXY_WORDS,
    RECEIVER_WORDS,
    EXTENSION_MODEL_BASES,
    EXTENSION_OBJECTS,
    LOCAL_PROXY_CLASSES,
    PARTIAL_FACTORIES,
    RECEIVER_FACTORIES,
    RECEIVER_TYPES,
    RECEIVERS_BY_KEY,
    THREAD_BASES,
    Knowledge,
    ReceiverType,
    ThreadBase,
    Tier,
    canonical_name,
)
from .names import ModuleIndex, dotted_name, project_import_identifiers, root_name, walk

if TYPE_CHECKING:  # pragma: no cover
    from .units import ModuleUnit, Symbol

#: Code that can run later: a function, a lambda, or a generator expression's body.
CallableNode = Union[cst.FunctionDef, cst.Lambda, cst.GeneratorExp]
#: How many name-to-value hops resolution follows (``a = b``; ``b = partial(c)``...).
MAX_RESOLUTION_DEPTH = 8


@dataclass(frozen=True)
class Target:
    """A function or lambda that some code can end up calling."""

    node: CallableNode
    label: str
    #: The module the node belongs to (another module of the project, for reach
    #: that crossed an import); ``None``: the module that created the target.
    home: Optional["ModuleUnit"] = field(default=None, compare=False, hash=False)


@dataclass
class Resolution:
    """What a callable expression can be: functions to follow, or context-carrying."""

    targets: List[Target] = field(default_factory=list)
    carries_context: bool = False
    #: ``ctx.run`` of a context copied at import time: the callable that really
    #: runs is the argument after it (``submit(ctx.run, fn)``).
    runs_next_argument: bool = False
    #: ``copy_current_request_context`` applications on the way (the Call, or the
    #: Decorator node), and the functions they wrap (FCX400/FCX410).
    wrappers: List[cst.CSTNode] = field(default_factory=list)
    wrapped_targets: List[Target] = field(default_factory=list)
    #: Arguments bound by ``functools.partial``: they travel with the callable.
    bound_arguments: List[cst.BaseExpression] = field(default_factory=list)

    def extend(self, other: "Resolution") -> None:
        self.targets.extend(other.targets)
        self.carries_context = self.carries_context or other.carries_context
        self.runs_next_argument = self.runs_next_argument or other.runs_next_argument
        self.wrappers.extend(other.wrappers)
        self.wrapped_targets.extend(other.wrapped_targets)
        self.bound_arguments.extend(other.bound_arguments)


#: What a receiver expression was built from: a known executor type, a class of this
#: module, or unknown (``None``).
ReceiverKind = Union[ReceiverType, cst.ClassDef, None]


#: An extension context-local found by ``Resolver.extension_local``: the name shown in
#: messages, its tier, and whether it is a proxy object (``if proxy:`` is a guard).
ExtensionLocal = Tuple[str, Tier, bool]


class Resolver:
    def __init__(
        self, index: ModuleIndex, knowledge: Knowledge, unit: Optional["ModuleUnit"] = None
    ) -> None:
        self.index = index
        self.knowledge = knowledge
        self.unit = unit
        self.function_names = {f.name.value for f in index.functions}
        self._class_names = {c.name.value for c in index.classes}
        self._alias_names: Optional[Set[str]] = None
        self._project_names: Optional[Set[str]] = None
        self._extension_names: Optional[Set[str]] = None
        self._extension_values: Dict[int, Optional[ExtensionLocal]] = {}
        self._wrapper_words: Optional[FrozenSet[str]] = None
        self._instance_attributes: Dict[cst.ClassDef, Dict[str, List[cst.BaseExpression]]] = {}

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
            found = self.unit.project.symbol(absolute, words=words)
            if found is not None and (found.node is not None or found.external):
                return found
        return None

    def foreign_external(
        self, expr: cst.BaseExpression, words: Optional[Tuple[str, ...]] = None
    ) -> Optional[str]:
        """``foreign_symbol(expr, words).external``, found on the ``ast`` export tables
        of the modules on the way (``exports.py``), without parsing any with LibCST."""
        from .exports import MODULE, PROJECT, external_name

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
        from .exports import may_run_code

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
        elif isinstance(expr, cst.IfExp):
            result.extend(self.callable(expr.body, depth + 1, seen))
            result.extend(self.callable(expr.orelse, depth + 1, seen))
        return result

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

    def class_of_receiver(self, expr: cst.BaseExpression) -> Optional[cst.ClassDef]:
        """The class of this module that ``expr`` is an instance of, or names."""
        if isinstance(expr, cst.Name):
            return (
                self.class_of_instance_name(expr)
                or self.local_class(expr)
                or _first_class(self.receiver_kind(expr))
            )
        if isinstance(expr, (cst.Attribute, cst.Call)):
            return _first_class(self.receiver_kind(expr))
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
                    return self, value
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
        """A ``werkzeug.local.LocalProxy(...)`` of the project: its tier is the first
        tier the wrapped callable reads (request tier when that cannot be told)."""
        value = self.resolved_value(name, words=LOCAL_PROXY_WORDS)
        if value is None or not isinstance(value[1], cst.Call):
            return None
        there, call = value[0], value[1]
        if not (there._factory_names(call) & LOCAL_PROXY_CLASSES):
            return None
        key = id(call)
        if key in there._extension_values:
            return there._extension_values[key]
        there._extension_values[key] = (name.value, Tier.REQUEST, True)  # cycles: default
        tier = Tier.REQUEST
        if call.args and there.unit is not None:
            wrapped = there.callable(call.args[0].value).targets
            found = there.unit.reach.first_reads(wrapped) if wrapped else {}
            if Tier.REQUEST not in found and Tier.APP in found:
                tier = Tier.APP
        result = (name.value, tier, True)
        there._extension_values[key] = result
        return result

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
            values = self.index.bindings(expr)
            if not values:
                symbol = self.foreign(expr, RECEIVER_WORDS)
                if symbol is not None and isinstance(symbol.node, cst.BaseExpression):
                    found = symbol.unit.resolver.receiver_kind(symbol.node, depth + 1)
                    # A class of that module is not one of ours: only executor types.
                    return found if isinstance(found, ReceiverType) else None
        elif isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = self.class_of_instance_name(expr.value)
            if owner is not None:
                values = self.instance_attribute_values(owner, expr.attr.value)
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
        if found is None and isinstance(call.func, cst.Attribute):
            # ``ctx.Pool(2)`` where ``ctx = multiprocessing.get_context(...)``
            # (depth carried on: ``pool = pool.submit()`` must not loop forever)
            factory = self.receiver_kind(call.func.value, depth + 1, seen)
            if isinstance(factory, ReceiverType):
                key = RECEIVER_FACTORIES.get((factory.key, call.func.attr.value))
                found = RECEIVERS_BY_KEY.get(key) if key else None
        return found

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
        for base in cls.bases:
            local = self.local_class(base.value)
            if local is not None:
                found = self.find_method(local, name, seen)
                if found is not None:
                    return found
        return None


def receiver_type(qualified: Set[str]) -> Optional[ReceiverType]:
    for receiver in RECEIVER_TYPES:
        if qualified & receiver.qualified_names:
            return receiver
    return None


def is_name_like(expr: cst.CSTNode) -> bool:
    return isinstance(expr, (cst.Name, cst.Attribute))


def _first_class(kind: ReceiverKind) -> Optional[cst.ClassDef]:
    return kind if isinstance(kind, cst.ClassDef) else None
