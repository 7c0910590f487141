"""One module of the project, parsed and analysed: what cross-module reach walks into.

Split from ``project.py`` so that the cheap parts (where the project is, which file a
module is, the text gates) load without LibCST: flake8 imports the plugin in every
run, and a file that no gate lets through should cost nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import libcst as cst

from ..knowledge import knowledge_key
from .names import ModuleIndex, dotted_name
from ..index.outline import Outline
from ..index.ast_walk import more_nodes_than
from ..index.sources import read_regular_file, source_text, source_tree
from ..options.settings import DEFAULT_MAX_NODES
from ..index.imports import MAX_REEXPORT_HOPS, resolve_relative

if TYPE_CHECKING:  # pragma: no cover
    from .dispatch import Wrapper
    from ..index.project import Project, Words


#: Parsed modules kept per process.  A unit holds a LibCST tree with its metadata (a
#: few MB for a large module), so the cache is bounded; an evicted module is parsed
#: again if needed.
MAX_CACHED_UNITS = 200
#: Files larger than this are not followed (generated code; parsing would dominate).
MAX_FOLLOWED_BYTES = 1_000_000


@dataclass(frozen=True)
class Symbol:
    """What a dotted name of the project is: a node of some unit (a ``def``, a
    ``class``, or the expression a module-level name is assigned), or a module."""

    unit: "ModuleUnit"
    node: Optional[cst.CSTNode]
    #: The name leaves the project: a re-export of a library object
    #: (``from flask import request`` in ``compat.py``), as its qualified name.
    external: Optional[str] = None


class ModuleUnit:
    """One module of the project with its analysis objects (index, resolver, reach)."""

    def __init__(
        self,
        project: Optional["Project"],
        index: ModuleIndex,
        name: Optional[str],
        display: str,
        is_package: bool = False,
    ) -> None:
        # Imported here: resolution and reach refer back to units.
        from .reach import Reach
        from .resolution import Resolver

        self.project = project
        self.index = index
        self.name = name
        self.display = display
        self.is_package = is_package
        self.resolver = Resolver(index, index.knowledge, self)
        self.reach = Reach(index, self.resolver, index.knowledge)
        self._top_level: Optional[Dict[str, cst.CSTNode]] = None
        self._wrappers: Optional[Dict[cst.FunctionDef, "Wrapper"]] = None
        #: The module's versions cut to what lookups needed (``outline.py``); None:
        #: this unit holds the whole module.
        self.cut: Optional[_Cut] = None
        self._imported_from: Optional[Dict[str, FrozenSet[str]]] = None

    def imported_from(self, module: str) -> FrozenSet[str]:
        """The names this module imports from the (absolute) ``module`` with ``from
        ... import``: a lookup of one of them is likely followed by lookups of the
        others, so the cut of ``module`` keeps them all at once (each later growth
        would parse the grown text again)."""
        if self._imported_from is None:
            table: Dict[str, Set[str]] = {}
            for statement in self.index.imports:
                if not isinstance(statement, cst.ImportFrom) or isinstance(
                    statement.names, cst.ImportStar
                ):
                    continue
                name = dotted_name(statement.module) if statement.module is not None else ""
                base = self.absolute("." * len(statement.relative) + (name or ""))
                if base is None or name is None:
                    continue
                for alias in statement.names:
                    if isinstance(alias.name, cst.Name):
                        table.setdefault(base, set()).add(alias.name.value)
            self._imported_from = {key: frozenset(value) for key, value in table.items()}
        return self._imported_from.get(module, frozenset())

    def wrappers(self) -> Dict[cst.FunctionDef, "Wrapper"]:
        """Functions of this module that dispatch their own parameter
        (``def run_async(fn, *args): executor.submit(fn, *args)``): a call of one
        from another module is a dispatch site there."""
        if self._wrappers is None:
            from .dispatch import DispatchFinder

            self._wrappers = {}  # an import cycle back here sees none, and stops
            finder = DispatchFinder(
                self.index, self.resolver, self.index.knowledge, follow_imports=False
            )
            finder.sites()
            self._wrappers = finder.wrappers
        return self._wrappers

    # -- names of this module --------------------------------------------------------

    def absolute(self, qualified: str) -> Optional[str]:
        """``.services.send`` (LibCST's spelling of a relative import) made absolute."""
        if not qualified.startswith("."):
            return qualified
        dots = len(qualified) - len(qualified.lstrip("."))
        return resolve_relative(self.name, self.is_package, dots, qualified[dots:])

    def top_level(self) -> Dict[str, cst.CSTNode]:
        """Module-level definitions by name: the ``def``/``class`` node, the assigned
        expression, or the import alias (last definition wins, as at run time)."""
        if self._top_level is None:
            table: Dict[str, cst.CSTNode] = {}
            statements: List[cst.CSTNode] = list(self.index.module.body)
            while statements:
                statement = statements.pop(0)
                if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                    table[statement.name.value] = statement
                elif isinstance(statement, (cst.If, cst.Try)):
                    # ``try: from .x import y`` / ``if TYPE_CHECKING:`` blocks
                    statements[0:0] = [
                        s for s in _blocks(statement) if isinstance(s, cst.BaseStatement)
                    ]
                elif isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        _record_small(small, table)
            self._top_level = table
        return self._top_level

    def lookup(
        self,
        attributes: Sequence[str],
        hops: int = 0,
        words: Words = None,
        wanted: FrozenSet[str] = frozenset(),
    ) -> Optional[Symbol]:
        """``attributes`` looked up from this module (``["send"]``, ``["Mailer", "run"]``);
        ``words``: see ``Project.unit_for``; ``wanted``: other names a cut version
        should keep if it has to grow (``imported_from``)."""
        if not attributes:
            return Symbol(self, None)
        if hops > MAX_REEXPORT_HOPS:
            return None
        first, rest = attributes[0], list(attributes[1:])
        node = self.top_level().get(first)
        if node is None and self.cut is not None:
            grown = self.cut.grow(first, wanted)  # a ``def``/``class`` left out of this version
            if grown is not None and grown is not self:
                return grown.lookup(attributes, hops, words)
        if node is None:
            if self.project is None:
                return None
            if self.is_package and self.name:
                dotted = f"{self.name}.{'.'.join(attributes)}"
                found = self.project.symbol(dotted, hops + 1, words)
                if found is not None:
                    return found
            for star in self.star_modules():  # ``from .jobs import *``
                found = self.project.symbol(f"{star}.{'.'.join(attributes)}", hops + 1, words)
                if found is not None:
                    return found
            return None
        if isinstance(node, cst.ImportAlias):
            target = self._imported_name(node)
            if target is None or self.project is None:
                return None
            qualified = ".".join([target, *rest])
            found = self.project.symbol(qualified, hops + 1, words)
            if found is None and target.split(".")[0] not in self.project.top_level_names():
                return Symbol(self, None, external=qualified)
            return found
        if isinstance(node, cst.ClassDef) and rest:
            if len(rest) != 1:
                return None
            method = self.resolver.find_method(node, rest[0])
            if method is not None:
                return Symbol(self, method)
            return self._inherited(node, rest[0], hops + 1)
        if rest:
            if isinstance(node, cst.Name):  # ``send = _send``: an alias in this module
                return self.lookup([node.value, *rest], hops + 1, words)
            return None
        if isinstance(node, cst.Name) and node.value != first:
            alias = self.lookup([node.value], hops + 1, words)
            if alias is not None:
                return alias
        return Symbol(self, node)

    def _inherited(self, cls: cst.ClassDef, name: str, hops: int) -> Optional[Symbol]:
        """``name`` defined by a base of ``cls`` imported from another module of the
        project (``class Query(BelongsToOrgMixin)``), the bases in their order."""
        if hops > MAX_REEXPORT_HOPS:
            return None
        for base in cls.bases:
            if base.keyword is not None or self.resolver.local_class(base.value) is not None:
                continue  # local bases were searched by ``find_method``
            symbol = self.resolver.foreign(base.value, (f"def {name}",))
            if symbol is None or not isinstance(symbol.node, cst.ClassDef):
                continue
            method = symbol.unit.resolver.find_method(symbol.node, name)
            if method is not None:
                return Symbol(symbol.unit, method)
            found = symbol.unit._inherited(symbol.node, name, hops + 1)
            if found is not None:
                return found
        return None

    def star_modules(self) -> List[str]:
        """Absolute names of the modules this one star-imports at module level."""
        found: List[str] = []
        for statement in self.index.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    module = dotted_name(small.module) if small.module is not None else ""
                    if module is None:
                        continue
                    dots = "." * len(small.relative)
                    absolute = self.absolute(f"{dots}{module}")
                    if absolute:
                        found.append(absolute)
        return found

    def _imported_name(self, alias: cst.ImportAlias) -> Optional[str]:
        statement = self.index.parent(alias)
        if isinstance(statement, cst.ImportFrom):
            module = dotted_name(statement.module) if statement.module is not None else ""
            dots = "." * len(statement.relative)
            imported = dotted_name(alias.name)
            if module is None or imported is None:
                return None
            base = f"{dots}{module}" if module else dots
            return self.absolute(f"{base}.{imported}" if module else f"{base}{imported}")
        full = dotted_name(alias.name)
        if full is None:
            return None
        return full if alias.asname is not None else full.split(".")[0]


def _blocks(statement: cst.CSTNode) -> List[cst.CSTNode]:
    """The statements of the bodies of a module-level ``if``/``try``."""
    found: List[cst.CSTNode] = []
    suites: List[Optional[cst.CSTNode]] = []
    if isinstance(statement, cst.If):
        suites = [statement.body, statement.orelse]
    elif isinstance(statement, cst.Try):
        suites = [statement.body, *[h.body for h in statement.handlers], statement.orelse]
    for suite in suites:
        if isinstance(suite, (cst.Else, cst.ExceptHandler)):
            suite = suite.body
        if isinstance(suite, cst.If):
            found.append(suite)
        elif isinstance(suite, cst.IndentedBlock):
            found.extend(suite.body)
        elif isinstance(suite, cst.SimpleStatementSuite):
            found.append(cst.SimpleStatementLine(body=suite.body))
    return found


def _record_small(small: cst.BaseSmallStatement, table: Dict[str, cst.CSTNode]) -> None:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            if isinstance(target.target, cst.Name):
                table[target.target.value] = small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        if isinstance(small.target, cst.Name):
            table[small.target.value] = small.value
    elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(
        small.names, cst.ImportStar
    ):
        for alias in small.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                table[alias.asname.name.value] = alias
            else:
                name = dotted_name(alias.name)
                if name:
                    table[name.split(".")[0] if isinstance(small, cst.Import) else name] = alias


_CacheKey = Tuple[str, int, int, int]
_UNITS: "OrderedDict[_CacheKey, Optional[ModuleUnit]]" = OrderedDict()
#: A module whose cut version had to grow this many times is parsed whole.
MAX_GROWTHS = 3


class _Cut:
    """The successive versions of one module's unit, each cut to the top-level
    statements the lookups so far needed (see ``outline.py``).  Each version is closed
    over the names it uses, so a node of an older version stays right; a lookup of a
    name that was cut makes a bigger version, which replaces the cached one."""

    def __init__(
        self, outline: Outline, kept: FrozenSet[int], key: _CacheKey, make: "_Maker"
    ) -> None:
        self.outline = outline
        self.kept = kept
        self.key = key
        self.make = make
        self.current: Optional[ModuleUnit] = None
        self.growths = 0

    def grow(self, name: str, wanted: FrozenSet[str] = frozenset()) -> Optional[ModuleUnit]:
        """The version that has top-level ``def``/``class`` ``name`` (and those of
        ``wanted``); None: the module has none of that name (or it cannot be parsed)."""
        if name not in self.outline.names:
            return None
        if name in self.outline.kept_names(self.kept):
            return self.current
        self.growths += 1
        if self.growths > MAX_GROWTHS:
            kept = frozenset(range(len(self.outline.statements)))
        else:
            kept = self.outline.kept(self.outline.kept_names(self.kept) | {name} | wanted)
        source = self.outline.source(kept)
        unit = self.make(source)
        if unit is None:
            return None
        self.kept, self.current = kept, unit
        unit.cut = self if source is not None else None
        if self.key in _UNITS:
            _UNITS[self.key] = unit
        return unit


#: Makes a unit of a module's cut text (with its line map); None: the whole module.
_Maker = Callable[[Optional[Tuple[str, List[int]]]], Optional[ModuleUnit]]


def _load(
    project: Project,
    path: Path,
    root: Path,
    module: str,
    name: Optional[str] = None,
    wanted: FrozenSet[str] = frozenset(),
) -> Optional[ModuleUnit]:
    """The unit of a project file, parsed once per process (path, size, mtime, options),
    cut to the top-level statements a lookup of ``name`` (and of ``wanted``) needs
    (``outline.py``)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    knowledge = project.effective_knowledge(module)
    key = (str(path), stat.st_size, stat.st_mtime_ns, knowledge_key(knowledge))
    if key in _UNITS:
        _UNITS.move_to_end(key)
        unit = _UNITS[key]
        if unit is not None:
            unit.project = project
        return unit
    unit = None
    if stat.st_size <= MAX_FOLLOWED_BYTES and not _too_many_nodes(path, stat.st_size):
        display = project.display(path, root)
        is_package = path.name == "__init__.py"

        def make(source: Optional[Tuple[str, List[int]]]) -> Optional[ModuleUnit]:
            try:
                tree = cst.parse_module(
                    read_regular_file(path, MAX_FOLLOWED_BYTES) if source is None else source[0]
                )
            except (
                cst.ParserSyntaxError, OSError, UnicodeDecodeError, ValueError,
                RecursionError,
            ):
                return None
            index = ModuleIndex(
                tree, knowledge, None if source is None else source[1], module, is_package
            )
            return ModuleUnit(project, index, module, display, is_package=is_package)

        outline = _outline_of(path)
        if outline is None:
            unit = make(None)
        else:
            kept = outline.kept([name, *wanted] if name else [])
            cut = _Cut(outline, kept, key, make)
            source = outline.source(kept)
            unit = cut.current = make(source)
            if unit is not None and source is not None:
                unit.cut = cut
    _UNITS[key] = unit
    while len(_UNITS) > MAX_CACHED_UNITS:
        _UNITS.popitem(last=False)
    return unit


def _too_many_nodes(path: Path, size: int) -> bool:
    """A module whose LibCST tree would be too big to hold (``DEFAULT_MAX_NODES``, as
    for a checked file) is not followed into: what it does stays unknown, and unknown
    is silent.  Only files big enough to reach the limit are counted."""
    if size < MIN_COUNTED_BYTES:
        return False
    tree = source_tree(path)
    return tree is not None and more_nodes_than(tree, DEFAULT_MAX_NODES)


#: A module smaller than this cannot hold ``DEFAULT_MAX_NODES`` nodes (each takes at
#: least a character or two of source).
MIN_COUNTED_BYTES = 100_000


def _outline_of(path: Path) -> Optional[Outline]:
    """The module's outline, or None (unreadable, or not Python ``ast`` can parse:
    then the whole file goes to LibCST, which decides)."""
    text = source_text(path)
    if text is None or "\ufffd" in text:
        return None  # undecodable bytes: LibCST reads the file itself
    tree = source_tree(path)
    if tree is None:
        return None
    return Outline(text[1:] if text.startswith("\ufeff") else text, tree)
