"""The rest of the project: where its modules are, and each one analysed once.

Real apps put the view in ``views.py``, the worker in ``tasks.py`` and ``db`` in
``extensions.py``, so reach must cross module boundaries.  It does so without importing
anything: an imported name is mapped to a file under the project's roots, that file is
parsed into a ``ModuleUnit`` (the same index/resolver/reach the checked file gets), and
the walk continues there.  Units are built lazily -- only modules that a reached body
actually refers to are ever parsed -- and cached per process, keyed by path, size and
modification time, so a flake8 run over a whole project parses each module at most
once per worker process.  Third-party and standard-library modules are never followed:
only files under the roots are.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tokenize
from collections import deque
from pathlib import Path
from typing import (
    TYPE_CHECKING, Callable, Dict, FrozenSet, Iterator, Optional, Sequence, Set, Tuple,
)

from ..knowledge import Knowledge, knowledge_key
from .files import (
    MAX_SCANNED_FILES, inside, installed_package, is_dir, module_of, project_roots,
    python_files, real_path,
)
from .imports import MAX_REEXPORT_HOPS, imported_modules, may_reexport
from .sources import MAX_READ_BYTES, clear_texts, read_regular_file, source_text

if TYPE_CHECKING:  # pragma: no cover
    from .project_index import ProjectFacts
    from ..engine.units import ModuleUnit, Symbol

#: How many modules ``Project.imported_with`` may hold (a bound on the text it reads).
MAX_IMPORTED_CLOSURE = 300

#: Words a module's text must contain for a lookup to parse it (``None``: any module).
Words = Optional[Tuple[str, ...]]


def same_as_on_disk(text: str, path: Path) -> bool:
    """Whether ``text`` is the file's content as flake8 reads it: decoded by its PEP 263
    cookie, newlines translated (a CRLF file is not "unsaved" for differing in bytes)."""
    try:
        data = read_regular_file(path, MAX_READ_BYTES)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        disk = data.decode(encoding, "replace")
    except (OSError, SyntaxError, LookupError):
        return False
    return _normalised(text) == _normalised(disk)


def _normalised(text: str) -> str:
    text = text[1:] if text.startswith("\ufeff") else text
    return text.replace("\r\n", "\n").replace("\r", "\n")


#: Where the parsed units are cached; looked up in ``sys.modules`` so that asking for a
#: cache clear never imports LibCST.
_UNITS_MODULE = __package__.rpartition(".")[0] + ".engine.units"


class Project:
    """The checked file's project: module lookup under the roots, units by path."""

    def __init__(
        self,
        roots: Sequence[Path],
        knowledge: Knowledge,
        only: Optional[frozenset[str]] = None,
    ) -> None:
        self.roots = tuple(roots)
        self.knowledge = knowledge
        #: Top-level packages that are the project, when the roots hold installed code.
        self.only = only
        self._files: Dict[str, Optional[Tuple[Path, Path]]] = {}
        self._top_names: Optional[frozenset[str]] = None
        #: The checked file's own unit (built from the text flake8 gave, which may be
        #: unsaved editor content): an import cycle back to it lands here, not on disk.
        self._pinned: Dict[Path, ModuleUnit] = {}
        self._unsaved_text_seen = False
        self._mentions: Dict[Tuple[str, ...], bool] = {}
        self._facts: Dict[Tuple[str, ...], ProjectFacts] = {}
        self._effective: Dict[Tuple[str, ...], Knowledge] = {}
        self._scopes: Dict[str, Tuple[str, ...]] = {}
        #: Answers derived from the project's files by other layers (the ``ast`` gate),
        #: forgotten with the parsed modules when an unsaved buffer is linted.
        self.memo: Dict[Tuple[object, ...], object] = {}

    def facts(self, module: Optional[str] = None) -> ProjectFacts:
        """Project-wide facts (``project_index.py``) for ``module`` (dotted name): the
        task bases, CLI-started workers and ``SERVER_NAME`` of its repository -- every
        top-level package and module under the root that holds ``module``'s package
        (superdesk's ``apps/`` tasks use the Celery app that ``superdesk/`` configures:
        a context pushed in one top-level package is pushed for the others).  Test
        modules are not read (``is_test_module``).  Built on first use, once per root."""
        scope = self._scope(module)
        found = self._facts.get(scope)
        if found is None:
            from .project_index import index_project

            found = self._facts[scope] = index_project(self._modules(scope))
        return found

    def effective_knowledge(self, module: Optional[str] = None) -> Knowledge:
        """The knowledge with what the application's configuration changes:
        ``SERVER_NAME`` set anywhere in it makes ``url_for`` need only an app context
        (SPEC section 3)."""
        scope = self._scope(module)
        found = self._effective.get(scope)
        if found is None:
            found = self.knowledge
            if self.facts(module).server_name is not None:
                found = found.with_server_name()
            self._effective[scope] = found
        return found

    def _scope(self, module: Optional[str]) -> Tuple[str, ...]:
        """The top-level names of ``module``'s application (see ``facts``)."""
        top = module.split(".")[0] if module else ""
        found = self._scopes.get(top)
        if found is None:
            names = self.top_level_names()
            located = self.file_of(top) if top else None
            if located is None:
                found = tuple(sorted(names))
            else:
                _path, root = located
                found = tuple(sorted(
                    name for name in names if (self.file_of(name) or (None, None))[1] == root
                ))
            self._scopes[top] = found
        return found

    def _modules(self, scope: Sequence[str]) -> Iterator[Tuple[Path, str, Optional[str]]]:
        """Every module of the top-level names ``scope`` (at most ``MAX_SCANNED_FILES``):
        path, display name and dotted name."""
        count = 0
        for name in scope:
            for root in self.roots:
                files = python_files(root, name)
                for path in files:
                    count += 1
                    if count > MAX_SCANNED_FILES:
                        return
                    yield path, *module_of(path, root)
                if files:
                    break  # the first root that has it is where imports find it

    def is_pinned(self, path: Path) -> bool:
        """Whether the module at ``path`` is the checked text (see ``pin``)."""
        return bool(self._pinned) and real_path(path) in self._pinned

    def pin(self, path: Path, unit: ModuleUnit, text: str) -> None:
        """Make ``unit`` (built from ``text``) the module at ``path`` for this check.

        Other modules' cached units may have followed imports into the previous text
        of this file (or of the file pinned before): harmless while every pinned text
        equals the file on disk (a flake8 run), stale when an editor passes unsaved
        content.  Then, and on the check after it, the parsed-module cache is dropped,
        so no finding outlives the text it came from."""
        real = real_path(path)
        differs = not same_as_on_disk(text, real)
        if differs or self._unsaved_text_seen:
            units = sys.modules.get(_UNITS_MODULE)
            if units is not None:
                getattr(units, "_UNITS").clear()
            self._facts.clear()
            self._effective.clear()
            self.memo.clear()
        self._unsaved_text_seen = differs
        self._pinned = {real: unit}

    def mentions_anywhere(self, words: Tuple[str, ...]) -> bool:
        """Whether any module of the project (the packages and modules under the roots,
        at most ``MAX_SCANNED_FILES`` of them) contains one of ``words``.  Read once per
        process: a project that never names Flask cannot reach a context-local through
        its imports, whatever a file imports."""
        return self._any_module(words, lambda text: any(word in text for word in words))

    def imports_anywhere(self, packages: Tuple[str, ...]) -> bool:
        """Whether any module of the project *imports* Flask, a Flask extension,
        ``werkzeug`` or one of ``packages`` (a configured context-local's package).  A
        project that never does cannot reach a context-local, however often it names
        one in a string (mypy's test data names ``flask_cors``)."""
        pattern = imports_pattern(packages)
        return self._any_module(("import",) + packages, lambda t: bool(pattern.search(t)))

    def _any_module(self, key: Tuple[str, ...], test: Callable[[str], bool]) -> bool:
        cached = self._mentions.get(key)
        if cached is not None:
            return cached
        words = key
        found, scanned = False, 0
        for name in sorted(self.top_level_names()):
            for root in self.roots:
                for path in python_files(root, name):
                    scanned += 1
                    text = source_text(path) if scanned <= MAX_SCANNED_FILES else None
                    if text is None or test(text):
                        found = True  # unreadable or too many files: assume it may
                        break
                if found:
                    break
            if found:
                break
        self._mentions[words] = found
        return found

    def modules(self) -> Tuple[Tuple[Path, Optional[str]], ...]:
        """Every module of the project (path, dotted name), at most
        ``MAX_SCANNED_FILES``.  Listed once per check cycle (``memo``): each listing
        walks the tree, and the importer search asks for it per module name."""
        found = self.memo.get(("modules",))
        if not isinstance(found, tuple):
            found = self.memo[("modules",)] = tuple(
                (path, dotted)
                for path, _display, dotted in self._modules(sorted(self.top_level_names()))
            )
        return found

    def modules_mentioning(self, word: str) -> Tuple[Tuple[Path, Optional[str]], ...]:
        """The project's modules (path, dotted name) whose text contains ``word``; an
        unreadable one counts.  Memoised with the other per-check answers."""
        key = ("mentioning", word)
        found = self.memo.get(key)
        if isinstance(found, tuple):
            return found
        hits = []
        for path, dotted in self.modules():
            text = source_text(path)
            if text is None or word in text:
                hits.append((path, dotted))
        answer = tuple(hits)
        self.memo[key] = answer
        return answer

    def imported_with(self, module: str) -> FrozenSet[str]:
        """The project modules certainly loaded once ``module`` is: the packages that
        contain it (their ``__init__`` runs first), the modules it imports, and
        theirs, transitively (imports anywhere in a file count: an app factory's
        imports run when it builds the app).  A receiver connected at import time is
        connected only if its module was loaded.  Read from text; memoised."""
        key = ("imported-with", module)
        cached = self.memo.get(key)
        if isinstance(cached, frozenset):
            return cached
        modules = {dotted: path for path, dotted in self.modules() if dotted is not None}
        parts = module.split(".")
        pending = deque(".".join(parts[:n]) for n in range(1, len(parts) + 1))
        seen: Set[str] = set()
        while pending and len(seen) < MAX_IMPORTED_CLOSURE:
            current = pending.popleft()
            if current in seen or current not in modules:
                continue
            seen.add(current)
            for imported in imported_modules(modules[current], current):
                names = imported.split(".")
                pending.extend(".".join(names[:n]) for n in range(1, len(names) + 1))
        answer = frozenset(seen)
        self.memo[key] = answer
        return answer

    def top_level_names(self) -> frozenset[str]:
        """Top-level module and package names under the roots (for the prefilter and
        to tell a project import from a third-party one)."""
        if self._top_names is None:
            names = set()
            for root in self.roots:
                try:
                    entries = list(os.scandir(root))
                except OSError:
                    continue
                for entry in entries:
                    stem, ext = os.path.splitext(entry.name)
                    if ext == ".py" and stem.isidentifier():
                        names.add(stem)
                    elif ext == "" and entry.name.isidentifier() and is_dir(entry):
                        names.add(entry.name)
            if self.only is not None:
                names &= self.only
            self._top_names = frozenset(names)
        return self._top_names

    def file_of(self, module: str) -> Optional[Tuple[Path, Path]]:
        """``(file, root)`` of a dotted module name, if it is one of the project's."""
        cached = self._files.get(module)
        if cached is not None:
            return cached
        found: Optional[Tuple[Path, Path]] = None
        if module.split(".")[0] in self.top_level_names():
            parts = module.split(".")
            for root in self.roots:
                base = root.joinpath(*parts)
                for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                    if candidate.is_file() and inside(candidate, root):
                        found = (candidate, root)
                        break
                if found:
                    break
        if found is not None:  # misses are not cached: the file may appear later
            self._files[module] = found
        return found

    def unit_for(
        self,
        module: str,
        words: Words = None,
        name: Optional[str] = None,
        wanted: FrozenSet[str] = frozenset(),
    ) -> Optional[ModuleUnit]:
        """The parsed module, or None.  With ``words``, a module whose text contains
        none of them is not parsed: the caller knows what it looks for cannot be
        there.  This keeps a lookup from parsing half the project.  Unless the module
        may re-export the ``name`` looked up in it (an import naming it, or a star
        import; a package ``__init__.py`` usually does): then what is looked for may
        be elsewhere."""
        located = self.file_of(module)
        if located is None:
            return None
        path, root = located
        pinned = self._pinned.get(real_path(path))
        if pinned is not None:
            return pinned
        if words:
            text = source_text(path)
            if text is None or not (
                any(word in text for word in words) or may_reexport(text, name)
            ):
                return None
        from ..engine import units  # LibCST is loaded only when a module is really parsed

        return units._load(self, path, root, module, name, wanted)

    def symbol(
        self,
        qualified: str,
        hops: int = 0,
        words: Words = None,
        asker: Optional[ModuleUnit] = None,
    ) -> Optional[Symbol]:
        """The project symbol an absolute dotted name refers to, or None (not ours,
        missing, unparsable, gated out by ``words``, or too many re-export hops).
        ``asker``: the unit whose import is looked up (its other imports from the same
        module are kept in that module's cut, ``ModuleUnit.imported_from``)."""
        if hops > MAX_REEXPORT_HOPS:
            return None
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            if self.file_of(".".join(parts[:cut])) is None:
                continue
            name = parts[cut] if cut < len(parts) else None
            module = ".".join(parts[:cut])
            wanted = asker.imported_from(module) if asker is not None else frozenset()
            unit = self.unit_for(module, words, name, wanted)
            return unit.lookup(parts[cut:], hops, words, wanted) if unit is not None else None
        return None

    def display(self, path: Path, root: Path) -> str:
        try:
            return real_path(path).relative_to(root).as_posix()
        except ValueError:
            return path.name

    def module_name(self, path: Path) -> Tuple[Optional[str], Optional[Path]]:
        """Dotted name of a file under one of the roots (and that root)."""
        real = real_path(path)
        for root in self.roots:
            try:
                relative = real.relative_to(root)
            except ValueError:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts and parts[-1] == "__init__":
                parts.pop()
            if parts and all(p.isidentifier() for p in parts):
                return ".".join(parts), root
        return None, None


_PROJECTS: Dict[Tuple[Tuple[Path, ...], int, Optional[frozenset[str]]], Project] = {}


def project_for(
    roots: Tuple[Path, ...], knowledge: Knowledge, only: Optional[frozenset[str]] = None
) -> Project:
    """One ``Project`` per set of roots and options in this process, so module lookups
    are shared by every file a flake8 worker checks."""
    key = (roots, knowledge_key(knowledge), only)
    project = _PROJECTS.get(key)
    if project is None:
        if len(_PROJECTS) > 64:
            _PROJECTS.clear()
        project = _PROJECTS[key] = Project(roots, knowledge, only)
    return project


_Scope = Tuple[Tuple[Path, ...], Optional[frozenset[str]]]
_SCOPES: Dict[Tuple[str, str, Optional[str]], _Scope] = {}


def project_of(
    filename: Optional[str], knowledge: Knowledge, override: Optional[str] = None
) -> Project:
    """The project the checked file belongs to (see ``project_roots``), worked out once
    per directory (and working directory) in this process."""
    directory = os.path.dirname(os.path.abspath(filename)) if filename else ""
    key = (directory, os.getcwd(), override)
    scope = _SCOPES.get(key)
    if scope is None or scope[1] is not None:
        scope = (
            project_roots(filename, override),
            None if override else installed_package(filename),
        )
        if scope[1] is None:  # installed code's scope depends on the file's package
            _SCOPES[key] = scope
    return project_for(scope[0], knowledge, scope[1])


def clear_cache() -> None:
    """Forget every parsed module and lookup (tests; long-lived editor processes)."""
    units = sys.modules.get(_UNITS_MODULE)
    if units is not None:
        getattr(units, "_UNITS").clear()
    _PROJECTS.clear()
    _SCOPES.clear()
    clear_texts()


def imports_pattern(packages: Tuple[str, ...]) -> "re.Pattern[str]":
    """An ``import``/``from`` statement of Flask, a ``flask_*`` extension, ``werkzeug``
    or one of ``packages`` (at a line's start: a string that names them does not count)."""
    names = "|".join(
        sorted({re.escape(p) for p in packages} | {r"flask\w*", "werkzeug"})
    )
    return re.compile(
        rf"^[ \t]*(?:from[ \t]+(?:{names})\b|import[ \t]+[^\n#]*\b(?:{names})\b)",
        re.MULTILINE,
    )
