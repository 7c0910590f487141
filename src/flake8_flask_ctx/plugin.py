"""The flake8 adapter: thin on purpose.

flake8 chooses a plugin's inputs by its ``__init__`` parameter names.  ``tree`` is
taken only so flake8 treats this as an AST plugin (it is not used); the analysis
parses ``lines`` with LibCST, because ``filename`` is only a label with stdin.
Nothing may escape ``run()``: an exception there aborts the user's whole flake8
run, so any internal failure becomes one FCX999 at line 1.
"""

from __future__ import annotations

import ast
from typing import Any, Iterator, Sequence, Tuple, Type

from . import __version__
from .check import check_source
from .codes import failure_message

Report = Tuple[int, int, str, Type[Any]]


class Plugin:
    name = "flake8-flask-ctx"
    version = __version__

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str = "stdin") -> None:
        self._lines = lines
        self._filename = filename

    def run(self) -> Iterator[Report]:
        try:
            findings = check_source("".join(self._lines))
        except Exception as error:  # the FCX999 shield: never crash flake8
            yield (1, 0, failure_message(error), type(self))
            return
        for finding in findings:
            yield (finding.line, finding.column, finding.message, type(self))
