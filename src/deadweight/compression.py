"""Layer compression: sniff by magic bytes, decompress as a stream.

Media types lie (podman labels uncompressed tars ``+gzip``), so the magic bytes decide.
File-like readers are used on purpose: decompressor objects stop after the first gzip
member or zstd frame and would silently truncate eStargz and zstd:chunked layers.
"""

from __future__ import annotations

import gzip
import io
from typing import Any, BinaryIO, Literal

from deadweight.errors import CorruptImage, UnsafeLayer

_gzip_impl: Any
try:  # isal inflates 2x faster than zlib; stdlib gzip is the fallback
    from isal import igzip as _gzip_impl
except ImportError:  # pragma: no cover - exercised only without isal
    _gzip_impl = gzip

try:
    from backports import zstd as _zstd
except ImportError:  # pragma: no cover - Python 3.14 ships it
    from compression import zstd as _zstd  # type: ignore[import-not-found,no-redef]

Kind = Literal["gzip", "zstd", "none"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# A layer that inflates to more than this many times its stored size, past a floor that
# real layers of zero-filled files can reach, is treated as a decompression bomb. gzip
# cannot exceed ~1032:1, so for gzip this fires only on (nearly) pure zeros; zstd bombs
# reach 30000:1. Streaming keeps memory flat either way: the guard bounds time.
BOMB_RATIO = 1000
BOMB_FLOOR = 4 << 30


def sniff(head: bytes) -> Kind:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


class _Peek(io.RawIOBase):
    """Put back the first bytes we read to sniff, for non-seekable streams."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._raw.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Guarded(io.RawIOBase):
    """Decompressed stream that fails cleanly on truncation, corruption or bombs."""

    def __init__(self, inner: BinaryIO, counter: _Counting, what: str) -> None:
        self._inner = inner
        self._counter = counter
        self._what = what
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(b))
        except EOFError as exc:
            raise CorruptImage(f"{self._what}: truncated compressed stream") from exc
        except (OSError, ValueError) as exc:
            if isinstance(exc, CorruptImage):
                raise
            raise CorruptImage(f"{self._what}: corrupt compressed stream ({exc})") from exc
        except Exception as exc:  # zstd raises its own ZstdError
            if type(exc).__name__ == "ZstdError":
                raise CorruptImage(f"{self._what}: corrupt zstd stream ({exc})") from exc
            raise
        self.out += len(data)
        if self.out > BOMB_FLOOR and self.out > BOMB_RATIO * max(self._counter.count, 1):
            raise UnsafeLayer(
                f"{self._what}: decompression bomb: {self._counter.count} bytes inflate "
                f"to more than {self.out}"
            )
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        self._counter.close()
        super().close()


class _Counting(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        self.count += len(data)
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def decompressed(raw: BinaryIO, what: str = "layer") -> tuple[Kind, BinaryIO]:
    """Sniff ``raw`` and return (kind, a stream of its uncompressed bytes).

    Uncompressed seekable input is returned as it is, so tar readers can seek past data.
    """
    seekable = False
    try:
        seekable = raw.seekable()
    except (AttributeError, ValueError):
        seekable = False
    if seekable:
        start = raw.tell()
        head = raw.read(4)
        raw.seek(start)
        source: BinaryIO = raw
    else:
        head = raw.read(4)
        source = io.BufferedReader(_Peek(head, raw), 1 << 16)
    kind = sniff(head)
    if kind == "none":
        return kind, source
    counter = _Counting(source)
    inner: Any
    if kind == "gzip":
        inner = _gzip_impl.GzipFile(fileobj=counter, mode="rb")
    else:
        inner = _zstd.ZstdFile(counter, mode="rb")
    guarded = _Guarded(inner, counter, what)
    return kind, io.BufferedReader(guarded, 1 << 20)
