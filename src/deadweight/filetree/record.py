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

import mmap
from typing import IO

import msgspec

from deadweight.filetree.delta import FORMAT_VERSION, Captured, LayerDelta, Sharing
from deadweight.filetree.entry import Entry, Unsafe

# Entries decoded at a time: large enough that a call's cost is nothing beside its work.
BATCH = 4096

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
        encoded, parts.entries = parts.entries, []
        entries: list[Entry] = []
        sharing = Sharing()
        for start in range(0, len(encoded), BATCH):
            batch = _ENTRIES.decode(b"[" + b",".join(encoded[start : start + BATCH]) + b"]")
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
_OPEN = b'"entries":['


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
