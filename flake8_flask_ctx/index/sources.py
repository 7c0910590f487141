"""Project files as text, read once per process: the cheap look at a module.

Every gate, the project index and the module lookups decide from a file's text whether
it is worth parsing; they share this cache (keyed by path, size and modification time,
so an edited file is read again).
"""

from __future__ import annotations

import ast
import io
import os
import tokenize
from pathlib import Path
from typing import Dict, Optional, Tuple

_TEXT_CACHE: Dict[Tuple[str, int, int], str] = {}
#: The ``ast`` of a text, by (path, length, hash of the text).
_TREE_CACHE: Dict[Tuple[str, int, int], Optional[ast.Module]] = {}


def source_text(path: Path) -> Optional[str]:
    """A project file's text, cached by path, size and modification time (the cheap
    look at a module that decides whether it is worth parsing)."""
    try:
        stat = os.stat(path)
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        cached = _TEXT_CACHE.get(key)
        if cached is None:
            if len(_TEXT_CACHE) > 4096:
                _TEXT_CACHE.clear()
            cached = _TEXT_CACHE[key] = path.read_bytes().decode("utf-8", "replace")
        return cached
    except OSError:
        return None


def source_tree(path: Path) -> Optional[ast.Module]:
    """A project file's ``ast`` (a leading BOM ignored), parsed once per text for every
    ``ast`` reader of ``index/`` (exports, callers, constructions, module sites, the
    outline, the project index); None: unreadable or not parsable."""
    text = source_text(path)
    if text is None:
        return None
    key = (str(path), len(text), hash(text))
    if key not in _TREE_CACHE:
        if len(_TREE_CACHE) > 1024:
            _TREE_CACHE.clear()
        try:
            _TREE_CACHE[key] = ast.parse(text[1:] if text.startswith("\ufeff") else text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            _TREE_CACHE[key] = None
    return _TREE_CACHE[key]


def clear_texts() -> None:
    _TEXT_CACHE.clear()
    _TREE_CACHE.clear()


def decode(data: bytes) -> str:
    """Source bytes as Python reads them (coding cookie, BOM); raises on bad bytes."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text
