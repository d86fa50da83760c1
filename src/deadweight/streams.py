"""How bytes move: the one read size of every streaming copy and hash, and the window that
shows a region of a file as a file of its own.

One MiB a read: large enough that Python's per-call cost vanishes next to inflating and
hashing (1.2 GB/s of sha256 here), small enough that a layer is never held whole.
"""

from __future__ import annotations

import io
from typing import IO, Any

CHUNK = 1 << 20


class Window(io.RawIOBase):
    """``size`` bytes of the open file ``f`` from ``start``, as a read-only seekable file of
    their own. Every read seeks ``f`` first, so several windows may share one file."""

    def __init__(self, f: IO[bytes], start: int, size: int) -> None:
        self._f, self._start, self._size, self._pos = f, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._size)[whence]
        self._pos = max(0, min(self._size, base + offset))
        return self._pos

    def readinto(self, b: Any) -> int:
        n = min(len(b), self._size - self._pos)
        if n <= 0:
            return 0
        self._f.seek(self._start + self._pos)
        data = self._f.read(n)
        if not data:
            self.short()
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def short(self) -> None:
        """Called when the file ends inside the window: the read returns what it got."""
