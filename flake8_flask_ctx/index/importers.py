"""The reverse import graph, for checking changed files: which project modules import
a given module, directly or through others.

A finding belongs to the module that dispatches (the view), but the read it reports
may sit in a module it imports (``tasks.py``).  A hook that checks only the changed
``tasks.py`` misses the new finding; checking the modules that import it, transitively,
finds it.  Found from text alone: a module can import ``shop.jobs`` only if its text
names ``jobs`` (every spelling of the import names it), and only those modules' import
statements are read.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Deque, Dict, List, Optional, Sequence, Set, Tuple

from ..knowledge import Knowledge
from .imports import resolve_relative
from .project import Project, project_of
from .sources import source_text, tokens_of


def importers_of(
    paths: Sequence[str], knowledge: Knowledge, project_root: Optional[str] = None
) -> List[str]:
    """The project modules (paths, sorted) that import one of ``paths``, directly or
    through other project modules; ``paths`` themselves are not included."""
    given = {str(Path(p).resolve()) for p in paths}
    found: Set[str] = set()
    for path in paths:
        project = project_of(path, knowledge, project_root)
        module, _root = project.module_name(Path(path))
        if module is None:
            continue
        for importer in _transitive_importers(project, module):
            resolved = str(importer.resolve())
            if resolved not in given:
                found.add(str(importer))
    return sorted(found)


def _transitive_importers(project: Project, module: str) -> List[Path]:
    modules = {dotted: path for path, dotted in project.modules() if dotted is not None}
    seen: Set[str] = {module}
    pending: Deque[str] = deque([module])
    result: List[Path] = []
    # What each file imports, read once: a module imported everywhere (``util``) is
    # the target of many rounds, and re-reading every importer each round was
    # quadratic (indico: 21,700 parses for one changed file).
    imported: Dict[Path, Set[str]] = {}
    holders = _holders(project)
    while pending:
        target = pending.popleft()
        word = target.rsplit(".", 1)[-1]
        for path, dotted in holders.get(word, ()):
            if dotted is None or dotted in seen or dotted not in modules:
                continue
            if path not in imported:
                imported[path] = _imported_modules(path, dotted)
            if target in imported[path]:
                seen.add(dotted)
                pending.append(dotted)
                result.append(path)
    return result


def _holders(project: Project) -> Dict[str, List[Tuple[Path, Optional[str]]]]:
    """Which modules hold each identifier: a module can import ``shop.jobs`` only if
    its text names ``jobs`` (an unreadable one imports nothing anyone can see)."""
    holders: Dict[str, List[Tuple[Path, Optional[str]]]] = {}
    for path, dotted in project.modules():
        for token in tokens_of(path) or ():
            holders.setdefault(token, []).append((path, dotted))
    return holders


#: ``from .a.b import (c, d)`` / ``import a.b as c, d`` at the start of a line (any
#: indentation: imports in functions count), with backslash continuations.  Read from
#: text: a file is never parsed for this, and a false match (an import in a docstring)
#: only adds an importer.
_FROM = re.compile(
    r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]*(\([^)]*\)|(?:[^\n\\]|\\\n)*)",
    re.MULTILINE,
)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+((?:[^\n\\]|\\\n)*)", re.MULTILINE)
_NAME = re.compile(r"[\w.]+")


def _imported_modules(path: Path, dotted: str) -> Set[str]:
    """Every module the file at ``path`` (module ``dotted``) may import, anywhere in
    it (imports inside functions included: app factories import their views there):
    ``from a.b import c`` counts ``a.b`` and ``a.b.c``; ``import a.b`` counts ``a`` and
    ``a.b``."""
    # ``import a; import b``: one statement per line for the patterns.
    text = (source_text(path) or "").replace(";", "\n")
    found: Set[str] = set()
    is_package = path.name == "__init__.py"
    for match in _FROM.finditer(text):
        dots, module, names = match.group(1), match.group(2), match.group(3)
        base = resolve_relative(dotted, is_package, len(dots), module) if dots else module
        if not base:
            continue
        found.add(base)
        for part in names.split(","):
            words = _NAME.findall(part)
            if words:
                found.add(f"{base}.{words[0]}")
    for match in _IMPORT.finditer(text):
        for part in match.group(1).split(","):
            words = _NAME.findall(part)
            if words:
                parts = words[0].split(".")
                found.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return found
