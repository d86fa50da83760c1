"""dive-compatible figures, computed as wagoodman/dive's filetree.Efficiency does."""

from __future__ import annotations

import io
import math

from deadweight import static
from deadweight.analysis.efficiency import DiveInefficiency, dive_figures
from deadweight.filetree import LayerDelta, read_delta


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
