"""What an import statement means, read from text alone.

Both the ``ast`` index (``exports.py``) and the LibCST units (``engine/units.py``) turn
``from ..a import b`` into absolute names and ask "may this module re-export that name?",
so the answers live in this leaf module, which imports nothing of the package: the index
and the engine both depend on it without depending on each other.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Optional, Set, Tuple

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
