"""Reading a file of the user's project without ever blocking or reading without end.

Kept in the lowest layer because every layer reads files: the configuration
(``options/config.py``), the project's modules (``index/sources.py``, ``engine/units.py``)
and the files the front ends are given.
"""

from __future__ import annotations

import os
import stat
from typing import List, Optional, Union


class NotReadable(OSError):
    """A path that is not a regular file (a FIFO, a device, a socket) or is bigger
    than the reader's limit: never opened for reading, or not read to the end."""


def read_regular_file(path: Union["os.PathLike[str]", str], limit: Optional[int] = None) -> bytes:
    """The bytes of ``path``, which must be a regular file (of at most ``limit``
    bytes).

    Why not ``Path.read_bytes``: a named pipe (or ``/dev/zero`` behind a symlink) in
    the project blocks or never ends, and the analysis opens modules flake8 never
    opened.  The file is opened without blocking and checked on the open descriptor
    (no window between the check and the read), and never more than ``limit + 1``
    bytes are read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise NotReadable(f"{os.fspath(path)}: not a regular file")
        if limit is not None and status.st_size > limit:
            raise NotReadable(
                f"{os.fspath(path)}: {status.st_size:,} bytes, over the limit of {limit:,}"
            )
        chunks: List[bytes] = []
        total = 0
        while True:
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if limit is not None and total > limit:
                raise NotReadable(f"{os.fspath(path)}: grew over the limit of {limit:,}")
        return b"".join(chunks)
    finally:
        os.close(descriptor)
