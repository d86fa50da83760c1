"""The byte map: every byte of the final tree and of the waste in one tree of regions, by
kind, folded to a bounded number of regions whatever the image's size."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight import static
from deadweight.analysis import bytemap
from deadweight.analysis.analyze import analyze_deltas
from deadweight.analysis.bytemap import Region, byte_map
from deadweight.filetree import LayerDelta, partition, read_delta, stack


def delta(entries: Sequence[static.Entry]) -> LayerDelta:
    return read_delta(io.BytesIO(static.tar_bytes(entries)), hash="sha256")


def regions(r: Region) -> list[Region]:
    out = [r]
    for c in r.children:
        out.extend(regions(c))
    return out


def by_path(r: Region) -> dict[str, Region]:
    return {x.path: x for x in regions(r)}


def check_sums(r: Region) -> None:
    """A region's bytes are its children's, and its kinds add up to its bytes."""
    assert sum(b for _, b in r.kinds) == r.bytes
    if r.children:
        assert sum(c.bytes for c in r.children) == r.bytes
        for c in r.children:
            check_sums(c)


def test_kinds_base_app_bloat_and_waste_with_exact_bytes() -> None:
    deltas = [
        delta([static.File("etc/os-release", b"o" * 300), static.File("bin/sh", b"s" * 5000)]),
        delta(
            [
                static.File("var/lib/apt/lists/x_Packages", b"p" * 4000),
                static.File("app/server.js", b"j" * 2000),
                static.File("tmp/big.bin", b"b" * 9000),
            ]
        ),
        delta([static.Whiteout("tmp/big.bin")]),
    ]
    a = analyze_deltas(deltas, instructions=["FROM base", "RUN build", "RUN rm /tmp/big.bin"])
    m = byte_map(deltas, waste=a.waste, bloat=a.bloat, base_layers=1)
    check_sums(m)
    paths = by_path(m)
    assert m.bytes == 300 + 5000 + 4000 + 2000 + 9000
    assert (paths["bin/sh"].kind, paths["bin/sh"].bytes) == ("base", 5000)
    assert paths["var/lib/apt/lists/x_Packages"].kind == "apt-cache"
    assert paths["app/server.js"].kind == "app"
    hidden = paths["tmp/big.bin (hidden)"]
    assert (hidden.kind, hidden.bytes) == ("waste", 9000)
    assert dict(m.kinds) == {"base": 5300, "apt-cache": 4000, "app": 2000, "waste": 9000}
    assert m.kind == "waste"  # the largest part
    assert paths["tmp"].is_dir and paths["tmp"].kind == "waste"


def test_hardlinks_count_once_and_empty_files_not_at_all() -> None:
    deltas = [
        delta(
            [
                static.File("a/data", b"d" * 700),
                static.Hardlink("b/data", "a/data"),
                static.File("c/empty", b""),
            ]
        )
    ]
    m = byte_map(deltas)
    assert m.bytes == 700
    assert "c" not in by_path(m)


def test_many_files_fold_into_a_bounded_map_that_keeps_every_byte() -> None:
    files = [static.File(f"d{i % 30}/sub{i % 7}/f{i}", b"x" * (1 + i % 97)) for i in range(6000)]
    files.append(static.File("huge/one.bin", b"h" * 500_000))
    deltas = [delta(files)]
    m = byte_map(deltas, limit=300, per_dir=12)
    check_sums(m)
    every = regions(m)
    assert len(every) <= 300 + 12 + 1  # the last directory opened may add one row
    assert m.bytes == stack(deltas).size()
    assert by_path(m)["huge"].bytes == 500_000  # the largest entries are shown by name
    folds = [r for r in every if r.folded]
    assert folds and all(r.name == f"({r.folded} smaller)" for r in folds)
    assert sum(r.files for r in m.children) == m.files == 6001


def test_a_closed_directory_is_a_leaf_holding_all_its_bytes() -> None:
    files = [static.File(f"deep/a/b/c/f{i}", b"y" * 10) for i in range(50)]
    files.append(static.File("top.bin", b"t" * 100_000))
    m = byte_map([delta(files)], limit=3, per_dir=5)
    deep = by_path(m)["deep"]
    assert (deep.bytes, deep.files, deep.children, deep.is_dir) == (500, 50, (), True)


def test_the_map_is_deterministic() -> None:
    files = [static.File(f"p/{n}", b"z" * 40) for n in ("b", "a", "c", "d")]
    one = byte_map([delta(files)], per_dir=2)
    two = byte_map([delta(list(reversed(files)))], per_dir=2)
    assert one == two
    assert [c.name for c in by_path(one)["p"].children] == ["a", "b", "(2 smaller)"]


# paths of a few directories, many files in some: ranges cut through them
_NAMES = [f"d/f{i}" for i in range(12)] + ["d/e/g", "d-x/h", "a", "a/b/c", "z/y"]
_FILE = st.builds(
    static.File, st.sampled_from(_NAMES), st.sampled_from([b"", b"1", b"22", b"4444"])
)
_NAME = st.sampled_from(_NAMES)
_OTHER = st.one_of(  # what moves bytes about: links, deletions, directories in the way
    st.builds(static.Dir, _NAME),
    st.builds(static.Symlink, _NAME, st.sampled_from(["x", "../yy"])),
    st.builds(static.Hardlink, _NAME, _NAME),
    st.builds(static.Whiteout, _NAME),
    st.builds(static.Opaque, _NAME),
)
_LAYERS = st.lists(st.lists(st.one_of(_FILE, _FILE, _OTHER), max_size=12), min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(_LAYERS, st.integers(1, 5), st.integers(1, 3), st.integers(1, 30), st.integers(0, 2))
def test_the_map_of_an_image_in_parts_with_files_only_counted_is_the_whole_tree_s(
    spec: list[list[static.Entry]], part: int, per_dir: int, limit: int, base: int
) -> None:
    """``byte_map`` stacks a large image a range of paths at a time, and a directory
    keeps only its largest files by name (the rest as sums): the same map as the whole tree
    with every file kept (issue 16)."""
    deltas = [delta(entries) for entries in spec]
    a = analyze_deltas(deltas, instructions=["RUN x"] * len(spec))
    kw: dict[str, Any] = {
        "waste": a.waste, "bloat": a.bloat, "base_layers": base, "limit": limit,
        "per_dir": per_dir,
    }  # fmt: skip
    with pytest.MonkeyPatch.context() as m:
        m.setattr(bytemap._Dir, "add_file", _every_file)
        whole = byte_map(deltas, **kw)  # stacked whole: below partition.SIZE
    with pytest.MonkeyPatch.context() as m:
        m.setattr(partition, "SIZE", part)
        m.setattr(bytemap, "_SLACK", 0)  # pushed out as soon as two per_dir are kept
        parted = byte_map(deltas, **kw)
    assert parted == whole


def _every_file(self: Any, name: str, size: int, kind: str, per_dir: int) -> None:
    self.files.append((name, size, kind))  # the map before: every file kept


def test_a_directory_of_many_files_keeps_its_largest_and_counts_the_rest() -> None:
    files = [static.File(f"d/f{i:04}", b"x" * (1 + i % 50)) for i in range(3000)]
    deltas = [delta(files)]
    m = byte_map(deltas, per_dir=5, limit=50)
    d = by_path(m)["d"]
    assert [c.name for c in d.children] == [
        "f0049", "f0099", "f0149", "f0199", "f0249", "(2995 smaller)",
    ]  # fmt: skip
    assert d.children[-1].files == 2995 and d.bytes == sum(1 + i % 50 for i in range(3000))
    check_sums(m)
    root = bytemap._Dir("/", "")
    for i in range(3000):
        bytemap._insert(root, f"d/f{i:04}", 1 + i % 50, "app", 5)
    assert len(root.dirs["d"].files) < 2 * 5 + bytemap._SLACK  # not one per file
