"""A squash whose layers hide nothing of each other, merged without a tree.

When the squashed layers' entries name each path once (but directories, which a later
directory entry only gives new metadata), with no whiteout, opaque marker or hardlink, no
entry under a path that is not a directory, and none at a path of the layers kept below
but a directory over a directory, nothing hides anything: the squashed layer is every
entry in path order, with a directory for each parent neither a tar nor the kept layers
list (what ``mutate._merge`` makes of the merged tree in that case, item for item: no
whiteout is needed, nothing below is gone). Path order is all it needs, so the squashed
layers stack no tree (only the kept layers do, to be checked against): the items are an
array of the entries' numbers in path order (4 bytes an entry where the tree took about
150: a node, its map entry, its inode's columns, issue 16). Any other shape returns None
and takes the tree (``mutate._merge.merge``).

Entries are numbered across the deltas, bottom first, in tar order; the second read of
each layer (``mutate._sources``) meets its members in that order too, so what it finds
is kept by that number.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Callable, Mapping, Sequence

from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.entry import Entry
from deadweight.filetree.tree import Node, Stacker, Tree
from deadweight.mutate._merge import Dropped, Item, ItemView, Merge

# Entries sorted at a time before the runs are merged.
RUN = 1 << 16


class Ordered(ItemView[int]):
    """The items of a merge without a tree: ``order`` holds entry numbers in path order
    (see the module), and ``total + i`` for the ``i``-th implicit directory. ``wanted``
    says which entries the layer holds (0: dropped); ``bytes`` is docker's size of every
    entry, dropped ones included (file data and symlink targets)."""

    __slots__ = (
        "bytes",
        "deltas",
        "first",
        "implicit",
        "lower",
        "made_in",
        "order",
        "starts",
        "total",
        "wanted",
    )

    def __init__(
        self,
        deltas: Sequence[LayerDelta],
        order: array[int],
        implicit: list[str],
        wanted: bytearray,
        size: int,
        made_in: array[int] | None = None,
        *,
        first: int = 0,
        lower: Tree | None = None,
    ) -> None:
        """``deltas`` are the squashed layers', the first of them layer ``first`` of the
        image; ``lower`` the tree of the layers below (None: none)."""
        self.deltas, self.order, self.implicit, self.wanted = deltas, order, implicit, wanted
        self.made_in = made_in if made_in is not None else array("i")  # implicit's layers
        self.first, self.lower = first, lower
        starts, total = [], 0
        for delta in deltas:
            starts.append(total)
            total += len(delta.entries)
        self.starts, self.total, self.bytes = starts, total, size

    def entry(self, number: int) -> tuple[int, Entry]:
        """The layer (of the image) and entry of entry ``number`` (below ``total``)."""
        layer = bisect.bisect_right(self.starts, number) - 1
        return self.first + layer, self.deltas[layer].entries[number - self.starts[layer]]

    def _kept(self) -> Sequence[int]:
        return self.order

    def _item(self, number: int) -> Item:
        if number >= self.total:
            at = number - self.total
            return Item(self.implicit[at], "implicit", self.made_in[at])
        layer, entry = self.entry(number)
        if entry.kind == "file":
            return Item(entry.path, "data", layer, entry.path)
        return Item(entry.path, "copy", layer)


def disjoint_merge(
    deltas: Sequence[LayerDelta], keep: int, drop: Callable[[str], bool] | None = None
) -> Merge | None:
    """``mutate._merge.merge(deltas, keep, drop)`` for a squash of layers that hide nothing
    of each other or of the ``keep`` below (see the module), made without a tree of the
    squashed layers; None for any other shape."""
    squashed = deltas[keep:]
    if any(d.whiteouts or d.opaques for d in squashed):
        return None
    if any(e.kind == "hardlink" for d in squashed for e in d.entries):
        return None
    below: Tree | None = None
    lower: Mapping[str, Node] = {}
    if keep:  # what the squashed layers go over: any path of it they write must be a dir
        stacker = Stacker()
        for delta in deltas[:keep]:
            stacker.apply(delta)
        below = stacker.tree(last=True)
        lower = below.nodes
    paths: list[str] = []
    dirs: set[str] = set()
    size = 0
    for delta in squashed:
        for entry in delta.entries:
            kind = entry.kind
            if lower:
                old = lower.get(entry.path)
                if old is not None and (old.kind != "dir" or kind != "dir"):
                    return None  # a lower path replaced (the tree's work)
            paths.append(entry.path)
            if kind == "dir":
                dirs.add(entry.path)
            elif kind == "file":
                size += entry.size
            elif kind == "symlink":
                size += entry.link_bytes
    total = len(paths)
    order = _path_order(paths)
    wanted = bytearray(b"\x01") * total
    lookup = Ordered(squashed, order, [], wanted, size, first=keep)
    for i in range(1, total):
        if paths[order[i]] == paths[order[i - 1]]:
            # a directory over a directory changes only its metadata: the later one is the
            # item (equal paths keep their numbers' order); any other kind replaces (the
            # tree's work)
            if (
                lookup.entry(order[i])[1].kind != "dir"
                or lookup.entry(order[i - 1])[1].kind != "dir"
            ):
                return None
            wanted[order[i - 1]] = 0
    found = _implicit(paths, order, dirs, lookup, lower)
    if found is None:
        return None
    del dirs
    implicit = sorted(found)
    made_in = array("i", (found[p] for p in implicit))
    del found
    dropped: list[Dropped] = []
    if drop is not None:
        for number in order:
            layer, entry = lookup.entry(number)
            if entry.kind != "dir" and drop(entry.path):
                wanted[number] = 0
                held = entry.size if entry.kind == "file" else entry.link_bytes
                dropped.append(Dropped(entry.path, held, layer))
    items = _interleaved(paths, order, wanted, implicit, total)
    made = Ordered(squashed, items, implicit, wanted, size, made_in, first=keep, lower=below)
    return Merge(made, tuple(dropped))


def _path_order(paths: list[str]) -> array[int]:
    """The numbers of ``paths`` in path order (equal paths in number order): runs of
    :data:`RUN` sorted, then merged, so that the numbers are ints (36 bytes each, with
    their list slot) for one run at a time, not for every path at once (issue 16)."""
    runs = [
        array("I", sorted(range(start, min(start + RUN, len(paths))), key=paths.__getitem__))
        for start in range(0, len(paths), RUN)
    ]
    if len(runs) <= 1:
        return runs[0] if runs else array("I")
    return array("I", heapq.merge(*runs, key=paths.__getitem__))  # stable: runs in order


def _implicit(
    paths: list[str],
    order: array[int],
    dirs: set[str],
    lookup: Ordered,
    lower: Mapping[str, Node],
) -> dict[str, int] | None:
    """The parents neither an entry nor the layers below list, and the layer of the first
    entry under each (where the tree makes it); None if an entry lies under a path that is
    not a directory (the tree replaces one with the other)."""
    missing: dict[str, int] = {}
    walked: set[str] = set()  # listed directories met, whose parents are walked
    for number, path in enumerate(paths):
        up = path.rpartition("/")[0]
        while up and up not in walked and up not in missing:
            if up in dirs:  # listed by a later entry: the tree makes its parents now
                up = up.rpartition("/")[0]
                continue
            old = lower.get(up) if lower else None
            if old is not None:
                if old.kind != "dir":
                    return None  # under a lower path that is not a directory
                break  # a directory below: it and its parents are there
            at = bisect.bisect_left(order, up, key=paths.__getitem__)
            if at < len(order) and paths[order[at]] == up:
                return None  # an entry that is not a directory, over others
            missing[up] = lookup.entry(number)[0]
            up = up.rpartition("/")[0]
        if path in dirs:
            walked.add(path)
    return missing


def _interleaved(
    paths: list[str], order: array[int], wanted: bytearray, implicit: list[str], total: int
) -> array[int]:
    """The kept entries' numbers and the implicit directories' (``total + i``), in path
    order."""
    out = array("I")
    i = 0
    for number in order:
        if not wanted[number]:
            continue
        path = paths[number]
        while i < len(implicit) and implicit[i] < path:
            out.append(total + i)
            i += 1
        out.append(number)
    out.extend(range(total + i, total + len(implicit)))
    return out
