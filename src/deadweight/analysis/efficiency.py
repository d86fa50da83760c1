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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from deadweight.filetree.delta import WHITEOUT, LayerDelta


class Part(Protocol):
    """What a part's counter needs of its part of the image."""

    def holds_own(self, path: str) -> bool:
        """Whether the part owns ``path``, one of the paths it holds."""
        ...

    @property
    def later(self) -> frozenset[str]:
        """The part's directories that later parts' paths lie below."""
        ...


class Dangling(Exception):
    """A whiteout names what is not below: dive stops that layer's walk there, at a place
    that parts of the image cannot tell (the whole image is counted instead)."""


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

    def total(self, path: str, owns: Callable[[str], bool] | None = None) -> int:
        """The bytes of ``path``'s subtree (of the paths ``owns``, when given)."""
        out, todo = 0, [path]
        nodes, kids = self.nodes, self.kids
        while todo:
            p = todo.pop()
            size = nodes[p]
            if size != DIR and (owns is None or owns(p)):
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


def _layer_tree(delta: LayerDelta, implied: Iterable[str] = ()) -> _Tree:
    tree = _Tree()
    for path in implied:  # another part's paths lie below: dive made them on the way
        tree.add(path, 0)
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

    def __init__(self, part: Part | None = None, shared: DiveCounter | None = None) -> None:
        """``part``: count only the paths this part of the image owns
        (:class:`PartOfImage`), into the figures of ``shared`` (the counter of the whole
        image, whose :meth:`figures` are asked for once every part is counted)."""
        self.once: dict[str, int] = {}  # path seen once -> its size
        self.again: dict[str, list[int]] = {}  # path seen more -> [count, cumulative, minimum]
        self.minimum = 0  # the sum of every path's smallest size
        self.discovered = 0  # the sum of every size seen
        self.stacked: _Tree | None = None
        self.sizes: list[int] = []
        self._pending: tuple[LayerDelta, bool, frozenset[str]] | None = None
        self.part = part
        self.tally = shared if shared is not None else self
        # (whiteout target, layer) -> its subtree's bytes, summed over the parts it spans,
        # counted once all parts are in; the targets, kept in ``once`` till then
        self.spanning: dict[tuple[str, int], list[int]] = {}
        self.spanned: set[str] = set()
        self.layer = -1

    def add(
        self, delta: LayerDelta, *, unique: bool = False, implied: frozenset[str] = frozenset()
    ) -> None:
        """Count one more layer; ``unique``: the caller knows it writes no path twice;
        ``implied``: directories of the part that other parts' paths of the layer lie
        below (a part's counter)."""
        if self._pending is not None:
            self._count(*self._pending, last=False)
        self._pending = (delta, unique, implied)

    def finish(self) -> None:
        """Count the last layer (a part's counter: its figures are the shared one's)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._count(*pending, last=True)
        if self.tally is not self:  # a part is done: only what a later part adds to stays
            tally = self.tally
            tally.once = {p: v for p, v in tally.once.items() if p in tally.spanned}

    def _count(
        self, delta: LayerDelta, unique: bool, implied: frozenset[str], *, last: bool
    ) -> None:
        self.layer += 1
        if self.part is None:
            self.sizes.append(sum(e.size for e in delta.entries if e.kind == "file"))
        if (
            last
            and unique
            and not delta.whiteouts
            and not delta.opaques
            and not any(WHITEOUT in e.path for e in delta.entries)
        ):
            return self._count_top(delta, implied)
        tree = _layer_tree(delta, implied)
        lower = self.stacked if self.stacked is not None else tree
        # The walk's order matters only to whiteouts: one whose target is missing below
        # stops it, and one hides what sorts before it. Without them, any order will do.
        order = tree.order() if delta.whiteouts else list(tree.nodes)
        inner, here = tree.parents() | implied, tree.nodes
        # on the top layer, a path is kept only if this layer may see it again: a whiteout's
        # target, which may also be one of its leaves
        targets = frozenset(delta.whiteouts) if last else frozenset()
        part, layer = self.part, self.layer
        spanning, spanned = self.tally.spanning, self.tally.spanned

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
                    if part is not None and not part.holds_own(path):
                        # an earlier part's: what this one owns below it is added to it
                        row = spanning.get((path, layer))
                        if row is not None and path in lower.nodes:
                            row[0] += lower.total(path, part.holds_own)
                        continue
                    before = lower.nodes.get(path)
                    if before is None:
                        if part is not None:  # the walk stops here: the parts cannot say
                            raise Dangling(path)
                        return
                    if before == DIR and part is not None and path in part.later:
                        # later parts hold more of its subtree: counted once they are in
                        spanning[(path, layer)] = [lower.total(path, part.holds_own)]
                        spanned.add(path)
                        continue
                    size = lower.total(path) if before == DIR else 0
                elif part is not None and not part.holds_own(path):
                    continue
                keep = not last or target is not None or path in targets or path in spanned
                yield path, size, keep

        self.tally._tally(seen())
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

    def _count_top(self, delta: LayerDelta, implied: frozenset[str]) -> None:
        """The top layer, when it only writes, each path once, no name dive leaves out: its
        leaves are the paths no other path lies below, counted against the layers below."""
        inner: set[str] = set(implied)  # every directory above a path (few: one a directory)
        for e in delta.entries:
            up = e.path.rpartition("/")[0]
            while up and up not in inner:
                inner.add(up)
                up = up.rpartition("/")[0]
        owns = self.part.holds_own if self.part is not None else None
        spanned = self.tally.spanned  # counted again once every part is in: kept till then
        self.tally._tally(
            (e.path, e.size if e.kind == "file" else 0, e.path in spanned)
            for e in delta.entries
            if e.path not in inner and (owns is None or owns(e.path))
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
        self.finish()
        spanning, self.spanning = self.spanning, {}
        self._tally((path, row[0], True) for (path, _), row in sorted(spanning.items()))
        self.spanned = set()
        sizes = self.sizes
        score = 1.0 if self.discovered == 0 else self.minimum / self.discovered
        rows = [DiveInefficiency("/" + p, r[0], r[1]) for p, r in self.again.items()]
        rows.sort(key=lambda r: (-r.cumulative, r.path))
        wasted = sum(r.cumulative for r in rows)
        user = sum(sizes[1:])
        # Go's float division: 0/0 is NaN, x/0 is +Inf
        percent = wasted / user if user else (math.nan if wasted == 0 else math.inf)
        return DiveFigures(score, wasted, user, sum(sizes), percent, tuple(rows))
