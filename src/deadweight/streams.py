"""How bytes move: the one read size of every streaming copy and hash, the one protocol of
a byte stream, and the window that shows a region of a file as a file of its own.

One MiB a read: large enough that Python's per-call cost vanishes next to inflating and
hashing (1.2 GB/s of sha256 here), small enough that a layer is never held whole.
"""

from __future__ import annotations

import abc
import io
from types import TracebackType
from typing import IO, Any, Protocol, Self, cast

CHUNK = 1 << 20


class ByteStream(Protocol):
    """Bytes read front to back, and all a reader of a layer or a blob uses of them:
    ``read``, ``close`` and ``with``. A file opened ``rb`` is one; so is every reader
    stacked on one (:class:`Window`, ``digest.VerifyingReader``,
    ``compression.Decompressing``, the helpers' spans and tees), which ``Layer.open`` and
    ``Layer.open_blob`` hand out. Those also offer ``readable`` and ``readinto``, so that
    ``io.BufferedReader`` can wrap them; no reader of a stream needs more."""

    def read(self, n: int = -1, /) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> None: ...


def as_file(stream: ByteStream) -> IO[bytes]:
    """``stream`` for a library that types its argument as a whole file but only reads it:
    tarfile's stream mode (``r|``), for which typeshed still asks for write, tell and seek
    (the tests read layers so; deadweight reads them with ``filetree.tarstream``)."""
    return cast("IO[bytes]", stream)


class Reader(abc.ABC):
    """A :class:`ByteStream` stacked on another: a subclass gives ``read`` and ``close``;
    ``with``, ``readable`` and ``readinto`` (what ``io.BufferedReader`` calls) are these."""

    @abc.abstractmethod
    def read(self, n: int = -1, /) -> bytes: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview, /) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
