"""``python -m flake8_flask_ctx``: the standalone command.

With ``-m``, Python puts the working directory first on ``sys.path``; run from a project
that holds a ``threading.py`` or a ``concurrent/`` package, the imports below would load
the project's code instead of the standard library's and run it.  The package is already
imported (its ``__init__`` imports nothing that can be shadowed), so that first entry is
taken off the path before anything else is imported; ``python -P -m`` and the console
scripts never put it there.  Only the entry ``-m`` added goes: the same directory later
on the path (a virtualenv's site-packages as the working directory) is the user's own
choice.
"""

import os
import sys
from typing import List


def without_working_directory(path: List[str]) -> List[str]:
    """``path`` without the working directory ``-m`` put first."""
    if path and os.path.realpath(path[0] or ".") == os.path.realpath(os.getcwd()):
        return path[1:]
    return list(path)


if __name__ == "__main__":
    sys.path[:] = without_working_directory(sys.path)
    from flake8_flask_ctx.frontends.cli import main

    sys.exit(main())
