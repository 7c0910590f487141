"""Where a project's files are: its roots, installed code, and the files of a package.

Kept apart from ``project.py`` (which maps names to modules and caches their units)
because this part only touches the file system, never a module's text.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from typing import List, Optional, Tuple


def project_roots(filename: Optional[str], override: Optional[str] = None) -> Tuple[Path, ...]:
    """The directories that absolute imports of the project are resolved against.

    ``override`` (``--flask-ctx-project-root``) wins.  Otherwise: the first directory
    above the checked file that is not a package (no ``__init__.py``) -- where Python
    would find the file's top-level package -- and the current directory (flake8's
    working directory, the usual repository root).
    """
    if override:
        return (real_path(Path(override)),)
    roots: List[Path] = []
    if filename and filename not in ("stdin", "-"):
        directory = real_path(Path(filename)).parent
        while (directory / "__init__.py").is_file() and directory.parent != directory:
            directory = directory.parent
        roots.append(directory)
    cwd = real_path(Path.cwd())
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
    path = real_path(Path(filename))
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    stdlib = real_path(Path(sysconfig.get_paths()["stdlib"]))
    if directory.name not in _INSTALLED_DIRS and directory != stdlib:
        return None
    try:
        top = path.relative_to(directory).parts[0]
    except (ValueError, IndexError):
        return None
    return frozenset({top[:-3] if top.endswith(".py") else top})


def real_path(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path.absolute()))
    except (OSError, ValueError):
        return path.absolute()


#: Directories skipped when reading a whole project (virtualenvs, build output).
_SKIPPED_DIRS = frozenset(
    {".git", ".venv", "venv", ".ci-venv", ".tox", ".nox", "node_modules", "build", "dist",
     "__pycache__", "site-packages", ".mypy_cache", ".pytest_cache"}
)


#: ``mentions_anywhere`` reads at most this many files, then assumes "yes".
MAX_SCANNED_FILES = 5000


def python_files(root: Path, name: str) -> List[Path]:
    """The files of top-level module or package ``name`` under ``root``; a file or
    package that is a symlink out of the root is not read."""
    module, package = root / f"{name}.py", root / name
    if module.is_file():
        return [module] if inside(module, root) else []
    found: List[Path] = []
    if not package.is_dir() or not inside(package, root):
        return found
    for directory, dirs, files in os.walk(package):  # never into symlinked directories
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
        for name in files:
            if not name.endswith(".py"):
                continue
            path = Path(directory) / name
            # Only a symlink can lead out of the root (resolving every path was most of
            # the cost of listing a 1,000-module project).
            if not os.path.islink(path) or inside(path, root):
                found.append(path)
        if len(found) > MAX_SCANNED_FILES:
            break
    return found


def module_of(path: Path, root: Path) -> Tuple[str, Optional[str]]:
    """Display name and dotted name of a file listed under ``root`` (no resolving:
    ``python_files`` lists only files inside it)."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return path.name, None
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    dotted = ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None
    return relative.as_posix(), dotted


def is_dir(entry: "os.DirEntry[str]") -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def inside(path: Path, root: Path) -> bool:
    """Symlinks out of the project root are not followed."""
    try:
        real_path(path).relative_to(root)
        return True
    except ValueError:
        return False
