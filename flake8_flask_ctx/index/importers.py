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

from collections import deque
from pathlib import Path
from typing import Deque, Dict, List, Optional, Sequence, Set, Tuple

from ..knowledge import Knowledge
from .imports import imported_modules
from .project import Project, project_of
from .sources import tokens_of


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
                imported[path] = imported_modules(path, dotted)
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
