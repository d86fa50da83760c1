"""A squash whose layers hide nothing of each other, merged without a tree.

When the squashed layers' entries name each path once (but directories, which a later
directory entry only gives new metadata), with no whiteout, opaque marker or hardlink, no
entry under a path that is not a directory, and none at a path of the layers kept below
but a directory over a directory, nothing hides anything: the squashed layer is every
entry in path order, with a directory for each parent neither a tar nor the kept layers
list (what ``mutate._merge`` makes of the merged tree in that case, item for item: no
whiteout is needed, nothing below is gone). Any other shape returns None and takes the
tree (``mutate._merge.merge``).

Path order is all it needs, so the squashed layers stack no tree (only the kept layers
do, to be checked against), and their entries are never held: one pass over them (lazy
deltas decode them a chunk at a time) gives a :class:`~deadweight.spilled.Sorter` a
record per entry and one per parent it needs, and one pass over the records in path order
checks the shape and writes the items to disk (:class:`~deadweight.spilled.Spilled`).
What a million files hold in memory is a byte each (which entries the layer keeps) and the
runs being sorted (issue 16: 150 bytes a file when their tree, then their entries, were
held).

Entries are numbered across the deltas, bottom first, in tar order; the second read of
each layer (``mutate._sources``) meets its members in that order too, so what it finds is
kept by that number.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter

from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.record import StoredEntries
from deadweight.filetree.tree import Node, Stacker, Tree
from deadweight.mutate._merge import Action, Dropped, Item, ItemView, Merge
from deadweight.spilled import Sorter, Spilled

# Entries sorted at a time before the runs are merged (``spilled.Sorter``).
RUN = 1 << 16
# Parents remembered as already asked for (the set is emptied when full): a tar lists a
# directory's entries together, so each parent is asked for about once.
SEEN = 1 << 16

_BATCH = 4096  # records given the sorter at once

# what a record of the sorter is: a parent an entry lies under, or an entry of a kind
NEED, DIR, FILE, OTHER = 0, 1, 2, 3
# what an item record is (``Ordered.records``)
IMPLICIT, DATA, COPY = 0, 1, 2
_ACTIONS: tuple[Action, ...] = ("implicit", "data", "copy")

Record = tuple[str, int, int, int]  # path, entry number, NEED or a kind, its bytes
ItemRecord = tuple[str, int, int, int]  # path, IMPLICIT/DATA/COPY, layer, entry number


class Ordered(ItemView[ItemRecord]):
    """The items of a merge without a tree (see the module), kept on disk in path order:
    ``records`` are ``(path, action, layer, number)`` (the entry's number, -1 for an
    implicit directory). ``wanted`` says which entries the layer holds (0: dropped, or a
    directory listed again above); ``bytes`` is docker's size of every entry, dropped ones
    included (file data and symlink targets). Iterated a batch at a time; an index or a
    slice reads up to it (``Spilled``, for the rare caller)."""

    __slots__ = ("bytes", "deltas", "first", "lower", "records", "starts", "wanted")

    def __init__(
        self,
        deltas: Sequence[LayerDelta],
        records: Spilled[ItemRecord],
        wanted: bytearray,
        size: int,
        starts: list[int],
        *,
        first: int = 0,
        lower: Tree | None = None,
    ) -> None:
        """``deltas`` are the squashed layers', the first of them layer ``first`` of the
        image; ``starts`` the number of each one's first entry; ``lower`` the tree of the
        layers below (None: none)."""
        self.deltas, self.records, self.wanted, self.bytes = deltas, records, wanted, size
        self.starts = starts
        self.first, self.lower = first, lower

    def _kept(self) -> Spilled[ItemRecord]:
        return self.records

    def _item(self, kept: ItemRecord) -> Item:
        path, action, layer, _ = kept
        if action == DATA:
            return Item(path, "data", layer, path)
        return Item(path, _ACTIONS[action], layer)


def disjoint_merge(
    deltas: Sequence[LayerDelta], keep: int, drop: Callable[[str], bool] | None = None
) -> Merge | None:
    """``mutate._merge.merge(deltas, keep, drop)`` for a squash of layers that hide nothing
    of each other or of the ``keep`` below (see the module), made without a tree of the
    squashed layers; None for any other shape."""
    squashed = deltas[keep:]
    if any(d.whiteouts or d.opaques for d in squashed):
        return None
    below: Tree | None = None
    lower: Mapping[str, Node] = {}
    if keep:  # what the squashed layers go over: any path of it they write must be a dir
        stacker = Stacker()
        for delta in deltas[:keep]:
            stacker.apply(delta)
        below = stacker.tree(last=True)
        lower = below.nodes
    records: Sorter[Record] = Sorter(RUN)
    try:
        counted = _recorded(squashed, lower, records)
        if counted is None:
            return None
        size, starts, total = counted
        return _merged(records, lower, drop, squashed, (size, total), starts, keep, below)
    finally:
        records.close()


def _recorded(
    squashed: Sequence[LayerDelta], lower: Mapping[str, Node], records: Sorter[Record]
) -> tuple[int, list[int], int] | None:
    """Give ``records`` each entry and each parent it lies under (the first entry under it,
    by number, among them); the bytes of the entries, the number of each layer's first
    entry and how many there are. None for a hardlink, or an entry over a lower path but a
    directory over one."""
    batch: list[Record] = []
    add = batch.append
    size = number = 0
    starts: list[int] = []
    seen: set[str] = set()  # parents asked for, with theirs
    for delta in squashed:
        starts.append(number)
        entries = delta.entries
        for entry in entries.unshared() if isinstance(entries, StoredEntries) else entries:
            kind, path = entry.kind, entry.path
            if kind == "dir":
                code, held = DIR, 0
            elif kind == "file":
                code, held = FILE, entry.size
            elif kind == "hardlink":
                return None
            else:
                code, held = OTHER, entry.link_bytes
            if lower:
                old = lower.get(path)
                if old is not None and (old.kind != "dir" or code != DIR):
                    return None  # a lower path replaced (the tree's work)
            size += held
            add((path, number, code, held))
            if len(seen) >= SEEN:
                seen.clear()
            up = path.rpartition("/")[0]
            while up and up not in seen:
                seen.add(up)
                add((up, number, NEED, 0))
                up = up.rpartition("/")[0]
            number += 1
            if len(batch) >= _BATCH:
                records.extend(batch)
                batch.clear()
    records.extend(batch)
    return size, starts, number


def _merged(
    records: Sorter[Record],
    lower: Mapping[str, Node],
    drop: Callable[[str], bool] | None,
    squashed: Sequence[LayerDelta],
    counts: tuple[int, int],
    starts: list[int],
    keep: int,
    below: Tree | None,
) -> Merge | None:
    """The items from ``records`` in path order: at each path its entries (more than one
    only if all are directories: the last is the item) or, if none, the implicit directory
    its children need (made in the layer of the first entry under it), unless the layers
    below have it; None where an entry lies under one that is not a directory."""
    size, total = counts
    wanted = bytearray(b"\x01") * total
    out: Spilled[ItemRecord] = Spilled()
    batch: list[ItemRecord] = []
    add = batch.append
    dropped: list[Dropped] = []
    find = bisect.bisect_right
    done = False
    try:
        for path, group in itertools.groupby(records.sorted(), key=itemgetter(0)):
            if len(batch) >= _BATCH:
                out.extend(batch)
                batch.clear()
            need = last = -1
            code = held = listed = 0
            other = False  # an entry that is not a directory
            for _, number, kind, bytes_ in group:
                if kind == NEED:
                    if need < 0:
                        need = number
                    continue
                if last >= 0:  # a directory over a directory: the later one is the item
                    wanted[last] = 0
                listed += 1
                last, code, held = number, kind, bytes_
                other = other or kind != DIR
            if listed:
                if other and (listed > 1 or need >= 0):
                    return None  # replaced, or with entries under it (the tree's work)
                layer = keep + find(starts, last) - 1
                if code != DIR and drop is not None and drop(path):
                    wanted[last] = 0
                    dropped.append(Dropped(path, held, layer))
                    continue
                add((path, DATA if code == FILE else COPY, layer, last))
                continue
            old = lower.get(path) if lower else None
            if old is not None:
                if old.kind != "dir":
                    return None  # entries under a lower path that is not a directory
                continue  # a directory below: the layer needs none
            add((path, IMPLICIT, keep + find(starts, need) - 1, -1))
        out.extend(batch)
        done = True
    finally:
        if not done:
            out.close()
    made = Ordered(squashed, out, wanted, size, starts, first=keep, lower=below)
    return Merge(made, tuple(dropped))
