"""A forward-only reader of tar headers (ustar, pax, GNU), for layer streams.

stdlib ``tarfile`` costs ~50 µs per member (a ``TarInfo`` object, every field decoded,
a 512-byte read per header through its file object); layers hold tens of thousands of
small files, so that, not inflating, was most of an analysis. This reader takes the
stream in 1 MiB chunks, as the stream hands them out (never joined), and reads headers
and small files' data out of them in place.

It reads what Go's ``archive/tar`` (which wrote nearly every layer in existence) reads:
POSIX ustar with its ``prefix``, pax extended headers (``x``) and global ones (``g``),
GNU long names and link names (``L``, ``K``), GNU and star base-256 numbers, and GNU
sparse entries (their stored bytes are skipped; see :class:`Member`). It is stricter than
``tarfile`` where ``tarfile`` is lenient to the point of hiding damage: a bad checksum or
a malformed field anywhere is an error (``tarfile`` stops silently after the first
member), as are a header or data cut short, and extended headers over 1 MiB.
The end of the archive is the first zero block, or the end of the stream at a header
boundary (as Go accepts).
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from deadweight import limits
from deadweight.errors import UnsafeLayer
from deadweight.streams import CHUNK, ByteStream

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
_EMPTY = memoryview(b"")
MAX_SPECIAL = limits.TAR_SPECIAL
# typeflags whose members carry no data whatever their size field says (Go, tarfile)
HEADER_ONLY = frozenset((b"1", b"2", b"3", b"4", b"5", b"6"))
USTAR = b"ustar\x0000"
_SPECIAL = (b"x", b"X", b"g", b"L", b"K")
_NO_NUL = (b"path", b"linkpath", b"uname", b"gname")
_SIGNED = struct.Struct("148b8x356b")

Sink = Callable[[memoryview | bytes], None]


def _drop(_: memoryview | bytes) -> None:
    """The sink of what :meth:`TarStream.skip` passes over."""


class TarError(Exception):
    """The stream is not a valid tar: the message says how (``unexpected end of data``)."""


@dataclass(slots=True)
class Member:
    """One tar header after its extended headers are applied.

    ``type`` is the typeflag byte (``b"0"``, ``b"5"``, ...; ``b"\\0"`` is turned into
    ``b"5"`` for a name ending in ``/`` and ``b"0"`` otherwise). ``size`` is the size of
    the data that follows (pax ``size`` included); ``real_size`` differs from it only for
    a GNU sparse file, whose stored data is its non-hole regions. ``header`` is the raw
    header block and ``pax`` the extended records that applied (for a writer that copies
    the member: its time, device numbers and extended attributes; see :func:`mtime`).
    """

    name: str
    type: bytes
    size: int
    mode: int
    uid: int
    gid: int
    linkname: str
    real_size: int
    sparse: bool = False
    header: bytes = bytes(BLOCK)
    pax: dict[str, str] | None = None

    @property
    def mtime(self) -> int:
        """Seconds since the epoch: pax ``mtime`` (a decimal, maybe with a fraction, as Go
        and tarfile write it) over the header field; 0 for a time that is no number."""
        text = self.pax.get("mtime") if self.pax else None
        if text:
            try:
                value = float(text)
            except ValueError:
                return 0
            return int(value) if math.isfinite(value) else 0
        return number(self.header[136:148])

    @property
    def device(self) -> tuple[int, int]:
        """(major, minor) of a character or block device, else (0, 0)."""
        if self.type not in (b"3", b"4"):
            return 0, 0
        return number(self.header[329:337]), number(self.header[337:345])


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _string(field: bytes) -> str:
    end = field.find(b"\0")
    return _decode(field if end < 0 else field[:end])


def number(field: bytes) -> int:
    """A numeric header field: octal ASCII, or base-256 when the top bit of its first byte
    is set (GNU, star). Padding NULs and spaces on either side are allowed, as in Go."""
    if field[-1] in (0, 32):
        try:
            return int(field[:-1], 8)  # the common "0000644\0"
        except ValueError:
            pass
    if field[0] & 0x80:
        value = int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
        if field[0] & 0x40:  # two's complement, negative
            value -= 1 << (8 * len(field) - 1)
        return value
    text = field.lstrip(b" \0").split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    if not text.isdigit():
        raise TarError("invalid header")
    try:
        return int(text, 8)
    except ValueError:
        raise TarError("invalid header") from None


def _checksum_ok(h: bytes, stored: int) -> bool:
    # adler32's low half is 1 + the byte sum modulo 65521; each piece here sums below that.
    unsigned = (
        (zlib.adler32(h[:148]) & 0xFFFF)
        + (zlib.adler32(h[156:256]) & 0xFFFF)
        + (zlib.adler32(h[256:]) & 0xFFFF)
        - 3
        + 8 * 32  # the checksum field itself counts as spaces
    )
    if stored == unsigned:
        return True
    signed: int = sum(_SIGNED.unpack(h))
    return stored == signed + 8 * 32  # some old tars sum signed chars


_END = (0, 32)


def _numbers(h: bytes) -> tuple[int, int, int, int, int]:
    """mode, uid, gid, size and checksum of a header."""
    if h[107] in _END and h[115] in _END and h[123] in _END and h[135] in _END:
        try:  # the common case: zero-padded octal, each field ending in NUL or space
            return (
                int(h[100:107], 8),
                int(h[108:115], 8),
                int(h[116:123], 8),
                int(h[124:135], 8),
                int(h[148:154], 8) if h[154] == 0 else number(h[148:156]),  # "%06o\0 "
            )
        except ValueError:
            pass
    return (
        number(h[100:108]),
        number(h[108:116]),
        number(h[116:124]),
        number(h[124:136]),
        number(h[148:156]),
    )


def pax_records(data: bytes) -> dict[str, str]:
    """``"%d %s=%s\\n"`` records (POSIX.1-2001 pax); later ones win, empty values kept."""
    out: dict[str, str] = {}
    data = data.rstrip(b"\0")
    pos, end = 0, len(data)
    while pos < end:
        space = data.find(b" ", pos, pos + 21)
        digits = data[pos:space] if space > pos else b""
        if not digits.isdigit():
            raise TarError("invalid pax record length")
        stop = pos + int(digits)
        if stop > end or stop <= space + 1 or data[stop - 1] != 0x0A:
            raise TarError("invalid pax record")
        key, eq, value = data[space + 1 : stop - 1].partition(b"=")
        # Go's validPAXRecord: names and user names hold no NUL, no other key does either
        if not eq or not key or b"\0" in (value if key in _NO_NUL else key):
            raise TarError("invalid pax record")
        out[_decode(key)] = _decode(value)
        pos = stop
    return out


class TarStream:
    """Headers and data of an uncompressed tar stream, read once, front to back."""

    def __init__(self, raw: ByteStream, what: str = "layer") -> None:
        self.raw = raw
        self.what = what
        self.buf = b""
        self.view = _EMPTY
        self.pos = 0
        self.globals: dict[str, str] = {}

    # -- buffer ---------------------------------------------------------------------------
    #
    # ``buf`` is the chunk last read from the stream, exactly as the stream returned it, and
    # ``pos`` how far into it the reader is. Chunks are never joined: only the few bytes of
    # a header (or extended header) that straddles two chunks are copied together.

    def _read(self) -> bytes:
        return self.raw.read(CHUNK)

    def _take(self, n: int) -> bytes | None:
        """The next ``n`` bytes as one object; None if the stream ends before any of them,
        :class:`TarError` if it ends in the middle."""
        start = self.pos
        end = start + n
        if end <= len(self.buf):
            self.pos = end
            return self.buf[start:end]
        parts = [self.buf[start:]] if start < len(self.buf) else []
        need = end - len(self.buf)
        self.buf, self.view, self.pos = b"", _EMPTY, 0
        while need > 0:
            chunk = self._read()
            if not chunk:
                if not parts:
                    return None
                raise TarError("unexpected end of data")
            if len(chunk) > need:
                parts.append(chunk[:need])
                self.buf, self.view, self.pos = chunk, memoryview(chunk), need
                break
            parts.append(chunk)
            need -= len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes (small: headers, extended header data)."""
        if n <= 0:
            return b""
        data = self._take(n)
        if data is None:
            raise TarError("unexpected end of data")
        return data

    def skip(self, n: int) -> None:
        """Pass over ``n`` bytes, reading them (a verifying reader must see every byte)."""
        if n <= len(self.buf) - self.pos:
            self.pos += n  # the common case: in the buffer, no piece to hand out
            return
        self.stream_into(n, _drop)

    def stream_into(self, n: int, sink: Sink) -> None:
        """Feed the next ``n`` bytes to ``sink`` piece by piece, without holding them."""
        have = len(self.buf) - self.pos
        if have >= n:
            sink(self.view[self.pos : self.pos + n])
            self.pos += n
            return
        if have:
            sink(self.view[self.pos :])
        left = n - have
        self.buf, self.view, self.pos = b"", _EMPTY, 0
        while left > 0:
            chunk = self._read()
            if not chunk:
                raise TarError("unexpected end of data")
            if len(chunk) > left:
                view = memoryview(chunk)
                sink(view[:left])
                self.buf, self.view, self.pos = chunk, view, left
                return
            sink(chunk)
            left -= len(chunk)

    def data(self, n: int) -> memoryview | None:
        """The next ``n`` bytes in place when they are already buffered, else None."""
        end = self.pos + n
        if end > len(self.buf):
            return None
        out = self.view[self.pos : end]
        self.pos = end
        return out

    def pad(self, n: int) -> None:
        """Skip the padding after ``n`` bytes of member data."""
        rest = -n % BLOCK
        if rest:
            self.skip(rest)

    # -- headers --------------------------------------------------------------------------

    def _header(self) -> bytes | None:
        """The next 512-byte header block; None at a clean end of the stream."""
        start = self.pos
        end = start + BLOCK
        if end <= len(self.buf):
            self.pos = end
            return self.buf[start:end]
        return self._take(BLOCK)

    def _special(self, size: int, what: str) -> bytes:
        if size < 0 or size > MAX_SPECIAL:
            raise UnsafeLayer(f"{self.what}: tar header declares a {size}-byte {what}")
        data = self.take(size)
        self.pad(size)
        return data

    def next(self) -> Member | None:
        """The next member, or None at the end of the archive."""
        pax: dict[str, str] = {}
        long_name: str | None = None
        long_link: str | None = None
        pending = False
        while True:
            h = self._header()
            if h is None or h == ZERO_BLOCK:
                if pending:
                    raise TarError("unexpected end of data")
                return None
            mode, uid, gid, size, stored = _numbers(h)
            if not _checksum_ok(h, stored):
                raise TarError("bad checksum")
            kind = h[156:157]
            if kind in _SPECIAL:
                data = self._special(size, "extended header")
                if kind in (b"x", b"X"):
                    pax.update(pax_records(data))
                elif kind == b"g":
                    self.globals.update(pax_records(data))
                    continue  # a global header applies to what follows, not one member
                elif kind == b"L":
                    long_name = _string(data)
                else:
                    long_link = _string(data)
                pending = True
                continue
            if self.globals:
                pax = {**self.globals, **pax}
            return self._member(h, kind, (mode, uid, gid, size), pax, long_name, long_link)

    def _member(
        self,
        h: bytes,
        kind: bytes,
        numbers: tuple[int, int, int, int],
        pax: dict[str, str],
        long_name: str | None,
        long_link: str | None,
    ) -> Member:
        name = long_name
        if name is None:
            end = h.find(b"\0", 0, 100)
            name = _decode(h[:end] if end >= 0 else h[:100])
            if h[345] != 0 and h[257:265] == USTAR:
                name = _string(h[345:500]) + "/" + name
        linkname = long_link
        if linkname is None:
            linkname = _string(h[157:257]) if h[157] != 0 else ""
        mode, uid, gid, size = numbers
        sparse = kind == b"S"
        if pax:
            name = pax.get("path") or pax.get("GNU.sparse.name") or name
            linkname = pax.get("linkpath") or linkname
            size = _pax_int(pax, "size", size)
            uid, gid = _pax_int(pax, "uid", uid), _pax_int(pax, "gid", gid)
            sparse = sparse or "GNU.sparse.major" in pax or "GNU.sparse.size" in pax
        if kind == b"\0":
            kind = b"5" if name.endswith("/") else b"0"
        real = size
        if kind == b"S":
            real = number(h[483:495])
            extended = h[482]
            while extended:  # old GNU sparse maps continue in extension blocks
                block = self.take(BLOCK)
                extended = block[504]
        elif sparse:
            real = _pax_int(pax, "GNU.sparse.realsize", _pax_int(pax, "GNU.sparse.size", size))
        return Member(name, kind, size, mode, uid, gid, linkname, real, sparse, h, pax or None)


def _pax_int(pax: dict[str, str], key: str, default: int) -> int:
    """A pax number: ASCII digits only (``str.isdigit`` takes "²" and "٣"), no more than
    :data:`~deadweight.limits.PAX_DIGITS` of them, below 2**63 as in Go's archive/tar."""
    value = pax.get(key)
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > limits.PAX_DIGITS:
        raise TarError(f"invalid pax {key} {value[:30]!r}")
    number = int(value)
    if number >= 1 << 63:
        raise TarError(f"invalid pax {key} {value[:30]!r}")
    return number
