"""A large layer read in this process into a spool file as it is read, for a lazy delta.

The helper processes write a layer's record into a spool a batch of entries at a time, and
a lazy read (``iter_deltas(lazy=True)``) leaves the entries of a large one there. A layer
read in this process (no helper may run, or a registry's stream) made its entries whole in
memory all the same (issue 16: a million files, 150 MB). Read here lazily, its entries are
kept until there are more than a threshold of them, then written, with all that follow,
into an unnamed spool as the same record (:class:`~deadweight.filetree.record.RecordWriter`),
which is decoded as a helper's is; a small layer never touches the disk.
"""

from __future__ import annotations

import dataclasses
from typing import IO

from deadweight import scratch
from deadweight.filetree.delta import Capture, HashName, LayerDelta, read_delta, shared
from deadweight.filetree.entry import Entry
from deadweight.filetree.record import RecordWriter, decode_file
from deadweight.image import Layer


class _Unspooled(Exception):
    """The spool could not take the layer's record (no room, a path that is not UTF-8)."""


class _Spooler:
    """:func:`read_delta`'s sink: the entries kept until there are more than ``above``,
    then written into an unnamed spool, those that follow as they come."""

    def __init__(self, above: int) -> None:
        self.above = above
        self.kept: list[Entry] = []
        self.file: IO[bytes] | None = None
        self.writer: RecordWriter | None = None
        self.whole = False  # no spool could be made: the entries kept, all of them

    def __call__(self, batch: list[Entry]) -> None:
        if self.writer is None:
            self.kept += batch
            if self.whole or len(self.kept) <= self.above:
                return
            try:
                self.file = scratch.unnamed()[0]
            except OSError:
                self.whole = True
                return
            batch, self.kept = self.kept, []
            self.writer = RecordWriter(self.file)
        try:
            self.writer(batch)
        except (OSError, UnicodeEncodeError) as exc:
            raise _Unspooled from exc

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def read_spooled(
    layer: Layer,
    *,
    hash: HashName,
    capture: Capture | None,
    what: str,
    above: int,
    lazy_above: int,
) -> tuple[LayerDelta, IO[bytes] | None] | None:
    """``layer``'s delta read here, and the spool holding its record when it has more than
    ``above`` entries (the caller closes it; its entries read from it when the record is
    longer than ``lazy_above`` bytes). None when the spool could not take the record: the
    caller reads the layer again, whole (rare: a full disk, a path that is not UTF-8)."""
    spooler = _Spooler(above)
    try:
        with layer.open() as stream:
            rest = read_delta(stream, hash=hash, capture=capture, what=what, sink=spooler)
        if spooler.writer is None or spooler.file is None:
            entries = tuple(spooler.kept)
            shared(entries)
            return dataclasses.replace(rest, entries=entries), None
        try:
            spooler.writer.finish(rest)  # the whiteouts, ... (a path that is not UTF-8)
            spooler.file.flush()  # (a full disk)
        except (OSError, UnicodeEncodeError) as exc:
            raise _Unspooled from exc
        delta = decode_file(spooler.file, lazy_above=lazy_above)
    except _Unspooled:
        spooler.close()
        return None
    except BaseException:  # the layer's own error (a corrupt tar, a lost connection)
        spooler.close()
        raise
    if delta is None:  # pragma: no cover - written just now by the same code
        spooler.close()
        return None
    spooler.file.seek(0)
    return delta, spooler.file
