"""What a project module's top-level names are, read from Python's ``ast``: a local
definition, or an import of some other (absolute) name.

Why: every name a reached body takes from another project module is asked "is this a
Flask context-local the project re-exports?" (``from .compat import request``).  Asked
of LibCST units, the question parsed nearly every module of a Flask application (their
text all mentions ``flask``) -- most of what one file cost in an editor on indico.  The
answer only needs the chain of imports, which this table gives for the price of an
``ast`` parse of each module on the chain.  It follows ``units.ModuleUnit.lookup`` rule
for rule, so it answers exactly what the units would (``tests/test_gates.py`` compares
them), and it is only ever used to ask whether a name leaves the project.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import (
    TYPE_CHECKING, Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Set, Tuple, Union,
)

from .ast_walk import dotted_name
from .imports import MAX_REEXPORT_HOPS, may_reexport, resolve_relative
from .sources import source_text, source_tree

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project, Words

#: As ``units.MAX_FOLLOWED_BYTES`` (not imported: that module loads LibCST).
MAX_FOLLOWED_BYTES = 1_000_000


class Imported(NamedTuple):
    """A top-level name bound by an import: the absolute dotted name it stands for
    (None: a relative import climbing above the top package)."""

    target: Optional[str]


class Alias(NamedTuple):
    """``send = _send``: another top-level name of the module."""

    name: str


class Class(NamedTuple):
    """A top-level ``class``: its own method names and the names of its bases (a
    method is also looked up in a base class of the same module).  ``dotted_bases``:
    every base spelled as a name or a dotted name (``threading.Thread``)."""

    methods: FrozenSet[str]
    bases: Tuple[str, ...]
    dotted_bases: Tuple[str, ...] = ()


class Value(NamedTuple):
    """Any other top-level binding.  ``call``: for ``name = f(...)``, the last part of
    ``f`` (``partial``); for a lambda, an attribute or a conditional expression ``*``
    (what ``Resolver.callable`` can follow); else None (a value no call runs)."""

    call: Optional[str]


#: A top-level name: bound by an import, an alias, a class, a value, or a ``def``
#: (``None``).
Binding = Union[Imported, Alias, Class, Value, None]


class ModuleExports(NamedTuple):
    bindings: Dict[str, Binding]
    #: Absolute names of the modules it star-imports at module level.
    stars: Tuple[str, ...]


#: The answers besides a library's qualified name and None (not found): a definition
#: of the project, or a module of it.
PROJECT, MODULE = "", "."


_EXPORTS: Dict[Tuple[str, int, int], Optional[ModuleExports]] = {}


def exports_of(path: Path, module: str) -> Optional[ModuleExports]:
    """The module's table, once per text; None: unreadable or not parsable."""
    text = source_text(path)
    try:
        too_big = path.stat().st_size > MAX_FOLLOWED_BYTES
    except OSError:
        return None
    if text is None or too_big:
        return None  # as ``units._load``: not followed
    key = (f"{path}:{module}", len(text), hash(text))
    if key in _EXPORTS:
        return _EXPORTS[key]
    tree = source_tree(path)
    found = None if tree is None else _read(tree, module, path.name == "__init__.py")
    if len(_EXPORTS) > 4096:
        _EXPORTS.clear()
    _EXPORTS[key] = found
    return found


def _read(tree: ast.Module, module: str, is_package: bool) -> ModuleExports:
    bindings: Dict[str, Binding] = {}
    stars: List[str] = []
    pending: List[ast.stmt] = list(tree.body)
    while pending:  # as ``ModuleUnit.top_level``: module-level if/try blocks too
        statement = pending.pop(0)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bindings[statement.name] = None
        elif isinstance(statement, ast.ClassDef):
            bindings[statement.name] = Class(
                frozenset(
                    s.name for s in statement.body if isinstance(s, ast.FunctionDef)
                ),
                tuple(b.id for b in statement.bases if isinstance(b, ast.Name)),
                tuple(filter(None, map(dotted_name, statement.bases))),
            )
        elif isinstance(statement, ast.If):
            pending[0:0] = [*statement.body, *statement.orelse]
        elif isinstance(statement, ast.Try):
            handlers = [s for h in statement.handlers for s in h.body]
            pending[0:0] = [*statement.body, *handlers, *statement.orelse]
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    bindings[target.id] = _value(statement.value)
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            if isinstance(statement.target, ast.Name):
                bindings[statement.target.id] = _value(statement.value)
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    bindings[alias.asname] = Imported(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    bindings[top] = Imported(top)
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if any(alias.name == "*" for alias in statement.names):
                absolute = _absolute(module, is_package, statement.level, base)
                if absolute and statement in tree.body:  # as ``star_modules``
                    stars.append(absolute)
                continue
            for alias in statement.names:
                name = f"{base}.{alias.name}" if base else alias.name
                bindings[alias.asname or alias.name] = Imported(
                    _absolute(module, is_package, statement.level, name)
                )
    return ModuleExports(bindings, tuple(stars))


def _value(value: ast.expr) -> Binding:
    if isinstance(value, ast.Name):
        return Alias(value.id)
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute):
            return Value(func.attr)
        return Value(func.id if isinstance(func, ast.Name) else "*")
    if isinstance(value, (ast.Lambda, ast.Attribute, ast.IfExp)):
        return Value("*")
    return Value(None)


def _absolute(module: str, is_package: bool, level: int, name: str) -> Optional[str]:
    if not level:
        return name or None
    return resolve_relative(module, is_package, level, name)


class Found(NamedTuple):
    """Where a dotted name ends: a library name (``external``), a module of the project
    (``exports`` None), or a top-level binding of one of its modules."""

    external: Optional[str]
    binding: Binding
    exports: Optional[ModuleExports]
    #: The lookup asked for a method of a class (``Mailer.send``).
    method: bool = False


#: The checked text itself is on the way (its unit may differ from the file): ask
#: the units.
UNKNOWN = Found(None, None, None, method=True)


def external_name(
    project: "Project", qualified: str, words: "Words" = None
) -> Optional[str]:
    """What ``project.symbol(qualified, words=words)`` would say of the absolute
    dotted name, in short: a library name (the symbol is an external re-export),
    ``PROJECT`` (a project definition), ``MODULE`` (a project module), or None (not
    found)."""
    found = find(project, qualified, words)
    if found is UNKNOWN:
        symbol = project.symbol(qualified, words=words)
        if symbol is None:
            return None
        return symbol.external or (PROJECT if symbol.node is not None else MODULE)
    if found is None:
        return None
    if found.external is not None:
        return found.external
    return MODULE if found.exports is None else PROJECT


def may_run_code(
    project: "Project", qualified: str, wrappers: FrozenSet[str], classes: bool
) -> bool:
    """Whether the project name can be code reach follows when it is called
    (``Reach.callees_of``, ``Resolver.callable``): a ``def``, a method, a class with
    an ``__init__`` of its module (if ``classes``), or a value that may hold a
    callable (a lambda, an attribute, a conditional, a call of one of ``wrappers``:
    the last names of ``partial`` and the safe wrappers).  False only when certain,
    and then no module needs a LibCST parse to know that nothing is followed."""
    found = find(project, qualified, None)
    if found is UNKNOWN:
        return True
    if found is None or found.external is not None or found.exports is None:
        return False
    binding = found.binding
    if found.method or binding is None:
        return True
    if isinstance(binding, Class):
        return classes and _has_method(found.exports, binding, "__init__")
    if isinstance(binding, Value):
        call = binding.call
        imported = found.exports.bindings.get(call or "")
        if isinstance(imported, Imported) and imported.target:  # ``partial as p``
            call = imported.target.rsplit(".", 1)[-1]
        return call is not None and (call == "*" or call in wrappers)
    return True  # an alias or an import the search stopped at: the units decide


def may_be_class_of(
    project: "Project", qualified: str, bases: FrozenSet[str], words: "Words" = None
) -> bool:
    """Whether the project name can be a class deriving from one of ``bases``
    (library qualified names) directly or through classes of its own module, as
    ``Resolver.thread_base`` decides on the LibCST unit.  False only when certain, so
    that a call of any other imported class parses no module with LibCST."""
    found = find(project, qualified, words)
    if found is UNKNOWN:
        return True
    if found is None or found.exports is None or not isinstance(found.binding, Class):
        return False
    exports = found.exports
    for cls in _with_local_bases(exports, found.binding):
        for dotted in cls.dotted_bases:
            first, _, rest = dotted.partition(".")
            binding = exports.bindings.get(first)
            if isinstance(binding, Imported) and binding.target:
                if (f"{binding.target}.{rest}" if rest else binding.target) in bases:
                    return True
            elif first not in exports.bindings and exports.stars:
                return True  # maybe star-imported: the units decide
    return False


def find(
    project: "Project", qualified: str, words: "Words" = None, hops: int = 0
) -> Optional[Found]:
    """``Project.symbol`` on the export tables: where the absolute dotted name ends,
    None (not found), or ``UNKNOWN``."""

    if hops > MAX_REEXPORT_HOPS:
        return None
    parts = qualified.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        located = project.file_of(module)
        if located is None:
            continue
        name = parts[cut] if cut < len(parts) else None
        if project.is_pinned(located[0]):
            return UNKNOWN
        if words and not _may_hold(located[0], words, name):
            return None
        exports = exports_of(located[0], module)
        if exports is None:
            return None
        return _lookup(project, module, located[0], exports, parts[cut:], hops, words)
    return None


def _may_hold(path: Path, words: "Words", name: Optional[str]) -> bool:
    """``Project.unit_for``'s text gate."""
    text = source_text(path)
    return text is not None and bool(words) and (
        any(word in text for word in words or ()) or may_reexport(text, name)
    )


def _lookup(
    project: "Project",
    module: str,
    path: Path,
    exports: ModuleExports,
    attributes: List[str],
    hops: int,
    words: "Words",
) -> Optional[Found]:
    """``ModuleUnit.lookup``, rule for rule."""

    if not attributes:
        return Found(None, None, None)
    if hops > MAX_REEXPORT_HOPS:
        return None
    first, rest = attributes[0], attributes[1:]
    if first not in exports.bindings:
        if path.name == "__init__.py":
            found = find(project, f"{module}.{'.'.join(attributes)}", words, hops + 1)
            if found is not None:
                return found
        for star in exports.stars:
            found = find(project, f"{star}.{'.'.join(attributes)}", words, hops + 1)
            if found is not None:
                return found
        return None
    binding = exports.bindings[first]
    if isinstance(binding, Imported):
        if binding.target is None:
            return None
        qualified = ".".join([binding.target, *rest])
        found = find(project, qualified, words, hops + 1)
        if found is None and binding.target.split(".")[0] not in project.top_level_names():
            return Found(qualified, None, None)
        return found
    if isinstance(binding, Alias):
        here = Found(None, binding, exports)
        if binding.name == first:
            return None if rest else here
        found = _lookup(
            project, module, path, exports, [binding.name, *rest], hops + 1, words
        )
        return found if found is not None or rest else here
    if rest:
        if isinstance(binding, Class) and len(rest) == 1:
            if _has_method(exports, binding, rest[0]):
                return Found(None, binding, exports, method=True)
            return _inherited(project, exports, binding, rest[0], hops + 1, words)
        return None
    return Found(None, binding, exports)


def _inherited(
    project: "Project",
    exports: ModuleExports,
    cls: Class,
    name: str,
    hops: int,
    words: "Words",
) -> Optional[Found]:
    """``name`` defined by a base of ``cls`` imported from another module of the
    project (``class Query(BelongsToOrgMixin)`` with the mixin in ``mixins.py``), as
    ``ModuleUnit._inherited`` looks it up."""
    tops = project.top_level_names()
    for current in _with_local_bases(exports, cls):
        for base in current.dotted_bases:
            root, _, tail = base.partition(".")
            imported = exports.bindings.get(root)
            if not isinstance(imported, Imported) or imported.target is None:
                continue
            if imported.target.split(".")[0] not in tops:
                continue
            qualified = ".".join(filter(None, [imported.target, tail, name]))
            found = find(project, qualified, words, hops)
            if found is not None:
                return found
    return None


def _has_method(exports: ModuleExports, cls: Class, name: str) -> bool:
    """``Resolver.find_method``: in the class or a base class of the same module."""
    return any(name in current.methods for current in _with_local_bases(exports, cls))


def _with_local_bases(exports: ModuleExports, cls: Class) -> Iterator[Class]:
    """``cls`` and its base classes defined in the same module, each once (as the
    engine's ``find_method`` and ``thread_base`` walk them)."""
    seen: Set[int] = set()
    pending = [cls]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for base in current.bases:
            found = exports.bindings.get(base)
            if isinstance(found, Class):
                pending.append(found)
