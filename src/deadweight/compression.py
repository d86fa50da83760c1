"""Layer compression: sniff by magic bytes, decompress as a stream.

Media types lie (podman labels uncompressed tars ``+gzip``), so the magic bytes decide.
Every gzip member and every zstd frame is read, one after the other: eStargz and
zstd:chunked layers are many of them, and stopping after the first would silently
truncate the layer.

:class:`Decompressing` drives the decompressor objects itself rather than stacking file
objects (``GzipFile`` over a counting reader, under a buffered reader...): each chunk it
hands out is the decompressor's own output, never copied, and a read costs one call into
the decompressor, which releases the GIL while it inflates. That matters when layers are
read by threads while another parses.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from typing import Any, Literal

from deadweight import limits
from deadweight.digest import VerifyingReader
from deadweight.errors import CorruptImage, UnsafeLayer
from deadweight.streams import ByteStream, Reader

_inflater: Callable[[], Any]
_GZIP_ERRORS: tuple[type[BaseException], ...]
try:  # isal inflates 2x faster than zlib; zlib is the fallback
    from isal import isal_zlib as _isal_zlib

    def _inflater() -> Any:
        return _isal_zlib.decompressobj(wbits=31)

    _GZIP_ERRORS = (_isal_zlib.error, zlib.error)  # type: ignore[assignment]
except ImportError:  # pragma: no cover - exercised only without isal

    def _inflater() -> Any:
        return zlib.decompressobj(wbits=31)

    _GZIP_ERRORS = (zlib.error,)

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
BOMB_RATIO = limits.BOMB_RATIO
BOMB_FLOOR = limits.BOMB_FLOOR

# Compressed bytes read from the source at a time; a chunk inflates to a MiB or two. Reads
# of about a MiB keep what the decompressor wrote in the CPU cache for the hash that
# follows, and let malloc reuse freed buffers: chunks of several MiB were mapped afresh
# for every read (a page fault per 4 KiB, a third more CPU time in all).
IN_CHUNK = 256 << 10
# What ``read()`` without a size hands out per decompressor call.
OUT_CHUNK = 1 << 20


def sniff(head: bytes) -> Kind:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


class _Peek(Reader):
    """Put back the first bytes read to sniff, for non-seekable uncompressed streams."""

    def __init__(self, head: bytes, raw: ByteStream) -> None:
        self._head = head
        self._raw = raw

    def read(self, n: int = -1, /) -> bytes:
        head = self._head
        if not head:
            return self._raw.read(n)
        if n is None or n < 0:
            self._head = b""
            return head + self._raw.read()
        if n == 0:
            return b""
        self._head = head[n:]
        return head[:n]

    def close(self) -> None:
        self._raw.close()


class Decompressing(Reader):
    """The uncompressed bytes of a gzip or zstd stream: every member or frame in turn.

    A read returns at most ``n`` bytes, fewer when that is what one call into the
    decompressor gave (callers loop, as for any raw stream), and ``b""`` only at the end.
    Truncation and corruption raise :class:`CorruptImage`, a decompression bomb
    :class:`UnsafeLayer`; ``head`` is what was already read from ``raw`` to sniff it.
    """

    def __init__(
        self, raw: ByteStream, kind: Literal["gzip", "zstd"], what: str, head: bytes = b""
    ):
        self._raw = raw
        self._gzip = kind == "gzip"
        self._what = what
        self._d: Any = _inflater() if self._gzip else _zstd.ZstdDecompressor()
        self._input = head  # read from raw, not yet given to the decompressor
        self.count = len(head)  # compressed bytes read from raw
        self.out = 0  # bytes handed out
        self._ended = False

    def read(self, n: int = -1, /) -> bytes:
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(OUT_CHUNK), b""))
        if n == 0 or self._ended:
            return b""
        try:
            data = self._inflate(n) if self._gzip else self._unzstd(n)
        except EOFError as exc:
            self._blame_the_blob()
            raise CorruptImage(f"{self._what}: truncated compressed stream") from exc
        except _GZIP_ERRORS as exc:
            self._blame_the_blob()
            raise CorruptImage(f"{self._what}: corrupt compressed stream ({_why(exc)})") from exc
        except _zstd.ZstdError as exc:
            self._blame_the_blob()
            raise CorruptImage(f"{self._what}: corrupt zstd stream ({exc})") from exc
        if not data:
            self._ended = True
            return data
        out = self.out = self.out + len(data)
        if out > BOMB_FLOOR and out > BOMB_RATIO * max(self.count, 1):
            raise UnsafeLayer(
                f"{self._what}: decompression bomb: {self.count} bytes inflate to more than {out}"
            )
        return data

    def _blame_the_blob(self) -> None:
        """A stream that does not inflate is most often a blob that is not what its
        descriptor says: when the source verifies a digest, read it to the end (bounded
        by the descriptor's size) so that a mismatch is reported as one (DigestMismatch)
        rather than as whatever the decompressor tripped on."""
        if isinstance(self._raw, VerifyingReader):
            while self._raw.read(IN_CHUNK):
                pass

    def _more(self) -> bytes:
        data = self._raw.read(IN_CHUNK)
        self.count += len(data)
        return data

    def _inflate(self, n: int) -> bytes:
        d = self._d
        while True:
            if d.eof:  # the next gzip member, after any zero padding (as gzip allows)
                rest = d.unused_data.lstrip(b"\0")
                while not rest:
                    more = self._more()
                    if not more:
                        return b""
                    rest = more.lstrip(b"\0")
                d = self._d = _inflater()
                self._input = rest
            elif not self._input:
                self._input = self._more()
                if not self._input:
                    raise EOFError
            data: bytes = d.decompress(self._input, n)
            self._input = d.unconsumed_tail
            if data:
                return data

    def _unzstd(self, n: int) -> bytes:
        d = self._d
        while True:
            if d.eof:  # the next frame
                rest = d.unused_data or self._more()
                if not rest:
                    return b""
                d = self._d = _zstd.ZstdDecompressor()
            elif self._input:
                rest, self._input = self._input, b""
            elif d.needs_input:
                rest = self._more()
                if not rest:
                    raise EOFError
            else:
                rest = b""
            data: bytes = d.decompress(rest, n)
            if data:
                return data

    def close(self) -> None:
        self._d = None
        self._raw.close()


def _why(exc: BaseException) -> str:
    text = str(exc)
    if "checksum" in text or "data check" in text or "length check" in text:
        return f"CRC check failed in a gzip member: {text}"
    return text


def decompressed(raw: ByteStream, what: str = "layer") -> tuple[Kind, ByteStream]:
    """Sniff ``raw`` and return (kind, a stream of its uncompressed bytes).

    Uncompressed seekable input (a file, a window on one) is returned as it is, so tar
    readers can seek past data.
    """
    seekable = False
    try:
        seekable = isinstance(raw, io.IOBase) and raw.seekable()
    except ValueError:
        seekable = False
    if isinstance(raw, io.IOBase) and seekable:
        start = raw.tell()
        head = raw.read(4)
        raw.seek(start)
        kind = sniff(head)
        if kind == "none":
            return kind, raw
        head = b""
    else:
        head = raw.read(4)
        while 0 < len(head) < 4 and (more := raw.read(4 - len(head))):
            head += more  # a pipe may hand out fewer bytes than asked
        kind = sniff(head)
        if kind == "none":
            return kind, _Peek(head, raw)
    return kind, Decompressing(raw, kind, what, head)


def layer_stream(
    raw: ByteStream,
    *,
    blob_digest: str = "",
    blob_size: int | None = None,
    diff_id: str = "",
    verify: bool = True,
    check_diff_id: bool = True,
    blob_hashed: bool = False,
) -> ByteStream:
    """The uncompressed tar stream of a layer blob read from ``raw``, verified as it is read.

    With ``verify``, reading to the end checks the blob's digest and size (when
    ``blob_digest`` is known; only its size with ``blob_hashed``: another process hashes
    the blob) and, unless ``check_diff_id`` is off (another process hashes the tar), the
    tar's ``diff_id``. This is the whole of ``Layer.open``; the helper processes
    (:mod:`deadweight.reading._helper`) run it too.
    """
    if verify and blob_digest:
        raw = VerifyingReader(
            raw, blob_digest, blob_size, what=f"layer {blob_digest[:19]}", hashing=not blob_hashed
        )
    kind, stream = decompressed(raw, what=f"layer {diff_id[:19]}")
    if kind == "none" and blob_digest == diff_id:
        return stream  # the blob check above already verifies the diff_id
    if not verify or not check_diff_id:
        return stream
    return VerifyingReader(stream, diff_id, None, what=diff_id_what(diff_id))


def diff_id_what(diff_id: str) -> str:
    """How a digest mismatch of a layer's uncompressed tar names it."""
    return f"layer {diff_id[:19]} (uncompressed)"
