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
from typing import List, Optional, Set, Tuple

from .knowledge import Knowledge
from .project import Project, source_text

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
    if dispatch and watched:
        return True
    if project is None:
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
            absolute = _relative(module, is_package, len(dots), base)
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


def _relative(module: Optional[str], is_package: bool, dots: int, base: str) -> Optional[str]:
    if module is None:
        return None
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if dots - 1 > len(parts):
        return None
    kept = parts[: len(parts) - (dots - 1)]
    return ".".join([*kept, base] if base else kept)


def _mentions(
    project: Project,
    path: Path,
    words: Tuple[str, ...],
    depth: int,
    seen: Set[Path],
) -> bool:
    """Whether a project module's text (or, within ``depth``, the text of a project
    module it imports) contains one of ``words``."""
    if path in seen:
        return False
    seen.add(path)
    source = source_text(path)
    if source is None:
        return False
    if any(word in source for word in words):
        return True
    if depth <= 0:
        return False
    module, _ = project.module_name(path)
    deeper = project_imports(source, project, module, path.name == "__init__.py")
    return any(_mentions(project, p, words, depth - 1, seen) for p in deeper)
