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
from collections.abc import Iterator, Sequence
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


class _DNode:
    __slots__ = ("children", "is_dir", "size")

    def __init__(self, size: int = 0, is_dir: bool = False) -> None:
        self.children: dict[str, _DNode] = {}
        self.size = size
        self.is_dir = is_dir

    def copy(self) -> _DNode:
        new = _DNode(self.size, self.is_dir)
        new.children = {k: v.copy() for k, v in self.children.items()}
        return new

    def add(self, path: str, size: int, is_dir: bool) -> None:
        node = self
        names = [n for n in path.split("/") if n]
        for i, name in enumerate(names):
            child = node.children.get(name)
            if child is None:
                if name.startswith(WHITEOUT + WHITEOUT):
                    return  # dive never attaches ".wh..wh.*" names
                child = node.children[name] = _DNode()
            node = child
            if i == len(names) - 1:
                node.size, node.is_dir = size, is_dir

    def get(self, path: str) -> _DNode | None:
        node: _DNode | None = self
        for name in path.split("/"):
            if name and node is not None:
                node = node.children.get(name)
        return node

    def remove(self, path: str) -> None:
        head, _, name = path.rpartition("/")
        up = self.get(head)
        if up is not None:
            up.children.pop(name, None)

    def total(self) -> int:
        return self.size + sum(c.total() for c in self.children.values())

    def walk(self, prefix: str = "") -> Iterator[tuple[str, _DNode]]:
        """Every node below, deepest first, siblings in byte order (dive's visit order)."""
        for name in sorted(self.children, key=lambda s: s.encode("utf-8", "surrogateescape")):
            child = self.children[name]
            path = f"{prefix}/{name}"
            yield from child.walk(path)
            yield path, child


def _layer_tree(delta: LayerDelta) -> _DNode:
    root = _DNode()
    for e in delta.entries:
        root.add(e.path, e.size if e.kind == "file" else 0, e.kind == "dir")
    for path in delta.whiteouts:
        head, _, name = path.rpartition("/")
        root.add(f"{head}/{WHITEOUT}{name}" if head else WHITEOUT + name, 0, False)
    for path in delta.opaques:
        if path and root.get(path) is None:
            root.add(path, 0, False)
    return root


def _stack(lower: _DNode, upper: _DNode) -> None:
    for path, node in upper.walk():
        head, _, name = path.rpartition("/")
        if name.startswith(WHITEOUT):
            lower.remove(f"{head}/{name[len(WHITEOUT) :]}")
        else:
            lower.add(path, node.size, node.is_dir)


def dive_figures(deltas: Sequence[LayerDelta]) -> DiveFigures:
    """dive's efficiency, wasted bytes and user wasted percent for these layers."""
    seen: dict[str, list[int]] = {}  # path -> [count, cumulative, minimum]
    stacked: _DNode | None = None
    for delta in deltas:
        tree = _layer_tree(delta)
        lower = stacked if stacked is not None else tree.copy()
        for path, node in tree.walk():
            if node.children:
                continue
            head, _, name = path.rpartition("/")
            size = node.size
            if name.startswith(WHITEOUT):
                path = f"{head}/{name[len(WHITEOUT) :]}"
                before = lower.get(path)
                if before is None:
                    break
                size = before.total() if before.is_dir else 0
            row = seen.setdefault(path, [0, 0, size])
            row[0] += 1
            row[1] += size
            row[2] = min(row[2], size)
        if stacked is None:
            stacked = tree.copy()
        _stack(stacked, tree)
    minimum = sum(r[2] for r in seen.values())
    discovered = sum(r[1] for r in seen.values())
    score = 1.0 if discovered == 0 else minimum / discovered
    rows = [DiveInefficiency(p, r[0], r[1]) for p, r in seen.items() if r[0] >= 2]
    rows.sort(key=lambda r: (-r.cumulative, r.path))
    sizes = [sum(e.size for e in d.entries if e.kind == "file") for d in deltas]
    wasted = sum(r.cumulative for r in rows)
    user = sum(sizes[1:])
    # Go's float division: 0/0 is NaN, x/0 is +Inf
    percent = wasted / user if user else (math.nan if wasted == 0 else math.inf)
    return DiveFigures(score, wasted, user, sum(sizes), percent, tuple(rows))
