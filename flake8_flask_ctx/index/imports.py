"""What an import statement means, read from text alone.

Both the ``ast`` index (``exports.py``) and the LibCST units (``engine/units.py``) turn
``from ..a import b`` into absolute names and ask "may this module re-export that name?",
so the answers live in this leaf module, which imports nothing of the package: the index
and the engine both depend on it without depending on each other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Set, Tuple

from .sources import source_text

#: How many ``from .a import b`` re-exports one lookup follows (cycles stop here too).
MAX_REEXPORT_HOPS = 8


def resolve_relative(
    module: Optional[str], is_package: bool, dots: int, rest: str
) -> Optional[str]:
    """``from ..a import b`` in module ``module``: the absolute ``pkg.a`` (``rest`` is the
    part after the dots; ``None`` when the dots climb above the top package)."""
    if module is None:
        return None
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if dots - 1 > len(parts):
        return None
    kept = parts[: len(parts) - (dots - 1)]
    return ".".join([*kept, rest] if rest else kept) or None


_IMPORT_STATEMENT = re.compile(
    r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*(\([^)]*\)|[^\n]*)|import[ \t]+[^\n]*)",
    re.MULTILINE,
)


_IMPORTED_WORD = re.compile(r"(?<![\w.])\w+")


#: Per module text: the words its import statements may bind, and whether one of them
#: is a star import.  Every lookup of every name asked the same module again.
_IMPORTED_WORDS: Dict[Tuple[int, int], Tuple[FrozenSet[str], bool]] = {}


def may_reexport(text: str, name: Optional[str]) -> bool:
    """Whether a module's import statements may bind ``name`` (by name or ``*``)."""
    if not name or "import" not in text:
        return False
    words, star = _imported_words(text)
    return star or name in words


def _imported_words(text: str) -> Tuple[FrozenSet[str], bool]:
    key = (len(text), hash(text))
    found = _IMPORTED_WORDS.get(key)
    if found is None:
        words: Set[str] = set()
        star = False
        for statement in _IMPORT_STATEMENT.finditer(text):
            imported = statement.group(0).split("import", 1)[1]
            star = star or "*" in imported
            words.update(_IMPORTED_WORD.findall(imported))
        if len(_IMPORTED_WORDS) > 4096:
            _IMPORTED_WORDS.clear()
        found = _IMPORTED_WORDS[key] = (frozenset(words), star)
    return found


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


def imported_modules(path: Path, dotted: str) -> Set[str]:
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
