"""The second gate's look into the *other* modules a checked file imports from the
project: may the imported name be a wrapper that dispatches its argument
(``def defer(fn): pool.submit(fn)``), or a generator a view streams?

Each module's answer is computed once from its ``ast`` (only the functions whose text
names a dispatch word are walked) and memoised by path, size and modification time.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Set, Tuple

from ..knowledge import Knowledge, knowledge_key
from .ast_walk import walk
from .candidates import (
    ImportSource, Vocabulary, is_generator, last_name, project_imports, star_sources,
    vocabulary_of,
)
from .imports import may_reexport
from .project import Project
from .sources import source_text, source_tree

#: What a search looks for in the defining module: its wrappers or its generators.
_WRAPPERS, _GENERATORS = "wrapper_functions", "generator_functions"


#: The binding of a module-level name that holds a bound dispatch method
#: (``run_later = pool.submit``): callers of it dispatch what they pass.
_BOUND = "bound-dispatch"


#: The binding of a class deriving from a thread-like base (``threading.Thread``...):
#: an instance started in another module runs its ``run`` there.
_THREAD_CLASS = "thread-class"


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
    #: module-level name), ``_BOUND`` (a bound dispatch method), or ``other`` (a class,
    #: any other value).
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
    key = ("may_be", knowledge_key(knowledge), kind, tuple(source.modules), source.name)
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
    if binding in (_BOUND, _THREAD_CLASS):  # ``run_later = pool.submit``, a Thread
        return kind == _WRAPPERS
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
    key = (str(path), len(text), hash(text), knowledge_key(knowledge))
    if key in _SITES:
        return _SITES[key]
    is_package = path.name == "__init__.py"
    tree = source_tree(path)
    if tree is None:
        sites = _ModuleSites(False, {}, (), {}, frozenset(), frozenset())  # unfollowable
    else:
        tops = project.top_level_names()
        vocabulary = vocabulary_of(knowledge)
        bindings, wrapper_functions = _module_functions(tree, vocabulary, text)
        sites = _ModuleSites(
            # Generous on purpose (a word, not a parsed site): it is asked only of a
            # name bound in a way the search does not follow, and walking the whole
            # module for it cost as much as everything else here.
            any(word in text for word in vocabulary.words),
            project_imports(tree, tops, module, is_package),
            star_sources(tree, tops, module, is_package),
            bindings,
            wrapper_functions,
            frozenset(
                statement.name
                for statement in _module_statements(tree)
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and is_generator(statement)
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
            threadlike = any(
                last_name(base) in vocabulary.thread_bases
                or bindings.get(last_name(base) or "") == _THREAD_CLASS
                for base in statement.bases
            )
            # ``Worker(store).start()`` in another module runs ``Worker.run``.
            bindings[statement.name] = _THREAD_CLASS if threadlike else "other"
            thread_class = thread_class or threadlike
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
                    if (
                        isinstance(value, ast.Call) and len(value.args) == 1
                        and not value.keywords and last_name(value.func) == "partial"
                    ):
                        value = value.args[0]  # ``run_soon = partial(pool.submit)``
                    if isinstance(value, ast.Attribute) and value.attr in vocabulary.methods:
                        bound_methods.add(target.id)  # ``run_later = pool.submit``
                        bindings[target.id] = _BOUND
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
            last = last_name(node.func)
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
