"""The reverse import graph, for checking changed files: which project modules import
a given module, directly or through others.

A finding belongs to the module that dispatches (the view), but the read it reports
may sit in a module it imports (``tasks.py``).  A hook that checks only the changed
``tasks.py`` misses the new finding; checking the modules that import it, transitively,
finds it.  Found on ``ast``, from the text first: a module can import ``shop.jobs`` only
if its text contains ``jobs`` (every spelling of the import names it), so only those
are parsed.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path
from typing import Deque, List, Optional, Sequence, Set

from ..knowledge import Knowledge
from .callers import module_tree
from .imports import resolve_relative
from .project import Project, project_of


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
    while pending:
        target = pending.popleft()
        word = target.rsplit(".", 1)[-1]
        for path, dotted in project.modules_mentioning(word):
            if dotted is None or dotted in seen or dotted not in modules:
                continue
            if target in _imported_modules(path, dotted):
                seen.add(dotted)
                pending.append(dotted)
                result.append(path)
    return result


def _imported_modules(path: Path, dotted: str) -> Set[str]:
    """Every module the file at ``path`` (module ``dotted``) may import, anywhere in
    it (imports inside functions included: app factories import their views there):
    ``from a.b import c`` counts ``a.b`` and ``a.b.c``; ``import a.b`` counts ``a`` and
    ``a.b``.  (The ``ast`` is the one ``callers.py`` keeps per file.)"""
    tree = module_tree(path)
    found: Set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.ImportFrom):
            base = (
                resolve_relative(dotted, is_package, node.level, node.module or "")
                if node.level else node.module
            )
            if base:
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                found.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return found
