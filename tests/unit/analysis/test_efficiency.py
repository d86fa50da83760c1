"""dive-compatible figures, computed as wagoodman/dive's filetree.Efficiency does."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight import static
from deadweight.analysis.efficiency import DiveCounter, DiveFigures, DiveInefficiency
from deadweight.filetree import Entry, LayerDelta, read_delta
from deadweight.filetree.delta import WHITEOUT


def dive_figures(deltas: Sequence[LayerDelta]) -> DiveFigures:
    """The figures the analyzer's counter gives after these layers, in order."""
    counter = DiveCounter()
    for d in deltas:
        # what the analyzer's stacker tells it: no path written twice (the top layer is
        # then counted from its entries, without a tree)
        counter.add(d, unique=len({e.path for e in d.entries}) == len(d.entries))
    return counter.figures()


def delta(entries: list[static.Entry]) -> LayerDelta:
    return read_delta(io.BytesIO(static.tar_bytes(entries)))


def test_dive_counts_the_surviving_copy_and_deleted_files_at_zero() -> None:
    f = dive_figures(
        [
            delta(
                [
                    static.File("a", b"a" * 100),
                    static.File("b", b"b" * 50),
                    static.Dir("d"),
                    static.File("d/x", b"x" * 10),
                ]
            ),
            delta([static.Whiteout("a"), static.File("b", b"b" * 50)]),
            delta([static.Whiteout("d")]),
        ]
    )
    # min sizes: /a 0, /b 50, /d/x 10, /d 10 (a deleted dir counts its subtree)
    assert f.efficiency == 70 / 220
    assert f.inefficiencies == (DiveInefficiency("/a", 2, 100), DiveInefficiency("/b", 2, 100))
    assert f.wasted_bytes == 200  # ours would be 160: 100 deleted + 50 duplicate + 10 deleted
    assert (f.size, f.user_size) == (210, 50)
    assert f.user_wasted_percent == 4.0


def test_a_whiteout_of_a_missing_path_stops_that_layers_walk() -> None:
    f = dive_figures(
        [
            delta([static.File("z", b"z" * 5)]),
            delta([static.Whiteout("a_missing"), static.File("b", b"b" * 7)]),
            delta([static.File("b", b"b" * 7)]),
        ]
    )
    # dive never sees layer 1's /b, so the second /b is not a duplicate
    assert (f.efficiency, f.wasted_bytes, f.inefficiencies) == (1.0, 0, ())
    assert f.user_wasted_percent == 0.0


def test_opaque_directories_are_ignored() -> None:
    f = dive_figures(
        [
            delta([static.Dir("d"), static.File("d/x", b"x" * 10)]),
            delta([static.Dir("d"), static.Opaque("d")]),
        ]
    )
    assert (f.efficiency, f.wasted_bytes) == (1.0, 0)


def test_symlinks_and_hardlinks_weigh_nothing_for_dive() -> None:
    f = dive_figures(
        [
            delta(
                [static.File("f", b"f" * 8), static.Symlink("s", "f"), static.Hardlink("h", "f")]
            ),
            delta([static.Symlink("s", "g"), static.Hardlink("h", "f")]),
        ]
    )
    assert f.inefficiencies == (DiveInefficiency("/h", 2, 0), DiveInefficiency("/s", 2, 0))
    assert (f.efficiency, f.wasted_bytes, f.user_size) == (1.0, 0, 0)
    assert math.isnan(f.user_wasted_percent)  # Go: 0/0


def test_no_layers() -> None:
    f = dive_figures([])
    assert (f.efficiency, f.wasted_bytes, f.size) == (1.0, 0, 0)
    assert math.isnan(f.user_wasted_percent)


def test_waste_with_an_empty_user_part_is_infinite_like_go() -> None:
    f = dive_figures([delta([static.File("a", b"1"), static.File("a", b"2")])])
    assert f.wasted_bytes == 0  # one layer: a path seen twice in one tar is one node
    f = dive_figures([delta([static.File("a", b"12")]), delta([static.Whiteout("a")])])
    assert (f.wasted_bytes, f.user_size, f.user_wasted_percent) == (2, 0, math.inf)


# -- the first, tree-of-nodes implementation, kept as the oracle of the flat one ---------


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


def oracle(deltas: Sequence[LayerDelta]) -> DiveFigures:
    """The first implementation: dive's tree of nodes, walked recursively."""
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


NAMES = ["a", "b", "-x", "a-b", "ab", ".wh..wh.plnk", "\x01", "\xe9", "\udcff", "Z"]
path_st = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
entry_st = st.builds(
    Entry,
    path_st,
    st.sampled_from(["file", "dir", "symlink", "hardlink", "other"]),
    st.sampled_from([0, 1, 10, 300]),
)
delta_st = st.builds(
    LayerDelta,
    st.lists(entry_st, max_size=8).map(tuple),
    st.lists(path_st, max_size=3).map(tuple),
    st.lists(st.one_of(st.just(""), path_st), max_size=2).map(tuple),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(delta_st, max_size=5))
def test_the_flat_computation_equals_the_tree_of_nodes(deltas: list[LayerDelta]) -> None:
    # the reader records a size on regular files only
    fixed = [
        LayerDelta(
            tuple(Entry(e.path, e.kind, e.size if e.kind == "file" else 0) for e in d.entries),
            d.whiteouts,
            d.opaques,
        )
        for d in deltas
    ]
    new, old = dive_figures(fixed), oracle(fixed)
    assert (new.efficiency, new.wasted_bytes, new.user_size, new.size) == (
        old.efficiency,
        old.wasted_bytes,
        old.user_size,
        old.size,
    )
    assert new.inefficiencies == old.inefficiencies
    assert str(new.user_wasted_percent) == str(old.user_wasted_percent)  # nan == nan
