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

Decoded lazily (:func:`decode_file` with ``lazy_above``), a large record's entries are
never held whole: they are a :class:`StoredEntries` over the record's file, decoded
:data:`CHUNK` bytes of record at a time each time they are iterated (issue 16: a layer of
a million files held 150 MB of entries while every layer was stacked).
"""

from __future__ import annotations

import bisect
import itertools
import mmap
import os
import weakref
from collections.abc import Iterator, Sequence
from typing import IO, cast, overload

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

    def delta(self, entries: Sequence[Entry]) -> LayerDelta:
        """The delta of these fields and ``entries``."""
        return LayerDelta(
            entries, self.whiteouts, self.opaques, self.unsafe, self.captured, self.size, self.hash
        )


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
    return parts.delta(tuple(entries))


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


def decode_file(file: IO[bytes], *, lazy_above: int | None = None) -> LayerDelta | None:
    """The delta whose record ``file`` holds, decoded from a map of the file (its pages
    given back as the entries are decoded; unmapped as soon as the delta is made); None
    for an empty file or as :func:`decode` says.

    A record longer than ``lazy_above`` bytes is decoded lazily: the delta's entries are a
    :class:`StoredEntries` reading a descriptor of its own of ``file`` (which the caller
    may close), its other fields decoded now. The record is checked whole here all the
    same (each chunk decoded once, and counted), so a damaged one is None as above."""
    size = os.fstat(file.fileno()).st_size
    if size == 0:
        return None
    if lazy_above is not None and size > lazy_above:
        return _lazy(file.fileno(), size)
    with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as encoded:
        return decode(encoded)


# Bytes of record a lazy delta's entries are decoded from at a time: a chunk's entries
# (about 13,000 of a layer of empty files, 2 MB) are what iterating them holds.
CHUNK = 1 << 20

# Where one entry ends and the next begins. An entry is a JSON array of its 8 fields, all
# written (``Entry`` is an ``array_like`` struct), the first (path) and the last (digest)
# strings, and holds no array: between two entries stand the bytes ``"],["``, the quote
# first closing a string. The same bytes occur inside an entry, and only where that quote
# is escaped (the path ``a"],[`` is written ``"a\"],["``: an odd run of backslashes
# before it) or opens a string (the path ``],[`` is written ``"],["``, after the ``[`` or
# ``,`` before every value; ``:`` and ``{`` too, in the objects after the entries). A
# candidate with neither is a boundary (its quote closes a string, so the ``]`` closes an
# entry and ``,[`` opens the next); one after ``[ , : {`` is passed over even where a
# digest ending so makes it one (records never hold such digests; a chunk only grows).
# Cutting at every ``"],["`` would cut those paths apart (a test holds it to that).
_NEXT = b'"],["'
_OPENS = frozenset(b"[,:{")
_BACKSLASH = ord("\\")
# Where the entries end: the first ``],"whiteouts":`` after the head. Its quote before
# ``whiteouts`` follows a comma (not escaped) and a letter follows it (so it opens a
# string); a string followed by ``:`` is a key, and only the delta has that key (a
# dataclass's fields are all written, in order, ``whiteouts`` after ``entries``).
_END = b'],"whiteouts":'


def _boundary(window: bytes, at: int) -> bool:
    """Whether the ``"],["`` at ``at`` in ``window`` (which starts at an entry) stands
    between two entries: its quote neither opens a string nor is escaped."""
    before = window[at - 1]
    if before in _OPENS:
        return False
    run = at - 1
    while window[run] == _BACKSLASH:  # the window's first byte is an entry's "["
        run -= 1
    return (at - 1 - run) % 2 == 0


def _cut(window: bytes) -> int:
    """How many bytes of ``window`` (from an entry's ``[``, short of the entries' end)
    hold whole entries, to the ``]`` of the last one; -1 if no boundary is found."""
    end = len(window)
    while (at := window.rfind(_NEXT, 0, end)) > 0:
        if _boundary(window, at):
            return at + 2
        end = at + len(_NEXT) - 1  # the next candidate starts before this one
    return -1


def _spans(fd: int, size: int) -> tuple[list[tuple[int, int]], int] | None:
    """The record's entries in chunks of about :data:`CHUNK` bytes, each (start, end):
    from the ``[`` of its first entry to the ``]`` of its last; and where the entries'
    array ends. None if ``fd`` holds no record of this format version."""
    if os.pread(fd, len(_HEAD), 0) != _HEAD:
        return None
    spans: list[tuple[int, int]] = []
    at, want = len(_HEAD), CHUNK
    while True:
        window = os.pread(fd, want, at)
        end = window.find(_END)
        if end >= 0:  # the last chunk
            if end:
                spans.append((at, at + end))
            return spans, at + end
        cut = _cut(window)
        if cut >= 0:
            spans.append((at, at + cut))
            at, want = at + cut + 1, CHUNK  # past the comma
        elif at + len(window) >= size:
            return None  # cut short
        else:
            want *= 2  # an entry longer than the window


def _chunk(fd: int, span: tuple[int, int]) -> list[Entry]:
    """The entries of one chunk: one read into ``[...]``, one decode."""
    start, end = span
    data = bytearray(end - start + 2)
    data[0], data[-1] = ord("["), ord("]")
    if os.preadv(fd, [memoryview(data)[1:-1]], start) != end - start:
        raise msgspec.DecodeError("the record is shorter than when it was opened")
    return _ENTRIES.decode(data)


def _lazy(fd: int, size: int) -> LayerDelta | None:
    """:func:`decode_file`, its entries left in the file (a descriptor of their own)."""
    found = _spans(fd, size)
    if found is None:
        return None
    spans, end = found
    try:
        counts = [len(_chunk(fd, span)) for span in spans]  # each checked, then dropped
        head = msgspec.json.decode(_HEAD + os.pread(fd, size - end, end), type=_Head)
        parts = msgspec.json.decode(head.delta, type=_Parts)
    except msgspec.DecodeError:
        return None
    return parts.delta(StoredEntries(os.dup(fd), spans, counts))


class StoredEntries(Sequence[Entry]):
    """A record's entries, decoded from its file :data:`CHUNK` bytes at a time each time
    they are iterated (modes and empty files' digests shared as :func:`decode` shares
    them), never held whole. Reads with ``pread`` (no file position, nothing mapped:
    threads may iterate it at once); owns its descriptor, closed when it is dropped.

    ``len`` is known (counted when the record was checked); an index or a slice decodes
    the chunks it falls in, for the rare caller. Equal only to itself (compare
    ``list(...)``)."""

    __slots__ = ("__weakref__", "_ends", "_fd", "_spans", "close")

    def __init__(self, fd: int, spans: list[tuple[int, int]], counts: list[int]) -> None:
        self._fd = fd
        self._spans = spans
        self._ends = list(itertools.accumulate(counts))  # entries up to each chunk's end
        # An unnamed file is gone once its last descriptor is closed: none outlives this.
        self.close = weakref.finalize(self, os.close, fd)

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __repr__(self) -> str:
        return f"StoredEntries(<{len(self)} entries in a record>)"

    def __reduce__(self) -> tuple[type[tuple[Entry, ...]], tuple[tuple[Entry, ...]]]:
        # pickled (Dask, a copy) as the tuple of its entries: the descriptor is this
        # process's
        return tuple, (tuple(self),)

    def __iter__(self) -> Iterator[Entry]:
        return self._from(0)

    def _from(self, first: int) -> Iterator[Entry]:
        sharing = Sharing()
        for span in self._spans[first:]:
            batch = _chunk(self._fd, span)
            sharing.share(batch)
            yield from batch

    def unshared(self) -> Iterator[Entry]:
        """The entries without sharing their modes and digests: for a pass that keeps
        none of them (or shares what it keeps), a third of a pass's time saved."""
        for span in self._spans:
            yield from _chunk(self._fd, span)

    def _base(self, index: int) -> tuple[int, int]:
        """The chunk holding entry ``index`` (0 <= index < len), and its first entry's."""
        chunk = bisect.bisect_right(self._ends, index)
        return chunk, self._ends[chunk - 1] if chunk else 0

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Entry, ...]: ...
    def __getitem__(self, index: int | slice) -> Entry | tuple[Entry, ...]:
        if not isinstance(index, slice):
            at = range(len(self))[index]  # IndexError, and negative indexes, as a tuple's
            chunk, base = self._base(at)
            return _chunk(self._fd, self._spans[chunk])[at - base]
        wanted = range(len(self))[index]
        if not wanted:
            return ()
        low, high = min(wanted), max(wanted)
        chunk, base = self._base(low)
        got = list(itertools.islice(self._from(chunk), low - base, high - base + 1))
        return tuple(got[i - low] for i in wanted)
