"""Other modules, cut to what reach can enter: the module text with every top-level
``def``/``class`` that no lookup needs replaced by empty lines.

Why: reach parses each project module it enters with LibCST, and that parse (plus the
engine's walk of the tree) was most of what the plugin cost on applications whose views
call into large modules: changedetection.io's ``flask_app.py`` entered 19 of them to
look at a handful of functions.  A LibCST parse of the needed part costs what the part
is, not what the module is.

What is kept is closed over names, by text: every statement that is not a top-level
``def``/``class`` (imports, assignments, module-level ``if``/``try`` blocks: the
bindings every function body resolves through), the ``def``/``class`` statements
looked up, and every ``def``/``class`` whose name appears as a word in anything kept,
transitively.  A word is any identifier in the text (comments and strings included),
so the cut can keep too much, never too little: whatever a kept function calls, decorates
with, derives from or refers to by name is kept.  The cut statements'
lines are left out of the parsed text, and the unit maps each of its lines back
to the file's (``ModuleIndex.line``); columns do not change.

A lookup of a name that was cut grows the kept set (``ModuleUnit.lookup``); after a few
growths the whole module is used.  Python's ``ast`` finds the statements (ten times
cheaper than LibCST).  Nothing here knows Flask.
"""

from __future__ import annotations

import ast
import re
from typing import FrozenSet, Iterable, List, NamedTuple, Optional, Set, Tuple

_WORD = re.compile(r"[^\W\d]\w*")
#: Lines as Python counts them (``str.splitlines`` also splits at form feeds and
#: other separators the tokenizer does not count).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> List[str]:
    """The text's lines with their line ends, numbered as Python numbers them."""
    return _LINE.findall(text)


class _Statement(NamedTuple):
    """A top-level ``def``/``class``: its name, first line (decorators included) and
    last line (1-based, inclusive), and the words of its text."""

    name: str
    first: int
    last: int
    words: FrozenSet[str]


class Outline:
    """The top-level ``def``/``class`` statements of one module's text."""

    def __init__(self, text: str, tree: Optional[ast.Module] = None) -> None:
        """``tree``: the text's ``ast`` if the caller has it.  Raises
        ``SyntaxError``/``ValueError``/``RecursionError`` for text Python cannot parse
        (the caller then parses nothing)."""
        if tree is None:
            tree = ast.parse(text)
        self.lines: List[str] = split_lines(text)
        self.statements: List[_Statement] = []
        covered = [False] * (len(self.lines) + 2)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            last = node.end_lineno or node.lineno
            text_of = "".join(self.lines[first - 1:last])
            self.statements.append(
                _Statement(node.name, first, last, frozenset(_WORD.findall(text_of)))
            )
            for line in range(first, last + 1):
                covered[line] = True
        #: Words of everything that is never cut.
        self.base_words: FrozenSet[str] = frozenset(
            word
            for number, line in enumerate(self.lines, start=1)
            if not covered[number]
            for word in _WORD.findall(line)
        )
        self.names: FrozenSet[str] = frozenset(s.name for s in self.statements)

    def kept(self, wanted: Iterable[str]) -> FrozenSet[int]:
        """The statements (indexes) to keep for lookups of ``wanted``: those named by
        them or by any word of what is kept, transitively."""
        names: Set[str] = set(self.base_words) | set(wanted)
        kept: Set[int] = set()
        changed = True
        while changed:
            changed = False
            for index, statement in enumerate(self.statements):
                if index not in kept and statement.name in names:
                    kept.add(index)
                    names |= statement.words
                    changed = True
        return frozenset(kept)

    def kept_names(self, kept: FrozenSet[int]) -> FrozenSet[str]:
        return frozenset(self.statements[index].name for index in kept)

    def source(self, kept: FrozenSet[int]) -> Optional[Tuple[str, List[int]]]:
        """The text without the statements not in ``kept``, and the line in the file
        of each of its lines; None: nothing is cut (use the file's own text).  The
        lines are left out, not blanked: LibCST makes a node of every empty line."""
        if len(kept) == len(self.statements):
            return None
        dropped = [False] * (len(self.lines) + 2)
        for index, statement in enumerate(self.statements):
            if index not in kept:
                for number in range(statement.first, statement.last + 1):
                    dropped[number] = True
        lines: List[str] = []
        numbers: List[int] = []
        for number, line in enumerate(self.lines, start=1):
            if not dropped[number]:
                lines.append(line)
                numbers.append(number)
        return "".join(lines), numbers
