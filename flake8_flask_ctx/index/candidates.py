"""Second gate, on Python's own ``ast``: does the module contain a place a finding could
be reported at?

The text prefilter (``prefilter.py``) lets through every Flask module that merely
contains a word like ``map``, ``task`` or ``yield``.  Parsing such a module with LibCST
costs several times what flake8 spends on it, while flake8 has already parsed it with
``ast`` (an order of magnitude faster), so this walk over the ``ast`` tree rejects the
modules with no dispatch site, task decorator, thread subclass, streamed generator or
``copy_current_request_context`` in them.  It is deliberately generous (names are
matched by their last part, receivers are not resolved): it only has to be sound.
"""

from __future__ import annotations

import ast
from typing import Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Set, Tuple

from .ast_walk import children, statements, walk
from ..knowledge import Knowledge, knowledge_key
from ..knowledge.contexts import (
    RESPONSE_CLASS_ATTRIBUTE, RESPONSE_CLASSES, RESPONSE_FACTORIES, VIEW_CLASSES,
    VIEW_REGISTRATION_METHOD,
)
from ..knowledge.dispatchers import TASK_DECORATORS, THREAD_BASES
from .imports import resolve_relative

#: Names whose mere use makes a module a candidate (FCX400/FCX410 sites, stream wrappers).
_ALWAYS = frozenset({"copy_current_request_context", "stream_with_context", "copy_context"})


def last_name(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return last_name(node.func)
    return None


def _root(node: ast.AST) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return node.id if isinstance(node, ast.Name) else None


class Vocabulary:
    """The last-name sets the walk matches, built once per ``Knowledge``."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.calls: FrozenSet[str] = frozenset(
            name.rsplit(".", 1)[-1]
            for dispatcher in knowledge.call_dispatchers
            if not dispatcher.optional and not dispatcher.by_module
            for name in dispatcher.qualified_names
        )
        #: Calls known by their module's name (``atexit.register``, or ``register``
        #: imported from ``atexit``): last name -> the modules.
        self.module_calls: Dict[str, FrozenSet[str]] = {}
        for dispatcher in knowledge.call_dispatchers:
            for name in dispatcher.qualified_names if dispatcher.by_module else ():
                module, _, last = name.rpartition(".")
                self.module_calls[last] = self.module_calls.get(last, frozenset()) | {module}
        #: Calls that dispatch only when given their callable: last name -> (position,
        #: keyword) of it (``ThreadPoolExecutor(initializer=...)``).
        self.optional_calls: Dict[str, Tuple[Optional[int], str]] = {
            name.rsplit(".", 1)[-1]: (dispatcher.position, dispatcher.keyword)
            for dispatcher in knowledge.call_dispatchers if dispatcher.optional
            for name in dispatcher.qualified_names
        }
        self.methods: FrozenSet[str] = frozenset(m.method for m in knowledge.method_dispatchers)
        self.thread_bases: FrozenSet[str] = frozenset(
            name.rsplit(".", 1)[-1] for base in THREAD_BASES for name in base.qualified_names
        ) | {"Task"}
        self.decorators: FrozenSet[str] = frozenset(
            {t.method for t in TASK_DECORATORS if t.method}
            | {n.rsplit(".", 1)[-1] for t in TASK_DECORATORS for n in t.qualified_names}
        )
        self.responses: FrozenSet[str] = frozenset(
            {n.rsplit(".", 1)[-1] for n in RESPONSE_CLASSES} | {RESPONSE_CLASS_ATTRIBUTE}
        ) | _ALWAYS
        #: Ways a generator of the module can become a response without a route
        #: decorator or a ``Response`` call: ``make_response(gen())``, ``add_url_rule``,
        #: a class-based view.  Candidates only when the module has a generator.
        self.stream_words: FrozenSet[str] = frozenset(
            {n.rsplit(".", 1)[-1] for n in RESPONSE_FACTORIES}
            | {VIEW_REGISTRATION_METHOD}
            | {n.rsplit(".", 1)[-1] for n in VIEW_CLASSES}
        )
        #: Every word above: a text without any of them has no candidate site.
        self.words: FrozenSet[str] = (
            self.calls | self.methods | self.thread_bases | self.decorators | self.responses
            | frozenset(self.optional_calls) | self.stream_words
            | frozenset(module for found in self.module_calls.values() for module in found)
        )


_VOCABULARIES: Dict[int, Vocabulary] = {}


def has_candidates(
    tree: ast.AST,
    knowledge: Knowledge,
    project_names: FrozenSet[str] = frozenset(),
    wrapper_names: Optional[FrozenSet[str]] = None,
    generator_names: FrozenSet[str] = frozenset(),
) -> bool:
    """Whether ``tree`` has anything the engine reports at.

    ``project_names``: local names bound by imports of the project's own modules (each
    may be a function passed along).  ``wrapper_names`` (default: all of them): those
    that may be wrappers -- a call of one with a callable argument may hand it to a
    thread there, and a decorator named by one may start the function in a thread.
    ``generator_names``: those that may be generator functions (a view returning
    ``rows()`` streams one).
    """
    wrappers = project_names if wrapper_names is None else wrapper_names
    vocabulary = vocabulary_of(knowledge)
    generator_functions = False
    #: ``from threading import Thread as Job``: what each alias stands for, and the
    #: names called / used as decorators or bases, checked against them at the end.
    aliases: Dict[str, str] = {}
    #: ``from atexit import register``: the module each imported name comes from.
    imported_from: Dict[str, str] = {}
    used: Set[str] = set()
    #: Calls of project functions (maybe wrappers that start their argument in a
    #: thread), judged once every function name of the module is known.
    pending: List[ast.Call] = []
    functions: Set[str] = set()
    #: ``make_response``, ``add_url_rule`` or a class-based view seen.
    streams = False
    #: Something is ``.start()``-ed (a project Thread subclass, maybe).
    starts = False
    for node in walk(tree):
        if isinstance(node, (ast.Return, ast.Assign, ast.AnnAssign)) and _holds_generator(
            node.value, generator_names
        ):
            # ``return (row for row in rows)``, ``body = rows()``: a body that may be
            # streamed; a generator expression consumed on the spot (``", ".join(...)``)
            # is not (``Response(gen_exp)`` is caught as a response call below).
            generator_functions = True
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            # Some function of the module is a generator (found in the walk itself:
            # asking each ``def`` walked every function body a second time).
            generator_functions = True
        elif isinstance(node, ast.Call):
            last = last_name(node.func)
            if last in vocabulary.calls or last in vocabulary.responses:
                return True
            modules = vocabulary.module_calls.get(aliases.get(last or "", last or ""))
            if modules and (
                _root(node.func) in modules
                or (isinstance(node.func, ast.Name) and imported_from.get(last or "") in modules)
            ):
                return True  # ``atexit.register(flush)``, ``from atexit import register``
            optional = vocabulary.optional_calls.get(last or "")
            if optional is not None and (
                any(k.arg == optional[1] for k in node.keywords)
                or (optional[0] is not None and len(node.args) > optional[0])
            ):
                return True  # ``ThreadPoolExecutor(initializer=setup)``
            streams = streams or last in vocabulary.stream_words
            if isinstance(node.func, ast.Attribute) and last in vocabulary.methods:
                return True
            if _root(node.func) in wrappers:
                pending.append(node)
            if last == "start" and isinstance(node.func, ast.Attribute):
                starts = True  # ``Worker(store).start()``, ``job.start()``
            if isinstance(node.func, ast.Name):
                used.add(node.func.id)
        elif isinstance(node, ast.Assign) and isinstance(
            node.value, (ast.Name, ast.Attribute, ast.IfExp, ast.Lambda, ast.Call)
        ):
            bound: ast.expr = node.value
            if isinstance(bound, ast.Call) and last_name(bound.func) == "partial" and bound.args:
                bound = bound.args[0]  # ``run_later = partial(pool.submit)``
            if isinstance(bound, ast.Attribute) and bound.attr in vocabulary.methods:
                return True  # ``run_later = pool.submit``: a bound dispatch method
            # ``job = work if fast else other``: a name that may hold a function.
            functions.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name.rsplit(".", 1)[-1]
                if isinstance(node, ast.ImportFrom) and node.module:
                    imported_from[alias.asname or alias.name] = node.module
        elif isinstance(node, (ast.Name, ast.Attribute)):
            if last_name(node) in _ALWAYS:
                return True
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.add(node.name)
            for decorator in node.decorator_list:
                last = last_name(decorator)
                if last in vocabulary.decorators or _root(decorator) in wrappers:
                    return True
                used.add(last or "")
        elif isinstance(node, ast.ClassDef):
            if any(last_name(base) in vocabulary.thread_bases for base in node.bases):
                return True
            streams = streams or any(
                last_name(base) in vocabulary.stream_words for base in node.bases
            )
            used.update(last_name(base) or "" for base in node.bases)
    wanted = (
        vocabulary.calls | vocabulary.responses | vocabulary.decorators
        | vocabulary.thread_bases
    )
    if any(aliases.get(name) in wanted for name in used):
        return True
    callables = functions | project_names
    if any(_passes_callable(call, callables) for call in pending):
        return True
    if starts and pending:
        return True  # a project class that may be a Thread, and something is started
    # A view returning a generator (``return gen(), 200``) streams it.  A local function
    # that dispatches its parameter is caught by its own dispatch call above.
    return generator_functions and (streams or _returns_from_routes(tree))


def _passes_callable(call: ast.Call, callables: Set[str]) -> bool:
    """An argument that can be a function: a lambda, a function of this module (also as
    ``self.method``), or a name imported from the project -- not any local variable."""
    for value in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(value, ast.Lambda):
            return True
        if isinstance(value, (ast.Name, ast.Attribute)) and (
            last_name(value) in callables or _root(value) in callables
        ):
            return True
        if isinstance(value, ast.Call) and last_name(value.func) == "partial":
            return True
    return False


def _holds_generator(value: Optional[ast.AST], generator_names: FrozenSet[str]) -> bool:
    """A generator expression, or a call of a project generator function."""
    if isinstance(value, ast.Tuple) and value.elts:
        value = value.elts[0]  # ``return gen, 200``
    if isinstance(value, ast.Call):
        return _root(value.func) in generator_names
    return isinstance(value, ast.GeneratorExp)


def is_generator(function: ast.AST) -> bool:
    stack = list(children(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(children(node))
    return False


def _returns_from_routes(tree: ast.AST) -> bool:
    """Any decorated function with a ``return`` (a view, as far as a cheap test goes)."""
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.decorator_list:
            if any(isinstance(n, ast.Return) and n.value is not None for n in walk(node)):
                return True
    return False


def project_import_names(tree: ast.AST, top_level_names: Iterable[str]) -> FrozenSet[str]:
    """Local names bound by imports of the project's own modules (relative imports, or
    absolute ones of a top-level name under the project roots)."""
    return frozenset(project_imports(tree, top_level_names, None, False))


class ImportSource(NamedTuple):
    """Where an imported local name comes from: ``from shop.jobs import defer`` is
    (``("shop.jobs",)``, ``"defer"``); ``import shop.jobs`` (binding ``shop``) is
    (``("shop.jobs", "shop")``, ``None``).  No modules: a relative import that cannot be
    placed."""

    modules: Tuple[str, ...]
    name: Optional[str]


def project_imports(
    tree: ast.AST, top_level_names: Iterable[str], module: Optional[str], is_package: bool
) -> Dict[str, ImportSource]:
    """Local names bound by imports of the project's own modules, with their source
    (``module``/``is_package``: the importing module, to place relative imports)."""
    tops = frozenset(top_level_names)
    bound: Dict[str, ImportSource] = {}
    for node in statements(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = resolve_relative(module, is_package, node.level, node.module or "")
            elif (node.module or "").split(".")[0] in tops:
                base = node.module
            else:
                continue
            for alias in node.names:
                if alias.name != "*":
                    modules: Tuple[str, ...] = (base,) if base else ()
                    bound[alias.asname or alias.name] = ImportSource(modules, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in tops:
                    modules = (alias.name,) if alias.asname else (alias.name, top)
                    bound[alias.asname or top] = ImportSource(modules, None)
    return bound


def star_sources(
    tree: ast.AST, top_level_names: Iterable[str], module: str, is_package: bool
) -> Tuple[str, ...]:
    """Project modules ``from ... import *``-ed at the top of a module."""
    tops = frozenset(top_level_names)
    found: List[str] = []
    for node in getattr(tree, "body", ()):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            if node.level:
                base = resolve_relative(module, is_package, node.level, node.module or "")
            else:
                base = node.module if (node.module or "").split(".")[0] in tops else None
            if base:
                found.append(base)
    return tuple(found)


def vocabulary_of(knowledge: Knowledge) -> "Vocabulary":
    key = knowledge_key(knowledge)
    vocabulary = _VOCABULARIES.get(key)
    if vocabulary is None:
        vocabulary = _VOCABULARIES[key] = Vocabulary(knowledge)
    return vocabulary
