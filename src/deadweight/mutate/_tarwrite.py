"""A tar writer for squashed layers: the bytes stdlib ``tarfile`` writes in PAX format,
without a ``TarInfo`` per member.

``tarfile.TarFile.addfile`` costs ~100 µs a member (a ``TarInfo``, a dict of its fields,
a pax check per field); a layer of a million empty files spent most of its squash there
(issue 16). :func:`header` builds the common header (ASCII names that fit, numbers that
fit, no extended attributes) directly; every other header is built by ``tarfile`` itself.
Either way the bytes are ``TarInfo.tobuf(PAX_FORMAT)``'s (a test compares them), so a
layer's diff_id does not depend on which path wrote it.
"""

from __future__ import annotations

import tarfile
import zlib
from typing import IO

from deadweight.errors import CorruptImage
from deadweight.streams import CHUNK

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE

_NUL = b"\0"
_MAGIC = tarfile.POSIX_MAGIC
_NAMES = 32 * _NUL + 32 * _NUL  # uname, gname: always dropped
_NO_DEVICE = 8 * _NUL + 8 * _NUL
_TAIL = 155 * _NUL + 12 * _NUL  # the prefix; a header is 500 bytes padded to the block
_CONSTANT = 8 * 32 + sum(_MAGIC)  # the checksum field counts as spaces; the magic
_SMALL = 8**7  # octal fields of 8 bytes hold less than this
_LARGE = 8**11  # and of 12 bytes
_DEVICES = (tarfile.CHRTYPE, tarfile.BLKTYPE)


def _field(text: str, width: int) -> bytes | None:
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    if len(raw) > width:
        return None
    return raw + (width - len(raw)) * _NUL


def header(
    name: str,
    type: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    linkname: str = "",
    device: tuple[int, int] = (0, 0),
    pax: dict[str, str] | None = None,
) -> bytes:
    """The header block(s) of one member, as ``TarInfo.tobuf(PAX_FORMAT)`` writes them
    (``uname``/``gname`` empty; ``pax`` the extended records to keep)."""
    if type == tarfile.DIRTYPE and not name.endswith("/"):
        name += "/"
    fast = (
        not pax
        and 0 <= uid < _SMALL
        and 0 <= gid < _SMALL
        and 0 <= size < _LARGE
        and 0 <= mtime < _LARGE
        and (type not in _DEVICES or (0 <= device[0] < _SMALL and 0 <= device[1] < _SMALL))
    )
    raw_name = _field(name, 100) if fast else None
    raw_link = _field(linkname, 100) if raw_name is not None else None
    if raw_name is None or raw_link is None:
        return _slow(name, type, mode, uid, gid, size, mtime, linkname, device, pax)
    devices = b"%07o\0%07o\0" % device if type in _DEVICES else _NO_DEVICE
    numbers = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode & 0o7777, uid, gid, size, mtime)
    first = raw_name + numbers  # the fields before the checksum
    last = type + raw_link + devices  # the other fields that are not constant
    # adler32's low half is 1 + the byte sum (mod 65521); each part sums below that
    checksum = (zlib.adler32(first) & 0xFFFF) + (zlib.adler32(last) & 0xFFFF) - 2 + _CONSTANT
    return b"".join((first, b"%06o\0 " % checksum, last[:101], _MAGIC, _NAMES, last[101:], _TAIL))


# a template: the fields before the checksum but the name, the fields after it, and the
# byte sum of both with the checksum field counted as spaces
_Template = tuple[bytes, bytes, int]
_TEMPLATES = 4096  # distinct headers but the name kept at once (sizes and times vary)


class Headers:
    """:func:`header`, from a template per distinct set of fields but the name.

    A layer of a million files has a handful of distinct headers but the name: the
    template holds every field but the name and its byte sum, so a member's header is its
    name, the template and a checksum (issue 16: ~4 µs a header down to ~1 µs). The bytes
    are :func:`header`'s (a test compares them)."""

    def __init__(self) -> None:
        self._made: dict[tuple[object, ...], _Template | None] = {}

    def header(
        self,
        name: str,
        type: bytes,
        mode: int,
        uid: int,
        gid: int,
        size: int,
        mtime: int,
        linkname: str = "",
        device: tuple[int, int] = (0, 0),
        pax: dict[str, str] | None = None,
    ) -> bytes:
        if pax:
            return header(name, type, mode, uid, gid, size, mtime, linkname, device, pax)
        key = (type, mode, uid, gid, size, mtime, linkname, device)
        made = self._made
        if key in made:
            template = made[key]
        else:
            if len(made) >= _TEMPLATES:
                made.clear()
            template = made[key] = _template(type, mode, uid, gid, size, mtime, linkname, device)
        if template is not None:
            if type == tarfile.DIRTYPE and not name.endswith("/"):
                name += "/"
            if name.isascii():
                raw = name.encode("ascii")
                if len(raw) <= 100:
                    numbers, rest, total = template
                    # adler32's low half is 1 + the byte sum (mod 65521): a name sums below
                    checksum = (zlib.adler32(raw) & 0xFFFF) - 1 + total
                    return b"".join(
                        (raw, (100 - len(raw)) * _NUL, numbers, b"%06o\0 " % checksum, rest)
                    )
        return header(name, type, mode, uid, gid, size, mtime, linkname, device)


def _template(
    type: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    linkname: str,
    device: tuple[int, int],
) -> _Template | None:
    """The template of a header without extended records, or None where :func:`header`
    writes it another way (numbers or a link that do not fit)."""
    fast = (
        0 <= uid < _SMALL
        and 0 <= gid < _SMALL
        and 0 <= size < _LARGE
        and 0 <= mtime < _LARGE
        and (type not in _DEVICES or (0 <= device[0] < _SMALL and 0 <= device[1] < _SMALL))
    )
    raw_link = _field(linkname, 100) if fast else None
    if raw_link is None:
        return None
    devices = b"%07o\0%07o\0" % device if type in _DEVICES else _NO_DEVICE
    numbers = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode & 0o7777, uid, gid, size, mtime)
    last = type + raw_link + devices
    rest = b"".join((last[:101], _MAGIC, _NAMES, last[101:], _TAIL))
    total = sum(numbers) + sum(last) + _CONSTANT
    return numbers, rest, total


def _slow(
    name: str,
    type: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    linkname: str,
    device: tuple[int, int],
    pax: dict[str, str] | None,
) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid = type, mode, uid, gid
    info.size, info.mtime, info.linkname = size, mtime, linkname
    info.devmajor, info.devminor = device
    info.uname = info.gname = ""
    info.pax_headers = dict(pax or {})
    try:
        return info.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "surrogateescape")
    except ValueError as exc:  # device numbers: pax has no record for them
        raise CorruptImage(f"/{name}: cannot be written to a tar ({exc})") from exc


class TarWriter:
    """Members appended to ``out``, then the end-of-archive blocks and the padding to a
    whole record, as ``tarfile`` closes an archive. Headers are gathered and written a
    megabyte at a time (a layer of empty files is all headers)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.offset = 0
        self.pending: list[bytes] = []
        self.held = 0

    def _flush(self) -> None:
        if self.pending:
            self.out.write(b"".join(self.pending))
            self.pending.clear()
            self.held = 0

    def add(self, head: bytes, data: IO[bytes] | bytes | None = None, size: int = 0) -> None:
        """One member: its header, then ``size`` bytes of ``data`` (a file read from its
        current position, or the bytes themselves) and the padding to a block."""
        self.pending.append(head)
        self.held += len(head)
        self.offset += len(head)
        if size and data is not None:
            if isinstance(data, bytes):
                self.pending.append(data)
                self.held += len(data)
            else:
                self._flush()
                left = size
                while left:
                    chunk = data.read(min(left, CHUNK))
                    if not chunk:
                        raise OSError("the spooled file data ended early")
                    self.out.write(chunk)
                    left -= len(chunk)
            rest = -size % BLOCK
            if rest:
                self.pending.append(rest * _NUL)
            self.held += rest
            self.offset += size + rest
        if self.held >= CHUNK:
            self._flush()

    def close(self) -> None:
        end = 2 * BLOCK + -(self.offset + 2 * BLOCK) % RECORD
        self.pending.append(end * _NUL)
        self.offset += end
        self._flush()
