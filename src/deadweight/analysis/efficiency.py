"""dive's efficiency score and wasted bytes, computed as dive computes them.

Labelled "dive-compatible" wherever shown, so dive users can compare. The algorithm is
dive's ``filetree.Efficiency`` and ``image.Analyze`` (wagoodman/dive, dive/filetree/
efficiency.go), quirks included:

- Each layer's own tree is walked leaves only (files, symlinks, empty directories,
  whiteouts), children in byte order, deepest first. A path's size is its tar header
  size: 0 for symlinks, hardlinks and directories.
- A whiteout counts the size of what it deletes only when that was a directory (the sum
  of the directory's subtree in the stacked tree below); a deleted *file* counts 0 there,
  but its earlier copy makes the path appear twice anyway.
- A whiteout naming a path absent below stops the walk of that layer (dive returns the
  lookup error from its visitor).
- Opaque markers are ignored; parents a tar omits are directories without a payload.
- efficiency = sum over paths of the smallest size seen / sum of all sizes seen (1 when
  nothing was seen); wasted bytes = the cumulative size of every path seen more than
  once, *including the copy that survives*; user wasted percent = wasted bytes / the
  bytes of every layer but the first (a layer counting its regular files' sizes).

Our own figures (``analysis.waste``) count only what squashing would drop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from deadweight.filetree.delta import WHITEOUT, LayerDelta


@dataclass(frozen=True, slots=True)
class DiveInefficiency:
    path: str
    count: int
    cumulative: int


@dataclass(frozen=True, slots=True)
class DiveFigures:
    """dive's numbers for an image; ``user_wasted_percent`` is a ratio (0.1 = 10 %)."""

    efficiency: float
    wasted_bytes: int
    user_size: int
    size: int
    user_wasted_percent: float
    inefficiencies: tuple[DiveInefficiency, ...]


DIR = -1  # a node's value for a directory (dive's directories hold no bytes)


class _Tree:
    """dive's file tree, flat: path (no leading slash) -> its size, or ``DIR``.

    A node is only ever created with all its ancestors (as dive's ``AddPath`` does, as
    plain non-directory nodes of size 0), and removed with its whole subtree. The children
    of each node are indexed only once a removal or a subtree's total needs them: an image
    without whiteouts never builds the index (issue 16: a set entry and a tuple per path
    held ~270 bytes a file of a million, with the counts below).
    """

    __slots__ = ("_kids", "nodes")

    def __init__(self) -> None:
        self.nodes: dict[str, int] = {}
        self._kids: dict[str, set[str]] | None = None

    @property
    def kids(self) -> dict[str, set[str]]:
        """Node -> the nodes directly below it (built on first use, then kept)."""
        kids = self._kids
        if kids is None:
            kids = self._kids = {}
            for path in self.nodes:
                up = path.rpartition("/")[0]
                below = kids.get(up)
                if below is None:
                    below = kids[up] = set()
                below.add(path)
        return kids

    def copy(self) -> _Tree:
        new = _Tree()
        new.nodes = dict(self.nodes)
        if self._kids is not None:
            new._kids = {k: set(v) for k, v in self._kids.items()}
        return new

    def add(self, path: str, size: int) -> None:
        nodes = self.nodes
        if path not in nodes:
            up, _, name = path.rpartition("/")
            if up and up not in nodes and self._ancestors(up) is None:
                return
            if name.startswith(WHITEOUT + WHITEOUT):
                return  # dive never attaches ".wh..wh.*" names
            self._index(up, path)
        nodes[path] = size

    def _index(self, up: str, path: str) -> None:
        kids = self._kids
        if kids is not None:
            below = kids.get(up)
            if below is None:
                below = kids[up] = set()
            below.add(path)

    def _ancestors(self, path: str) -> str | None:
        """Create the missing directories down to ``path`` (returned); None where dive
        would stop."""
        up = ""
        for name in path.split("/"):
            here = f"{up}/{name}" if up else name
            if here not in self.nodes:
                if name.startswith(WHITEOUT + WHITEOUT):
                    return None
                self.nodes[here] = 0
                self._index(up, here)
            up = here
        return up

    def remove(self, path: str) -> None:
        if path not in self.nodes:
            return
        kids = self.kids
        kids.get(path.rpartition("/")[0], set()).discard(path)
        todo = [path]
        while todo:
            p = todo.pop()
            del self.nodes[p]
            todo.extend(kids.pop(p, ()))

    def total(self, path: str) -> int:
        out, todo = 0, [path]
        nodes, kids = self.nodes, self.kids
        while todo:
            p = todo.pop()
            size = nodes[p]
            if size != DIR:
                out += size
            todo.extend(kids.get(p, ()))
        return out

    def parents(self) -> set[str]:
        """The nodes that have a node below them (every other node is a leaf)."""
        if self._kids is not None:
            return {p for p, below in self._kids.items() if below}
        return {p.rpartition("/")[0] for p in self.nodes}

    def order(self) -> list[str]:
        """dive's visit order: deepest first, siblings in byte order (a post-order walk).

        In the key a separator (NUL, which no name holds) sorts below every name byte, and
        the end of a path (\\x01) below every name byte but NUL: a directory's children
        come before it, and it and its subtree before any sibling that sorts after it.
        """
        nodes = self.nodes
        if all(p.isascii() for p in nodes):  # code point order is byte order
            return sorted(nodes, key=_ascii_walk_key)
        return sorted(nodes, key=_walk_key)


def _walk_key(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape").replace(b"/", b"\x00") + b"\x01"


def _ascii_walk_key(path: str) -> str:
    return path.replace("/", "\x00") + "\x01"


def _layer_tree(delta: LayerDelta) -> _Tree:
    tree = _Tree()
    for e in delta.entries:
        kind = e.kind
        tree.add(e.path, e.size if kind == "file" else DIR if kind == "dir" else 0)
    for path in delta.whiteouts:
        head, _, name = path.rpartition("/")
        tree.add(f"{head}/{WHITEOUT}{name}" if head else WHITEOUT + name, 0)
    for path in delta.opaques:
        if path and path not in tree.nodes:
            tree.add(path, 0)
    return tree


def _target(path: str) -> str | None:
    """The path a whiteout leaf deletes, or None for an ordinary leaf."""
    head, _, name = path.rpartition("/")
    if not name.startswith(WHITEOUT):
        return None
    name = name[len(WHITEOUT) :]
    return f"{head}/{name}" if head else name


class DiveCounter:
    """dive's figures, one layer at a time (bottom first), so they can be computed while
    later layers are still being read.

    A path seen once is kept as its size alone (its count is 1, its cumulative and
    smallest size that size); only paths seen again get a row of three figures, and the
    sums the score needs are kept as they grow. Each layer is counted when the next one
    comes (or the figures are asked for): the top layer's paths are never looked up again,
    so they are neither kept nor stacked, and a top layer that neither deletes nor writes a
    path twice is counted from its entries, without a tree of its own (issue 16: an image
    of one layer of a million files keeps nothing a path)."""

    def __init__(self) -> None:
        self.once: dict[str, int] = {}  # path seen once -> its size
        self.again: dict[str, list[int]] = {}  # path seen more -> [count, cumulative, minimum]
        self.minimum = 0  # the sum of every path's smallest size
        self.discovered = 0  # the sum of every size seen
        self.stacked: _Tree | None = None
        self.sizes: list[int] = []
        self._pending: tuple[LayerDelta, bool] | None = None

    def add(self, delta: LayerDelta, *, unique: bool = False) -> None:
        """Count one more layer; ``unique``: the caller knows it writes no path twice."""
        if self._pending is not None:
            self._count(*self._pending, last=False)
        self._pending = (delta, unique)

    def _count(self, delta: LayerDelta, unique: bool, *, last: bool) -> None:
        self.sizes.append(sum(e.size for e in delta.entries if e.kind == "file"))
        if (
            last
            and unique
            and not delta.whiteouts
            and not delta.opaques
            and not any(WHITEOUT in e.path for e in delta.entries)
        ):
            return self._count_top(delta)
        tree = _layer_tree(delta)
        lower = self.stacked if self.stacked is not None else tree
        # The walk's order matters only to whiteouts: one whose target is missing below
        # stops it, and one hides what sorts before it. Without them, any order will do.
        order = tree.order() if delta.whiteouts else list(tree.nodes)
        inner, here = tree.parents(), tree.nodes
        # on the top layer, a path is kept only if this layer may see it again: a whiteout's
        # target, which may also be one of its leaves
        targets = frozenset(delta.whiteouts) if last else frozenset()

        def seen() -> Iterator[tuple[str, int, bool]]:
            for path in order:
                if path in inner:
                    continue
                size = here[path]
                if size == DIR:
                    size = 0
                target = _target(path) if WHITEOUT in path else None
                if target is not None:
                    path = target
                    before = lower.nodes.get(path)
                    if before is None:
                        return
                    size = lower.total(path) if before == DIR else 0
                yield path, size, not last or target is not None or path in targets

        self._tally(seen())
        if last:
            return None
        if self.stacked is None and not delta.whiteouts:
            self.stacked = tree  # the first layer's tree is the stack: no copy
            return None
        if self.stacked is None:
            self.stacked = tree.copy()
        stacked, below = self.stacked, self.stacked.nodes
        for path in order:
            target = _target(path) if WHITEOUT in path else None
            if target is not None:
                stacked.remove(target)
            elif path in below:
                below[path] = here[path]
            else:
                stacked.add(path, here[path])
        return None

    def _count_top(self, delta: LayerDelta) -> None:
        """The top layer, when it only writes, each path once, no name dive leaves out: its
        leaves are the paths no other path lies below, counted against the layers below."""
        inner: set[str] = set()  # every directory above a path (few: one per directory)
        for e in delta.entries:
            up = e.path.rpartition("/")[0]
            while up and up not in inner:
                inner.add(up)
                up = up.rpartition("/")[0]
        self._tally(
            (e.path, e.size if e.kind == "file" else 0, False)
            for e in delta.entries
            if e.path not in inner
        )

    def _tally(self, seen: Iterable[tuple[str, int, bool]]) -> None:
        """Count each ``(path, size, keep)`` seen in a layer: a path seen for the first
        time is remembered (as its size alone) only if ``keep``, as a later layer may see
        it again; a path seen before gets, or updates, its row of three figures."""
        once, again = self.once, self.again
        minimum = discovered = 0
        for path, size, keep in seen:
            discovered += size
            first = once.get(path)
            if first is None:
                row = again.get(path)
                if row is None:
                    if keep:
                        once[path] = size
                    minimum += size
                    continue
            else:
                del once[path]
                row = again[path] = [1, first, first]
            row[0] += 1
            row[1] += size
            if size < row[2]:
                minimum -= row[2] - size
                row[2] = size
        self.minimum += minimum
        self.discovered += discovered

    def figures(self) -> DiveFigures:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._count(*pending, last=True)
        sizes = self.sizes
        score = 1.0 if self.discovered == 0 else self.minimum / self.discovered
        rows = [DiveInefficiency("/" + p, r[0], r[1]) for p, r in self.again.items()]
        rows.sort(key=lambda r: (-r.cumulative, r.path))
        wasted = sum(r.cumulative for r in rows)
        user = sum(sizes[1:])
        # Go's float division: 0/0 is NaN, x/0 is +Inf
        percent = wasted / user if user else (math.nan if wasted == 0 else math.inf)
        return DiveFigures(score, wasted, user, sum(sizes), percent, tuple(rows))
