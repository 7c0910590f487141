"""Why a file given to the standalone command could not be checked, in one line.

flake8 says E902 (cannot read) and E999 (cannot parse) for these; the standalone
command and ``--fix``/``--diff`` have no other channel than a line on stderr and exit
status 2, so every mode asks the same two questions here and words the answer the same
way.
"""

from __future__ import annotations

import ast
import sys
from typing import Optional, Tuple

from ..index.sources import decode
from ..options.reading import NotReadable, read_regular_file


def read_source(path: str) -> Tuple[Optional[str], Optional[str]]:
    """The text of ``path`` (decoded by its coding cookie, BOM removed, line endings
    untouched), or why it cannot be read: never blocks on a FIFO or a device."""
    try:
        return decode(read_regular_file(path)), None
    except NotReadable:
        return None, f"{path}: not checked: not a regular file"
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as error:
        return None, f"{path}: not checked: cannot read it: {error}"


def parse_source(source: str, display: str) -> Tuple[Optional[ast.AST], Optional[str]]:
    """The module's ``ast``, or why Python cannot parse it."""
    try:
        return ast.parse(source[1:] if source.startswith("\ufeff") else source), None
    except SyntaxError as error:
        where = f"{display}:{error.lineno}" if error.lineno else display
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        return None, f"{where}: not checked: Python {version} cannot parse it: {error.msg}"
    except (ValueError, RecursionError, MemoryError) as error:  # NUL bytes, depth
        return None, f"{display}: not checked: cannot parse it: {error}"
