"""The cheap text test that decides whether a file is parsed at all.

Most files of a project cannot hold a finding, and parsing with LibCST costs far more
than flake8's own checks, so this test must reject them from the raw text.  It must
never reject a file that has a finding (a miss the user cannot see), which is why
cross-module reach makes it look a little beyond the file: a view with no dispatch
word can still call ``run_async(work)`` imported from the project's ``utils.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from ..knowledge import Knowledge
from .imports import resolve_relative
from .project import Project, imports_pattern
from .sources import source_text

#: ``from .a.b import c, d`` / ``from pkg.mod import x`` / ``import pkg.mod``.
_FROM_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w, \t]*)", re.MULTILINE
)
_PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+)", re.MULTILINE)
#: How far the imported-module tests follow imports of imports: a dispatching helper
#: (``utils.run_async``) is looked for two imports deep, a context-local (a module that
#: names ``flask``) three deep (view -> service -> helper -> the module reading it).
DISPATCH_DEPTH = 2
LOCALS_DEPTH = 3


def might_have_findings(
    source: str,
    knowledge: Knowledge,
    project: Optional[Project] = None,
    module: Optional[str] = None,
    is_package: bool = False,
) -> bool:
    """Can this file hold a finding?

    A finding is reported at a dispatch site, a task decorator or a streamed
    response, and what is read must be a context-local.  Single-module: the file needs
    a dispatch word and a watched package's name.  With cross-module reach, the
    context-local may be read in a project module this file imports (found by a
    watched package's name in its text, or in a module it imports, to a bounded
    depth), and the dispatch may be a project function that hands its argument to a
    thread (a dispatch word in an imported module's text).  So a project that never
    names Flask -- the standard library, most libraries -- is never parsed.
    """
    dispatch = any(word in source for word in knowledge.prefilter_words)
    watched = any(package in source for package in knowledge.watched_packages)
    if (
        project is not None
        and not imports_pattern(knowledge.watched_packages).search(source)
        and not project.imports_anywhere(knowledge.watched_packages)
    ):
        return False  # nothing in the project imports Flask: no context-local to reach
    if dispatch and watched:
        return True
    if project is None:
        return False
    if not watched and not project.mentions_anywhere(knowledge.watched_packages):
        return False
    imported = project_imports(source, project, module, is_package)
    if not imported:
        return False
    words = knowledge.watched_packages
    if not watched and not any(
        _mentions(project, path, words, LOCALS_DEPTH, set()) for path in imported
    ):
        return False
    if dispatch:
        return True
    words = knowledge.prefilter_words
    return any(
        _mentions(project, path, words, DISPATCH_DEPTH, set()) for path in imported
    )


def project_imports(
    source: str, project: Project, module: Optional[str], is_package: bool
) -> List[Path]:
    """Files of the project that ``source`` imports (best effort, from the text)."""
    names = project.top_level_names()
    files: List[Path] = []
    candidates: List[str] = []
    for dots, base, imported in _FROM_IMPORT.findall(source):
        if dots:
            absolute = resolve_relative(module, is_package, len(dots), base)
            if absolute is None:
                continue
        elif base.split(".")[0] in names:
            absolute = base
        else:
            continue
        if absolute:
            candidates.append(absolute)
        for name in imported.replace("(", " ").split(","):
            name = name.strip().split(" ")[0]
            if name.isidentifier():
                candidates.append(f"{absolute}.{name}" if absolute else name)
    for full in _PLAIN_IMPORT.findall(source):
        if full.split(".")[0] in names:
            candidates.append(full)
    for candidate in candidates:
        located = project.file_of(candidate)
        if located is not None and located[0] not in files:
            files.append(located[0])
    return files


#: Memo of ``_mentions``: (project, path, words, depth) -> answer, for this process.
#: Without it every checked file would re-scan the import graph around it.
_MENTIONS: Dict[Tuple[int, Path, Tuple[str, ...], int], bool] = {}
#: Memo of the project files a project file imports (its text is read once anyway).
_IMPORTS: Dict[Tuple[int, Path], List[Path]] = {}


def _mentions(
    project: Project,
    path: Path,
    words: Tuple[str, ...],
    depth: int,
    seen: Set[Path],
) -> bool:
    """Whether a project module's text (or, within ``depth``, the text of a project
    module it imports) contains one of ``words``.  Memoised per process; a module met
    again on the current import path (a cycle) counts as not mentioning them there."""
    key = (id(project), path, words, depth)
    known = _MENTIONS.get(key)
    if known is not None:
        return known
    if path in seen:
        return False
    seen.add(path)
    source = source_text(path)
    found = False
    if source is not None:
        found = any(word in source for word in words)
        if not found and depth > 0:
            found = any(
                _mentions(project, p, words, depth - 1, seen)
                for p in _imports_of(project, path, source)
            )
    seen.discard(path)
    if len(_MENTIONS) > 200_000:
        _MENTIONS.clear()
    _MENTIONS[key] = found
    return found


def _imports_of(project: Project, path: Path, source: str) -> List[Path]:
    key = (id(project), path)
    cached = _IMPORTS.get(key)
    if cached is None:
        module, _ = project.module_name(path)
        cached = project_imports(source, project, module, path.name == "__init__.py")
        if len(_IMPORTS) > 100_000:
            _IMPORTS.clear()
        _IMPORTS[key] = cached
    return cached
