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
import sysconfig
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterator, List, Optional, Sequence, Set, Tuple

from .knowledge import Knowledge
from .sources import clear_texts, source_text

if TYPE_CHECKING:  # pragma: no cover
    from .project_index import ProjectFacts
    from .units import ModuleUnit, Symbol

#: Words a module's text must contain for a lookup to parse it (``None``: any module).
Words = Optional[Tuple[str, ...]]


def resolve_relative(
    module: Optional[str], is_package: bool, dots: int, rest: str
) -> Optional[str]:
    """``from ..a import b`` in module ``module``: the absolute ``pkg.a`` (``rest`` is the
    part after the dots; ``None`` when the dots climb above the top package)."""
    if module is None:
        return None
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if dots - 1 > len(parts):
        return None
    kept = parts[: len(parts) - (dots - 1)]
    return ".".join([*kept, rest] if rest else kept) or None


def _same_as_on_disk(text: str, path: Path) -> bool:
    """Whether ``text`` is the file's content as flake8 reads it: decoded by its PEP 263
    cookie, newlines translated (a CRLF file is not "unsaved" for differing in bytes)."""
    try:
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        disk = data.decode(encoding, "replace")
    except (OSError, SyntaxError, LookupError):
        return False
    return _normalised(text) == _normalised(disk)


def _normalised(text: str) -> str:
    text = text[1:] if text.startswith("\ufeff") else text
    return text.replace("\r\n", "\n").replace("\r", "\n")


_IMPORT_STATEMENT = re.compile(
    r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*(\([^)]*\)|[^\n]*)|import[ \t]+[^\n]*)",
    re.MULTILINE,
)


_IMPORTED_WORD = re.compile(r"(?<![\w.])\w+")
#: Per module text: the words its import statements may bind, and whether one of them
#: is a star import.  Every lookup of every name asked the same module again.
_IMPORTED_WORDS: Dict[Tuple[int, int], Tuple[FrozenSet[str], bool]] = {}


def may_reexport(text: str, name: Optional[str]) -> bool:
    """Whether a module's import statements may bind ``name`` (by name or ``*``)."""
    if not name or "import" not in text:
        return False
    words, star = _imported_words(text)
    return star or name in words


def _imported_words(text: str) -> Tuple[FrozenSet[str], bool]:
    key = (len(text), hash(text))
    found = _IMPORTED_WORDS.get(key)
    if found is None:
        words: Set[str] = set()
        star = False
        for statement in _IMPORT_STATEMENT.finditer(text):
            imported = statement.group(0).split("import", 1)[1]
            star = star or "*" in imported
            words.update(_IMPORTED_WORD.findall(imported))
        if len(_IMPORTED_WORDS) > 4096:
            _IMPORTED_WORDS.clear()
        found = _IMPORTED_WORDS[key] = (frozenset(words), star)
    return found


def project_roots(filename: Optional[str], override: Optional[str] = None) -> Tuple[Path, ...]:
    """The directories that absolute imports of the project are resolved against.

    ``override`` (``--flask-ctx-project-root``) wins.  Otherwise: the first directory
    above the checked file that is not a package (no ``__init__.py``) -- where Python
    would find the file's top-level package -- and the current directory (flake8's
    working directory, the usual repository root).
    """
    if override:
        return (_real(Path(override)),)
    roots: List[Path] = []
    if filename and filename not in ("stdin", "-"):
        directory = _real(Path(filename)).parent
        while (directory / "__init__.py").is_file() and directory.parent != directory:
            directory = directory.parent
        roots.append(directory)
    cwd = _real(Path.cwd())
    if cwd not in roots:
        roots.append(cwd)
    return tuple(roots)


#: Directories that hold installed, third-party or standard-library code.
_INSTALLED_DIRS = frozenset({"site-packages", "dist-packages"})


def installed_package(filename: Optional[str]) -> Optional[frozenset[str]]:
    """When the checked file is installed code (under ``site-packages`` or the standard
    library), its project is its own top-level package only: the neighbouring
    packages there are third-party code, which is never followed."""
    if not filename or filename in ("stdin", "-"):
        return None
    path = _real(Path(filename))
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    stdlib = _real(Path(sysconfig.get_paths()["stdlib"]))
    if directory.name not in _INSTALLED_DIRS and directory != stdlib:
        return None
    try:
        top = path.relative_to(directory).parts[0]
    except (ValueError, IndexError):
        return None
    return frozenset({top[:-3] if top.endswith(".py") else top})


def _real(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path.absolute()))
    except (OSError, ValueError):
        return path.absolute()


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
        self._root_modules: Dict[Path, frozenset[str]] = {}

    def facts(self, module: Optional[str] = None) -> ProjectFacts:
        """Project-wide facts (``project_index.py``) for ``module`` (dotted name): the
        task bases, CLI-started workers and ``SERVER_NAME`` of its application -- its
        top-level package and the top-level modules beside it (``config.py``,
        ``wsgi.py``, ``celery_worker.py``), wherever in them they are.  Other top-level
        packages (``tests``, another app of a monorepo) are not its application.
        Built on first use, once per application."""
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
                path, root = located
                beside = set(self._modules_at(root))
                if path.name == "__init__.py":
                    beside.add(top)
                found = tuple(sorted(beside))
            self._scopes[top] = found
        return found

    def _modules_at(self, root: Path) -> frozenset[str]:
        """The top-level modules (``name.py`` files) directly under ``root``, once."""
        found = self._root_modules.get(root)
        if found is None:
            found = self._root_modules[root] = frozenset(
                name for name in self.top_level_names() if (root / f"{name}.py").is_file()
            )
        return found

    def _modules(self, scope: Sequence[str]) -> Iterator[Tuple[Path, str, Optional[str]]]:
        """Every module of the top-level names ``scope`` (at most ``MAX_SCANNED_FILES``):
        path, display name and dotted name."""
        count = 0
        for name in scope:
            for root in self.roots:
                files = _python_files(root, name)
                for path in files:
                    count += 1
                    if count > MAX_SCANNED_FILES:
                        return
                    yield path, *_module_of(path, root)
                if files:
                    break  # the first root that has it is where imports find it

    def is_pinned(self, path: Path) -> bool:
        """Whether the module at ``path`` is the checked text (see ``pin``)."""
        return bool(self._pinned) and _real(path) in self._pinned

    def pin(self, path: Path, unit: ModuleUnit, text: str) -> None:
        """Make ``unit`` (built from ``text``) the module at ``path`` for this check.

        Other modules' cached units may have followed imports into the previous text
        of this file (or of the file pinned before): harmless while every pinned text
        equals the file on disk (a flake8 run), stale when an editor passes unsaved
        content.  Then, and on the check after it, the parsed-module cache is dropped,
        so no finding outlives the text it came from."""
        real = _real(path)
        differs = not _same_as_on_disk(text, real)
        if differs or self._unsaved_text_seen:
            units = sys.modules.get(f"{__package__}.units")
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
        cached = self._mentions.get(words)
        if cached is not None:
            return cached
        found, scanned = False, 0
        for name in sorted(self.top_level_names()):
            for root in self.roots:
                for path in _python_files(root, name):
                    scanned += 1
                    text = source_text(path) if scanned <= MAX_SCANNED_FILES else None
                    if text is None or any(word in text for word in words):
                        found = True  # unreadable or too many files: assume it may
                        break
                if found:
                    break
            if found:
                break
        self._mentions[words] = found
        return found

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
                    elif ext == "" and entry.name.isidentifier() and _is_dir(entry):
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
                    if candidate.is_file() and _inside(candidate, root):
                        found = (candidate, root)
                        break
                if found:
                    break
        if found is not None:  # misses are not cached: the file may appear later
            self._files[module] = found
        return found

    def unit_for(
        self, module: str, words: Words = None, name: Optional[str] = None
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
        pinned = self._pinned.get(_real(path))
        if pinned is not None:
            return pinned
        if words:
            text = source_text(path)
            if text is None or not (
                any(word in text for word in words) or may_reexport(text, name)
            ):
                return None
        from . import units  # LibCST is loaded only when a module is really parsed

        return units._load(self, path, root, module, name)

    def symbol(self, qualified: str, hops: int = 0, words: Words = None) -> Optional[Symbol]:
        """The project symbol an absolute dotted name refers to, or None (not ours,
        missing, unparsable, gated out by ``words``, or too many re-export hops)."""
        from .units import MAX_REEXPORT_HOPS

        if hops > MAX_REEXPORT_HOPS:
            return None
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            if self.file_of(".".join(parts[:cut])) is None:
                continue
            name = parts[cut] if cut < len(parts) else None
            unit = self.unit_for(".".join(parts[:cut]), words, name)
            return unit.lookup(parts[cut:], hops, words) if unit is not None else None
        return None

    def display(self, path: Path, root: Path) -> str:
        try:
            return _real(path).relative_to(root).as_posix()
        except ValueError:
            return path.name

    def module_name(self, path: Path) -> Tuple[Optional[str], Optional[Path]]:
        """Dotted name of a file under one of the roots (and that root)."""
        real = _real(path)
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


#: Directories skipped when reading a whole project (virtualenvs, build output).
_SKIPPED_DIRS = frozenset(
    {".git", ".venv", "venv", ".ci-venv", ".tox", ".nox", "node_modules", "build", "dist",
     "__pycache__", "site-packages", ".mypy_cache", ".pytest_cache"}
)
#: ``mentions_anywhere`` reads at most this many files, then assumes "yes".
MAX_SCANNED_FILES = 5000


def _python_files(root: Path, name: str) -> List[Path]:
    """The files of top-level module or package ``name`` under ``root``; a file or
    package that is a symlink out of the root is not read."""
    module, package = root / f"{name}.py", root / name
    if module.is_file():
        return [module] if _inside(module, root) else []
    found: List[Path] = []
    if not package.is_dir() or not _inside(package, root):
        return found
    for directory, dirs, files in os.walk(package):  # never into symlinked directories
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
        for name in files:
            if not name.endswith(".py"):
                continue
            path = Path(directory) / name
            # Only a symlink can lead out of the root (resolving every path was most of
            # the cost of listing a 1,000-module project).
            if not os.path.islink(path) or _inside(path, root):
                found.append(path)
        if len(found) > MAX_SCANNED_FILES:
            break
    return found


def _module_of(path: Path, root: Path) -> Tuple[str, Optional[str]]:
    """Display name and dotted name of a file listed under ``root`` (no resolving:
    ``_python_files`` lists only files inside it)."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return path.name, None
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    dotted = ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None
    return relative.as_posix(), dotted


def _is_dir(entry: "os.DirEntry[str]") -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _inside(path: Path, root: Path) -> bool:
    """Symlinks out of the project root are not followed."""
    try:
        _real(path).relative_to(root)
        return True
    except ValueError:
        return False


_PROJECTS: Dict[Tuple[Tuple[Path, ...], int, Optional[frozenset[str]]], Project] = {}


def project_for(
    roots: Tuple[Path, ...], knowledge: Knowledge, only: Optional[frozenset[str]] = None
) -> Project:
    """One ``Project`` per set of roots and options in this process, so module lookups
    are shared by every file a flake8 worker checks."""
    key = (roots, id(knowledge), only)
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
    units = sys.modules.get(f"{__package__}.units")
    if units is not None:
        getattr(units, "_UNITS").clear()
    _PROJECTS.clear()
    _SCOPES.clear()
    clear_texts()
