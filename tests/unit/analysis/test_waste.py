"""Waste by cause, in exact bytes, tied to the writing and the hiding instruction."""

from __future__ import annotations

import io

from deadweight import static
from deadweight.analysis.waste import Waste, WasteItem, waste
from deadweight.filetree import LayerDelta, read_delta, stack

MiB = 1 << 20


def delta(entries: list[static.Entry]) -> LayerDelta:
    return read_delta(io.BytesIO(static.tar_bytes(entries)), hash="sha256")


def analysed(*layers: tuple[str, list[static.Entry]], **kw: object) -> Waste:
    deltas = [delta(entries) for _, entries in layers]
    return waste(deltas, [cmd for cmd, _ in layers], **kw)  # type: ignore[arg-type]


BIG = b"\x01" * (50 * MiB)
EIGHT = b"\x02" * (8 * MiB)


def test_deleted_later_plus_overwritten_later_is_exactly_their_sum() -> None:
    w = analysed(
        ("RUN fetch", [static.File("big.bin", BIG), static.File("conf", EIGHT)]),
        ("RUN rm big.bin", [static.Whiteout("big.bin")]),
        ("COPY conf /conf", [static.File("conf", b"\x03" * (8 * MiB))]),
    )
    assert w.reclaimable == 50 * MiB + 8 * MiB
    assert w.items == (
        WasteItem("big.bin", 50 * MiB, "deleted", 0, 1, "RUN fetch", "RUN rm big.bin"),
        WasteItem("conf", 8 * MiB, "overwritten_changed", 0, 2, "RUN fetch", "COPY conf /conf"),
    )
    assert w.by_cause == (
        ("deleted", 50 * MiB),
        ("overwritten_changed", 8 * MiB),
        ("overwritten_same", 0),
        ("metadata_only", 0),
        ("opaque", 0),
    )


def test_overwritten_with_the_same_content_is_a_duplicate() -> None:
    w = analysed(
        ("COPY a /", [static.File("a", b"same" * 1000)]),
        ("COPY a /", [static.File("a", b"same" * 1000)]),
    )
    assert w.items == (WasteItem("a", 4000, "overwritten_same", 0, 1, "COPY a /", "COPY a /"),)


def test_chmod_and_chown_copies_are_metadata_only() -> None:
    w = analysed(
        ("COPY app /app", [static.File("app/run", b"#!" * 700), static.File("app/lib", b"L" * 3)]),
        ("RUN chmod +x /app/run", [static.File("app/run", b"#!" * 700, mode=0o755)]),
        ("RUN chown 1000 /app/lib", [static.File("app/lib", b"L" * 3, uid=1000)]),
    )
    assert w.items == (
        WasteItem("app/run", 1400, "metadata_only", 0, 1, "COPY app /app", "RUN chmod +x /app/run"),
        WasteItem("app/lib", 3, "metadata_only", 0, 2, "COPY app /app", "RUN chown 1000 /app/lib"),
    )
    assert w.total("metadata_only") == 1403


def test_hidden_by_an_opaque_directory() -> None:
    w = analysed(
        (
            "RUN build",
            [
                static.Dir("cache"),
                static.File("cache/x", b"x" * 300),
                static.File("cache/y", b"y" * 20),
            ],
        ),
        (
            "RUN rm -rf cache && mkdir cache",
            [static.Dir("cache"), static.Opaque("cache"), static.File("cache/y", b"Y" * 20)],
        ),
    )
    assert w.items == (
        WasteItem("cache/x", 300, "opaque", 0, 1, "RUN build", "RUN rm -rf cache && mkdir cache"),
        WasteItem(
            "cache/y",
            20,
            "overwritten_changed",
            0,
            1,
            "RUN build",
            "RUN rm -rf cache && mkdir cache",
        ),
    )


def test_deleting_a_directory_counts_every_file_below() -> None:
    w = analysed(
        (
            "RUN apt-get update",
            [
                static.Dir("var/lib/apt/lists"),
                static.File("var/lib/apt/lists/a", b"a" * 1000),
                static.File("var/lib/apt/lists/b", b"b" * 234),
                static.Symlink("var/lib/apt/lists/c", "a"),
            ],
        ),
        ("RUN rm -rf /var/lib/apt/lists", [static.Whiteout("var/lib/apt/lists")]),
    )
    assert [(i.path, i.bytes, i.cause) for i in w.items] == [
        ("var/lib/apt/lists/a", 1000, "deleted"),
        ("var/lib/apt/lists/b", 234, "deleted"),
        ("var/lib/apt/lists/c", 1, "deleted"),
    ]
    assert w.reclaimable == 1235


def test_a_surviving_hardlink_keeps_the_bytes_out_of_waste() -> None:
    w = analysed(
        (
            "RUN install",
            [static.File("usr/bin/x", b"x" * 500), static.Hardlink("usr/bin/y", "usr/bin/x")],
        ),
        ("RUN rm x", [static.Whiteout("usr/bin/x")]),
    )
    assert w.items == () and w.reclaimable == 0
    w = analysed(
        (
            "RUN install",
            [static.File("usr/bin/x", b"x" * 500), static.Hardlink("usr/bin/y", "usr/bin/x")],
        ),
        ("RUN rm x", [static.Whiteout("usr/bin/x")]),
        ("RUN rm y", [static.Whiteout("usr/bin/y")]),
    )
    assert w.items == (WasteItem("usr/bin/y", 500, "deleted", 0, 2, "RUN install", "RUN rm y"),)


def test_whiteout_and_recreate_in_one_layer_is_an_overwrite() -> None:
    w = analysed(
        ("A", [static.File("f", b"abc")]),
        ("B", [static.Whiteout("f"), static.File("f", b"abc")]),
    )
    assert [(i.cause, i.bytes) for i in w.items] == [("overwritten_same", 3)]


def test_empty_files_and_directories_are_never_waste() -> None:
    w = analysed(
        ("A", [static.File("e"), static.Dir("d")]),
        ("B", [static.Whiteout("e"), static.Whiteout("d")]),
    )
    assert w.items == () and w.reclaimable == 0


def test_a_file_replaced_by_a_directory_is_a_change() -> None:
    w = analysed(("A", [static.File("p", b"12345")]), ("B", [static.File("p/q", b"1")]))
    assert [(i.path, i.cause, i.bytes) for i in w.items] == [("p", "overwritten_changed", 5)]


def test_excluding_the_base_moves_its_bytes_out_of_reclaimable() -> None:
    layers: tuple[tuple[str, list[static.Entry]], ...] = (
        ("FROM base", [static.File("usr/share/doc/x", b"d" * 70)]),
        (
            "RUN rm -rf /usr/share/doc",
            [static.Whiteout("usr/share/doc"), static.File("tmp/t", b"t" * 9)],
        ),
        ("RUN rm /tmp/t", [static.Whiteout("tmp/t")]),
    )
    w = analysed(*layers, base_layers=1)
    assert w.items == (
        WasteItem("tmp/t", 9, "deleted", 1, 2, "RUN rm -rf /usr/share/doc", "RUN rm /tmp/t"),
    )
    assert (w.reclaimable, w.base_bytes) == (9, 70)
    assert analysed(*layers).reclaimable == 79


def test_ignored_paths_are_left_out() -> None:
    layers: tuple[tuple[str, list[static.Entry]], ...] = (
        ("A", [static.File("keep", b"k" * 4), static.File("var/log/x", b"l" * 6)]),
        ("B", [static.Whiteout("keep"), static.Whiteout("var/log/x")]),
    )
    w = analysed(*layers, ignore=lambda p: p.startswith("var/log/"))
    assert [(i.path, i.bytes) for i in w.items] == [("keep", 4)]


def test_reclaimable_is_what_a_squash_drops() -> None:
    layers: list[list[static.Entry]] = [
        [
            static.File("a", b"a" * 10),
            static.Symlink("s", "abc"),
            static.Hardlink("h", "a"),
            static.Dir("d"),
            static.File("d/1", b"1" * 7),
        ],
        [static.Whiteout("a"), static.File("s", b"now"), static.Opaque("d")],
        [static.File("h", b"h" * 10, mode=0o700)],
    ]
    deltas = [delta(e) for e in layers]
    w = waste(deltas)
    squashed = stack(deltas).size()
    assert w.reclaimable == sum(d.size for d in deltas) - squashed == 10 + 3 + 7
    assert sorted((i.path, i.cause, i.bytes) for i in w.items) == [
        ("d/1", "opaque", 7),
        ("h", "overwritten_changed", 10),  # the hardlink's inode, content differs
        ("s", "overwritten_changed", 3),
    ]


def test_items_are_sorted_by_size_then_path() -> None:
    w = analysed(
        ("A", [static.File("b", b"1" * 5), static.File("a", b"1" * 5), static.File("c", b"1" * 9)]),
        ("B", [static.Whiteout("a"), static.Whiteout("b"), static.Whiteout("c")]),
    )
    assert [i.path for i in w.items] == ["c", "a", "b"]
