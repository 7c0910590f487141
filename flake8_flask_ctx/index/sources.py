"""Project files as text, read once per process: the cheap look at a module.

Every gate, the project index and the module lookups decide from a file's text whether
it is worth parsing; they share this cache (keyed by path, size and modification time,
so an edited file is read again).
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections import OrderedDict
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Tuple

from ..options.reading import NotReadable, read_regular_file

_TEXT_CACHE: Dict[Tuple[str, int, int], str] = {}
#: The ``ast`` of a text, by (path, length, hash of the text), the most recently used
#: last.  The readers of one module come close together (its export table, its
#: dispatch sites, its outline), and each keeps what it derives: a short memory is
#: enough, and trees are big (a whole project's would double the plugin's memory).
_TREE_CACHE: "OrderedDict[Tuple[str, int, int], Optional[ast.Module]]" = OrderedDict()
MAX_CACHED_TREES = 48


#: The most a module of the project is read for the analysis (bytes).  Bigger files
#: are not followed into (``engine/units.py``'s ``MAX_FOLLOWED_BYTES`` is the same).
MAX_READ_BYTES = 1_000_000

__all__ = ["NotReadable", "read_regular_file"]


def source_text(path: Path) -> Optional[str]:
    """A project file's text, cached by path, size and modification time (the cheap
    look at a module that decides whether it is worth parsing); None: unreadable, not
    a regular file or over ``MAX_READ_BYTES``."""
    try:
        status = os.stat(path)
        key = (str(path), status.st_size, status.st_mtime_ns)
        cached = _TEXT_CACHE.get(key)
        if cached is None:
            if len(_TEXT_CACHE) > 4096:
                _TEXT_CACHE.clear()
            data = read_regular_file(path, MAX_READ_BYTES)
            cached = _TEXT_CACHE[key] = one_line_end(data.decode("utf-8", "replace"))
        return cached
    except (OSError, ValueError):
        return None


def one_line_end(text: str) -> str:
    """``text`` with every line ending (``\r\n``, a lone ``\r``) made ``\n``: the
    gates' regular expressions anchor lines at ``\n`` only, and a file of old-Mac
    line ends would otherwise look like one line (line numbers do not change)."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def source_tree(path: Path) -> Optional[ast.Module]:
    """A project file's ``ast`` (a leading BOM ignored), parsed once per text for every
    ``ast`` reader of ``index/`` (exports, callers, constructions, module sites, the
    outline, the project index); None: unreadable or not parsable."""
    text = source_text(path)
    if text is None:
        return None
    key = (str(path), len(text), hash(text))
    if key in _TREE_CACHE:
        _TREE_CACHE.move_to_end(key)
        return _TREE_CACHE[key]
    tree: Optional[ast.Module]
    try:
        tree = ast.parse(text[1:] if text.startswith("\ufeff") else text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    _TREE_CACHE[key] = tree
    while len(_TREE_CACHE) > MAX_CACHED_TREES:
        _TREE_CACHE.popitem(last=False)
    return tree


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKENS: Dict[Tuple[str, int, int], FrozenSet[str]] = {}


def tokens_of(path: Path) -> Optional[FrozenSet[str]]:
    """The identifiers of a project file's text (None: unreadable): which modules can
    name a word, for the importer search and the semantic gate, without parsing."""
    text = source_text(path)
    if text is None:
        return None
    key = (str(path), len(text), hash(text))
    found = _TOKENS.get(key)
    if found is None:
        if len(_TOKENS) > 8192:
            _TOKENS.clear()
        found = _TOKENS[key] = frozenset(_IDENTIFIER.findall(text))
    return found


def clear_texts() -> None:
    _TEXT_CACHE.clear()
    _TREE_CACHE.clear()
    _TOKENS.clear()


def decode(data: bytes) -> str:
    """Source bytes as Python reads them (coding cookie, BOM); raises on bad bytes."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text
