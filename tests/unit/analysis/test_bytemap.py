"""The byte map: every byte of the final tree and of the waste in one tree of regions, by
kind, folded to a bounded number of regions whatever the image's size."""

from __future__ import annotations

import io
from collections.abc import Sequence

from deadweight import static
from deadweight.analysis.analyze import analyze_deltas
from deadweight.analysis.bytemap import Region, byte_map
from deadweight.filetree import LayerDelta, read_delta, stack


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
    m = byte_map(stack(deltas), waste=a.waste, bloat=a.bloat, base_layers=1)
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
    m = byte_map(stack(deltas))
    assert m.bytes == 700
    assert "c" not in by_path(m)


def test_many_files_fold_into_a_bounded_map_that_keeps_every_byte() -> None:
    files = [static.File(f"d{i % 30}/sub{i % 7}/f{i}", b"x" * (1 + i % 97)) for i in range(6000)]
    files.append(static.File("huge/one.bin", b"h" * 500_000))
    tree = stack([delta(files)])
    m = byte_map(tree, limit=300, per_dir=12)
    check_sums(m)
    every = regions(m)
    assert len(every) <= 300 + 12 + 1  # the last directory opened may add one row
    assert m.bytes == tree.size()
    assert by_path(m)["huge"].bytes == 500_000  # the largest entries are shown by name
    folds = [r for r in every if r.folded]
    assert folds and all(r.name == f"({r.folded} smaller)" for r in folds)
    assert sum(r.files for r in m.children) == m.files == 6001


def test_a_closed_directory_is_a_leaf_holding_all_its_bytes() -> None:
    files = [static.File(f"deep/a/b/c/f{i}", b"y" * 10) for i in range(50)]
    files.append(static.File("top.bin", b"t" * 100_000))
    m = byte_map(stack([delta(files)]), limit=3, per_dir=5)
    deep = by_path(m)["deep"]
    assert (deep.bytes, deep.files, deep.children, deep.is_dir) == (500, 50, (), True)


def test_the_map_is_deterministic() -> None:
    files = [static.File(f"p/{n}", b"z" * 40) for n in ("b", "a", "c", "d")]
    one = byte_map(stack([delta(files)]), per_dir=2)
    two = byte_map(stack([delta(list(reversed(files)))]), per_dir=2)
    assert one == two
    assert [c.name for c in by_path(one)["p"].children] == ["a", "b", "(2 smaller)"]
