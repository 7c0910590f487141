"""``flake8-flask-ctx-flake8 [FLAKE8 OPTIONS] FILES``: flake8 with this plugin on the
changed files *and* the project modules that import them -- the pre-commit hook for
repositories that keep their configuration in flake8's files.

pre-commit passes only the changed files; a new ``request`` read in ``tasks.py`` is
reported at the unchanged view that dispatches into it, so flake8 on ``tasks.py``
alone passes.  This adds the importers (``index/importers.py``) and runs flake8 itself
on all of them, with whatever options were given (``--select=FCX`` in the hook).
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional, Sequence

from ..knowledge import DEFAULT_KNOWLEDGE


def main(argv: Optional[Sequence[str]] = None) -> int:
    from flake8.main.cli import main as flake8_main  # type: ignore[import-untyped]

    args = list(sys.argv[1:] if argv is None else argv)
    files = [a for a in args if not a.startswith("-") and os.path.isfile(a)]
    problems = _unchecked(args)
    for problem in problems:
        print(f"flake8-flask-ctx: {problem}", file=sys.stderr)
    extra: List[str] = []
    if files:
        from ..index.importers import importers_of

        named = {os.path.abspath(f) for f in files}
        for path in importers_of(files, DEFAULT_KNOWLEDGE):
            if os.path.abspath(path) not in named:
                relative = os.path.relpath(path)
                extra.append(path if relative.startswith("..") else relative)
    try:
        status = flake8_main([*args, *extra])
    except SystemExit as exit_:  # flake8's main exits with its status
        code = exit_.code
        status = code if isinstance(code, int) else (0 if code is None else 2)
    # A file flake8 could not read or parse is E902/E999, which the hook's
    # ``--select=FCX`` hides: the commit must still fail, as with the standalone hook.
    return 2 if problems else int(status or 0)


def _unchecked(args: Sequence[str]) -> List[str]:
    """One line for each named file that cannot be checked: missing, not a regular
    file, undecodable or not parsable (the standalone command's words)."""
    from .unreadable import parse_source, read_source

    found: List[str] = []
    for arg in args:
        if arg.startswith("-") or not (arg.endswith(".py") or os.path.exists(arg)):
            continue
        if os.path.isdir(arg):
            continue
        if not os.path.exists(arg):
            found.append(f"{arg}: not checked: no such file")
            continue
        source, problem = read_source(arg)
        if source is not None:
            _, problem = parse_source(source, arg)
        if problem is not None:
            found.append(problem)
    return found
