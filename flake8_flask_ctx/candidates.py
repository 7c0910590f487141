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
import os
import re
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Set, Tuple

from .ast_walk import children, statements, walk
from .knowledge import (
    RESPONSE_CLASS_ATTRIBUTE,
    RESPONSE_CLASSES,
    TASK_DECORATORS,
    THREAD_BASES,
    Knowledge,
)
from .project import Project, may_reexport, resolve_relative
from .sources import source_text

#: Names whose mere use makes a module a candidate (FCX400/FCX410 sites, stream wrappers).
_ALWAYS = frozenset({"copy_current_request_context", "stream_with_context", "copy_context"})


def _last(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _last(node.func)
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
            for name in dispatcher.qualified_names
        )
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
        #: Every word above: a text without any of them has no candidate site.
        self.words: FrozenSet[str] = (
            self.calls | self.methods | self.thread_bases | self.decorators | self.responses
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
    vocabulary = _vocabulary(knowledge)
    generator_functions = False
    #: ``from threading import Thread as Job``: what each alias stands for, and the
    #: names called / used as decorators or bases, checked against them at the end.
    aliases: Dict[str, str] = {}
    used: Set[str] = set()
    #: Calls of project functions (maybe wrappers that start their argument in a
    #: thread), judged once every function name of the module is known.
    pending: List[ast.Call] = []
    functions: Set[str] = set()
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
            last = _last(node.func)
            if last in vocabulary.calls or last in vocabulary.responses:
                return True
            if isinstance(node.func, ast.Attribute) and last in vocabulary.methods:
                return True
            if _root(node.func) in wrappers:
                pending.append(node)
            if isinstance(node.func, ast.Name):
                used.add(node.func.id)
        elif isinstance(node, ast.Assign) and isinstance(
            node.value, (ast.Name, ast.Attribute, ast.IfExp, ast.Lambda, ast.Call)
        ):
            if isinstance(node.value, ast.Attribute) and node.value.attr in vocabulary.methods:
                return True  # ``run_later = pool.submit``: a bound dispatch method
            # ``job = work if fast else other``: a name that may hold a function.
            functions.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name.rsplit(".", 1)[-1]
        elif isinstance(node, (ast.Name, ast.Attribute)):
            if _last(node) in _ALWAYS:
                return True
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.add(node.name)
            for decorator in node.decorator_list:
                last = _last(decorator)
                if last in vocabulary.decorators or _root(decorator) in wrappers:
                    return True
                used.add(last or "")
        elif isinstance(node, ast.ClassDef):
            if any(_last(base) in vocabulary.thread_bases for base in node.bases):
                return True
            used.update(_last(base) or "" for base in node.bases)
    wanted = (
        vocabulary.calls | vocabulary.responses | vocabulary.decorators
        | vocabulary.thread_bases
    )
    if any(aliases.get(name) in wanted for name in used):
        return True
    callables = functions | project_names
    if any(_passes_callable(call, callables) for call in pending):
        return True
    # A view returning a generator (``return gen(), 200``) streams it.  A local function
    # that dispatches its parameter is caught by its own dispatch call above.
    return generator_functions and _returns_from_routes(tree)


def _passes_callable(call: ast.Call, callables: Set[str]) -> bool:
    """An argument that can be a function: a lambda, a function of this module (also as
    ``self.method``), or a name imported from the project -- not any local variable."""
    for value in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(value, ast.Lambda):
            return True
        if isinstance(value, (ast.Name, ast.Attribute)) and (
            _last(value) in callables or _root(value) in callables
        ):
            return True
        if isinstance(value, ast.Call) and _last(value.func) == "partial":
            return True
    return False


def _holds_generator(value: Optional[ast.AST], generator_names: FrozenSet[str]) -> bool:
    """A generator expression, or a call of a project generator function."""
    if isinstance(value, ast.Tuple) and value.elts:
        value = value.elts[0]  # ``return gen, 200``
    if isinstance(value, ast.Call):
        return _root(value.func) in generator_names
    return isinstance(value, ast.GeneratorExp)


def _is_generator(function: ast.AST) -> bool:
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


def _star_sources(
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


#: Re-export hops the wrapper search follows (as the engine does: ``units.py``).
MAX_WRAPPER_HOPS = 8


class _ModuleSites(NamedTuple):
    """One project module as the wrapper search sees it."""

    #: It has a dispatch site of its own (so a function of it may be a wrapper).
    direct: bool
    #: Names it imports from other project modules (re-exports, followed).
    imports: Dict[str, ImportSource]
    #: Project modules it star-imports.
    stars: Tuple[str, ...]
    #: How each module-level name is bound: ``def``, ``=<name>`` (an alias of another
    #: module-level name), or ``other`` (a class, any other value).
    bindings: Dict[str, str]
    #: The module's functions that may hand a parameter to a thread: those whose body
    #: has a dispatch call, and those calling one of them (as ``ModuleUnit.wrappers``).
    wrapper_functions: FrozenSet[str]
    #: The module's generator functions (a view returning ``rows()`` streams them).
    generator_functions: FrozenSet[str]


_SITES: Dict[Tuple[str, int, int, int], Optional[_ModuleSites]] = {}


def may_be_wrapper(
    project: Project,
    knowledge: Knowledge,
    source: ImportSource,
    hops: int = 0,
    seen: Optional[Set[Tuple[str, str]]] = None,
) -> bool:
    """Whether the imported name can start a function it is given in another thread
    (a wrapper, or a decorator that does).  The engine recognises a project wrapper
    only in the module that defines it, when that module dispatches the parameter
    itself (``units.ModuleUnit.wrappers``), so the name is followed through re-exports
    to its defining module and must be a ``def`` there that dispatches.  Without this,
    every module calling a project function with a function argument (or decorated
    with ``@cache.memoize`` from ``extensions.py``) cost a LibCST parse for nothing.
    Unknown or unreadable: yes.  ``seen``: (module, name) pairs already followed, so
    star imports that import each other are walked once."""
    if hops or seen is not None:
        return _may_be(project, knowledge, source, _WRAPPERS, hops, seen)
    return _remembered(project, knowledge, source, _WRAPPERS)


def may_be_generator(project: Project, knowledge: Knowledge, source: ImportSource) -> bool:
    """Whether the imported name can be a generator function (found as for
    ``may_be_wrapper``): a view returning its call streams it (FCX300)."""
    return _remembered(project, knowledge, source, _GENERATORS)


def _remembered(project: Project, knowledge: Knowledge, source: ImportSource, kind: str) -> bool:
    """``_may_be``, once per imported name while the files it read are unchanged: every
    module importing ``from .utils import run_async`` asks the same question (FlaskBB
    asked 1,000 times for 60 names).  The answer is kept with the size and modification
    time of each file the search read, and recomputed when one of them changed."""
    global _CONSULTED
    key = ("may_be", id(knowledge), kind, tuple(source.modules), source.name)
    found = project.memo.get(key)
    if isinstance(found, tuple) and all(_stamp(path) == stamp for path, stamp in found[1]):
        return bool(found[0])
    outer, _CONSULTED = _CONSULTED, []
    try:
        answer = _may_be(project, knowledge, source, kind, 0, None)
        project.memo[key] = (answer, tuple((path, _stamp(path)) for path in set(_CONSULTED)))
    finally:
        _CONSULTED = outer
    return answer


#: The files the running ``_remembered`` search has read (None: no search is running).
_CONSULTED: Optional[List[Path]] = None


def _stamp(path: Path) -> Tuple[int, int]:
    try:
        stat = os.stat(path)
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


def _consulted(path: Path) -> None:
    if _CONSULTED is not None:
        _CONSULTED.append(path)


#: What a search looks for in the defining module: its wrappers or its generators.
_WRAPPERS, _GENERATORS = "wrapper_functions", "generator_functions"
_GENERATOR_WORDS = ("yield",)


def _may_be(
    project: Project,
    knowledge: Knowledge,
    source: ImportSource,
    kind: str,
    hops: int,
    seen: Optional[Set[Tuple[str, str]]],
) -> bool:
    if not source.modules:
        return True
    if source.name is None:  # ``import shop.jobs``: any module on the path
        return any(_module_has(project, knowledge, module, kind) for module in source.modules)
    seen = set() if seen is None else seen
    return _defines(project, knowledge, source.modules[0], source.name, kind, hops, seen)


def _defines(
    project: Project,
    knowledge: Knowledge,
    module: str,
    name: str,
    kind: str,
    hops: int,
    seen: Set[Tuple[str, str]],
) -> bool:
    if hops > MAX_WRAPPER_HOPS:
        return True
    if (module, name) in seen:
        return False  # already followed from here: a cycle adds nothing
    seen.add((module, name))
    submodule = f"{module}.{name}"
    if project.file_of(submodule) is not None:  # ``from shop import jobs``
        return _module_has(project, knowledge, submodule, kind)
    if _cannot_hold(project, knowledge, module, kind, name):
        return False
    sites = _module_sites(project, knowledge, module)
    if sites is None:
        return project.file_of(module) is not None  # unreadable: assume; missing: no
    source = sites.imports.get(name)
    if source is not None:
        return _may_be(project, knowledge, source, kind, hops + 1, seen)
    binding = sites.bindings.get(name)
    if binding == "def":
        found: FrozenSet[str] = getattr(sites, kind)
        return name in found
    if binding is not None and binding.startswith("="):  # ``run = _run``
        return _defines(project, knowledge, module, binding[1:], kind, hops + 1, seen)
    if binding is not None:
        return False  # a class or another value: the engine takes only a ``def``
    if any(
        _defines(project, knowledge, star, name, kind, hops + 1, seen) for star in sites.stars
    ):
        return True
    return sites.direct and not sites.stars  # bound some other way: assume the module


def _module_has(project: Project, knowledge: Knowledge, module: str, kind: str) -> bool:
    """A module used as a name (``from shop import jobs``; ``jobs.defer(work)``): only
    if one of its functions is what the search looks for."""
    if project.file_of(module) is None or _cannot_hold(project, knowledge, module, kind):
        return False
    sites = _module_sites(project, knowledge, module)
    return sites is None or bool(getattr(sites, kind))


def _cannot_hold(
    project: Project, knowledge: Knowledge, module: str, kind: str, name: Optional[str] = None
) -> bool:
    """The text test before parsing a module with ``ast``: a module with no word of a
    dispatch call (for a wrapper) or no ``yield`` (for a generator) cannot define one,
    and one whose imports cannot bind ``name`` cannot re-export it.  Parsing every
    imported module was most of the gate's cost (FlaskBB: 60 modules per process)."""
    located = project.file_of(module)
    text = source_text(located[0]) if located is not None else None
    if text is None or located is None:
        return False  # unreadable: the parse decides (and assumes)
    _consulted(located[0])
    words = knowledge.wrapper_words if kind == _WRAPPERS else _GENERATOR_WORDS
    if any(word in text for word in words):
        return False
    return not (name is not None and may_reexport(text, name)) and "import *" not in text


def _module_sites(
    project: Project, knowledge: Knowledge, module: str
) -> Optional[_ModuleSites]:
    """``None``: not a project module, or unreadable."""
    located = project.file_of(module)
    if located is None:
        return None
    path = located[0]
    text = source_text(path)
    if text is None:
        return None
    _consulted(path)
    key = (str(path), len(text), hash(text), id(knowledge))
    if key in _SITES:
        return _SITES[key]
    is_package = path.name == "__init__.py"
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        sites = _ModuleSites(False, {}, (), {}, frozenset(), frozenset())  # unfollowable
    else:
        tops = project.top_level_names()
        vocabulary = _vocabulary(knowledge)
        bindings, wrapper_functions = _module_functions(tree, vocabulary, text)
        sites = _ModuleSites(
            # Generous on purpose (a word, not a parsed site): it is asked only of a
            # name bound in a way the search does not follow, and walking the whole
            # module for it cost as much as everything else here.
            any(word in text for word in vocabulary.words),
            project_imports(tree, tops, module, is_package),
            _star_sources(tree, tops, module, is_package),
            bindings,
            wrapper_functions,
            frozenset(
                statement.name
                for statement in _module_statements(tree)
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and _is_generator(statement)
            ) if "yield" in text else frozenset(),
        )
    if len(_SITES) > 4096:
        _SITES.clear()
    _SITES[key] = sites
    return sites


def _module_statements(tree: ast.Module) -> List[ast.stmt]:
    """Module-level statements, including those in module-level ``if``/``try`` blocks
    (``try: from .fast import run except ImportError: def run(...)``)."""
    found: List[ast.stmt] = []
    pending: List[ast.stmt] = list(tree.body)
    while pending:
        statement = pending.pop(0)
        found.append(statement)
        if isinstance(statement, ast.If):
            pending[0:0] = [*statement.body, *statement.orelse]
        elif isinstance(statement, ast.Try):
            blocks = [*statement.body, *statement.orelse, *statement.finalbody]
            for handler in statement.handlers:
                blocks += handler.body
            pending[0:0] = blocks
    return found


def _module_functions(
    tree: ast.Module, vocabulary: "Vocabulary", text: str = ""
) -> Tuple[Dict[str, str], FrozenSet[str]]:
    """How module-level names are bound, and which functions may dispatch a parameter
    (see ``_ModuleSites``).  A module with a thread subclass: every function may.
    ``text``: the module's source; a function whose lines name no dispatch call and no
    function of the module is not walked."""
    bindings: Dict[str, str] = {}
    bodies: Dict[str, ast.AST] = {}
    bound_methods: Set[str] = set()
    dispatch_aliases: Set[str] = set()
    thread_class = False
    for statement in _module_statements(tree):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bindings[statement.name] = "def"
            bodies[statement.name] = statement
        elif isinstance(statement, ast.ClassDef):
            bindings[statement.name] = "other"
            thread_class = thread_class or any(
                _last(base) in vocabulary.thread_bases for base in statement.bases
            )
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value = statement.value
            for target in targets:
                if not isinstance(target, ast.Name):
                    continue
                if isinstance(value, ast.Name):
                    bindings[target.id] = f"={value.id}"
                else:
                    bindings[target.id] = "other"
                    if isinstance(value, ast.Attribute) and value.attr in vocabulary.methods:
                        bound_methods.add(target.id)  # ``run_later = pool.submit``
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                if alias.asname and alias.name.rsplit(".", 1)[-1] in vocabulary.calls:
                    dispatch_aliases.add(alias.asname)  # ``Thread as Job``
    if thread_class:
        return bindings, frozenset(bodies)
    dispatching: Set[str] = set()
    callers: Dict[str, Set[str]] = {}
    words = (
        vocabulary.calls | vocabulary.methods | bound_methods | dispatch_aliases
        | frozenset(bodies)
    )
    lines = text.splitlines() if text else []
    for name, body in bodies.items():
        if lines and not _names_any(_segment(lines, body), words):
            continue  # its text names nothing the walk below looks for
        for node in walk(body):
            if not isinstance(node, ast.Call):
                continue
            last = _last(node.func)
            if (
                last in vocabulary.calls
                or (isinstance(node.func, ast.Attribute) and last in vocabulary.methods)
                or (isinstance(node.func, ast.Name) and node.func.id in bound_methods)
                or (isinstance(node.func, ast.Name) and node.func.id in dispatch_aliases)
            ):
                dispatching.add(name)
            elif isinstance(node.func, ast.Name) and node.func.id in bodies:
                callers.setdefault(node.func.id, set()).add(name)
    pending = list(dispatching)
    while pending:  # wrappers of wrappers, within the module
        for caller in callers.get(pending.pop(), ()):
            if caller not in dispatching:
                dispatching.add(caller)
                pending.append(caller)
    return bindings, frozenset(dispatching)


_WORD = re.compile(r"\w+")


def _segment(lines: List[str], node: ast.AST) -> str:
    """The source lines of a statement (decorators included)."""
    first = min(
        [getattr(node, "lineno", 1)]
        + [d.lineno for d in getattr(node, "decorator_list", ())]
    )
    last = getattr(node, "end_lineno", None) or len(lines)
    return "\n".join(lines[first - 1:last])


def _names_any(segment: str, words: FrozenSet[str]) -> bool:
    return not words.isdisjoint(_WORD.findall(segment))


def _vocabulary(knowledge: Knowledge) -> "Vocabulary":
    vocabulary = _VOCABULARIES.get(id(knowledge))
    if vocabulary is None:
        vocabulary = _VOCABULARIES[id(knowledge)] = Vocabulary(knowledge)
    return vocabulary
