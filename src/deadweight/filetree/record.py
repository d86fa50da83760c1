"""A delta's record in the layer store (:meth:`LayerDelta.to_bytes`), decoded a batch of
entries at a time, and written a batch at a time (:class:`RecordWriter`).

Decoded in one call, a record makes every entry's objects at once, among them an int for
each mode and a digest string for each empty file (``delta.shared`` makes those one object
each, but only afterwards), while the encoded bytes are still held: for a layer of a
million empty files, 77 MB of record and 113 MB of digests that are dropped at once
(issue 16). Here the record's structure is parsed first (msgspec's ``Raw``: each entry a
view of the record's bytes, nothing copied), then its entries are decoded
:data:`BATCH` at a time and shared as they come, so what a batch drops is reused by the
next. The format and the validation are :meth:`LayerDelta.to_bytes`'s and msgspec's, as
a whole decode would apply them.
"""

from __future__ import annotations

import itertools
import mmap
import os
from typing import IO, cast

import msgspec

from deadweight.filetree.delta import FORMAT_VERSION, Captured, LayerDelta, Sharing
from deadweight.filetree.entry import Entry, Unsafe

# Entries decoded at a time: large enough that a call's cost is nothing beside its work.
BATCH = 4096
# Bytes of a mapped record's decoded entries given back at a time.
GIVE_BACK = 1 << 20

Buffer = bytes | bytearray | memoryview | mmap.mmap


class _Head(msgspec.Struct):
    v: int
    delta: msgspec.Raw


class _Parts(msgspec.Struct):
    """:class:`LayerDelta`, field for field, its entries left encoded (a test holds the
    two to the same fields)."""

    entries: list[msgspec.Raw] = []
    whiteouts: tuple[str, ...] = ()
    opaques: tuple[str, ...] = ()
    unsafe: tuple[Unsafe, ...] = ()
    captured: tuple[Captured, ...] = ()
    size: int = 0
    hash: str = ""


_ENTRIES = msgspec.json.Decoder(list[Entry])
_OPEN = b'"entries":['  # where a record's entries begin


class _Pages:
    """The pages of a map of the record that its decoded entries lie in, given back as the
    entries are decoded (``madvise``: the file's pages stay in the page cache, this process
    stops holding them; a page read again is read from the file). A million entries' 77 MB
    were held to the end of the decode, beside the entries made of them (issue 16)."""

    def __init__(self, data: Buffer) -> None:
        self.map = data if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED") else None
        self.at = self.map.find(_OPEN) + len(_OPEN) if self.map is not None else 0
        self.given = 0

    def done(self, length: int) -> None:
        """``length`` more bytes of entries (and their commas) decoded."""
        if self.map is None:
            return
        self.at += length
        end = self.at - self.at % mmap.PAGESIZE
        if end - self.given >= GIVE_BACK:
            self.map.madvise(mmap.MADV_DONTNEED, self.given, end - self.given)
            self.given = end


def decode(data: Buffer) -> LayerDelta | None:
    """The delta a record holds, or None for another format version or a damaged record
    (the layer is then read again). ``data`` may be a map of a file: nothing decoded
    refers to it once this returns."""
    try:
        head = msgspec.json.decode(data, type=_Head)
        if head.v != FORMAT_VERSION:
            return None
        parts = msgspec.json.decode(head.delta, type=_Parts)
        del head
        encoded = cast("list[msgspec.Raw | None]", parts.entries)
        parts.entries = []
        entries: list[Entry] = []
        sharing = Sharing()
        pages = _Pages(data)
        for start in range(0, len(encoded), BATCH):
            views = cast("list[msgspec.Raw]", encoded[start : start + BATCH])
            batch = _ENTRIES.decode(b"[" + b",".join(views) + b"]")
            # the batch's views, and the pages of a map they were read from, let go of
            encoded[start : start + BATCH] = itertools.repeat(None, len(views))
            pages.done(sum(len(v) for v in views) + len(views))
            del views
            sharing.share(batch)
            entries += batch
        del encoded
    except msgspec.DecodeError:
        return None
    return LayerDelta(
        tuple(entries),
        parts.whiteouts,
        parts.opaques,
        parts.unsafe,
        parts.captured,
        parts.size,
        parts.hash,
    )


_ENCODER = msgspec.json.Encoder()


def _head() -> bytes:
    empty = LayerDelta().to_bytes()
    return empty[: empty.index(_OPEN) + len(_OPEN)]


_HEAD = _head()


class RecordWriter:
    """Writes a delta's record into ``out`` as its entries come, a batch at a time
    (:func:`~deadweight.filetree.delta.read_delta`'s ``sink``), then the rest of the delta
    (:meth:`finish`): the same bytes :meth:`LayerDelta.to_bytes` makes of the whole delta,
    without holding its entries or their encoding whole (the reading helper held both, a
    million files' 150 MB of entries and 77 MB of record, issue 16)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._first = True
        out.write(_HEAD)

    def __call__(self, batch: list[Entry]) -> None:
        if not batch:
            return
        data = _ENCODER.encode(batch)  # b"[...]": its brackets left out
        if not self._first:
            self._out.write(b",")
        self._out.write(memoryview(data)[1:-1])
        self._first = False

    def finish(self, rest: LayerDelta) -> None:
        """Write the fields after the entries (``rest``'s, whose entries must be empty)."""
        if rest.entries:
            raise ValueError("the entries were written already")
        tail = rest.to_bytes()
        assert tail.startswith(_HEAD + b"]")
        self._out.write(memoryview(tail)[len(_HEAD) :])


def decode_file(file: IO[bytes]) -> LayerDelta | None:
    """The delta whose record ``file`` holds, decoded from a map of the file (its pages
    given back as the entries are decoded; unmapped as soon as the delta is made); None
    for an empty file or as :func:`decode` says."""
    if os.fstat(file.fileno()).st_size == 0:
        return None
    with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as encoded:
        return decode(encoded)
