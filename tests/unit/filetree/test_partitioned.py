"""Property: an image stacked a range of paths at a time (``filetree.partition``) gives the
same analysis as the image stacked whole (issue 16: no stacking holds every path)."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_stacking_property import ops

from deadweight import static
from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze_deltas
from deadweight.analysis.report import Analysis
from deadweight.filetree import partition, read_delta
from deadweight.filetree.delta import LayerDelta

# paths whose ranges cut through subtrees: a-b sorts after a's whole subtree
PATHS = ["a", "a/b", "a/b/c", "a/b/c/d", "a/bc", "a-b", "a/d", "e", "e/f", "e/f/g", "z"]
layers = st.lists(st.lists(ops(PATHS), max_size=8), min_size=1, max_size=5)


def _deltas(spec: list[list[static.Entry]]) -> list[LayerDelta]:
    return [
        read_delta(io.BytesIO(static.tar_bytes(entries)), hash="sha256", capture=pkgs.capture)
        for entries in spec
    ]


def _analyses(
    deltas: list[LayerDelta], monkeypatch: pytest.MonkeyPatch, part: int, **kw: object
) -> tuple[Analysis, Analysis]:
    whole = analyze_deltas(deltas, **kw)  # type: ignore[arg-type]
    with monkeypatch.context() as m:
        m.setattr(partition, "SIZE", part)
        parted = analyze_deltas(deltas, **kw)  # type: ignore[arg-type]
    return whole, parted


@settings(max_examples=300, deadline=None)
@given(layers, st.integers(min_value=1, max_value=4))
# a hardlink's name replaced by the directory a path of another part needs: its inode's
# other name is then the only one, in every part that holds it
@example([[static.Symlink("a/bc", "x"), static.Hardlink("a/b", "a/bc")], [static.Dir("a/b/c")]], 1)
# a hardlink to what its layer then replaces by a directory: tar order decides (whole)
@example([[static.Symlink("a/b", "x")], [static.Hardlink("a/bc", "a/b"), static.Dir("a/b/c")]], 1)
# which of an inode's names goes last, when its layer replaces one by a directory: tar order
@example(
    [
        [static.File("a/b", b"1"), static.Hardlink("a/bc", "a/b")],
        [static.File("a/bc", b""), static.Dir("a/b/c")],
    ],
    1,
)
def test_parts_give_the_whole_analysis(spec: list[list[static.Entry]], part: int) -> None:
    deltas = _deltas(spec)
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole, parted = _analyses(deltas, monkeypatch, part, instructions=["RUN x"] * len(spec))
    # repr: the dive-compatible percent may be NaN, which equals nothing
    assert repr(parted) == repr(whole)


@settings(max_examples=200, deadline=None)
@given(layers, st.integers(min_value=1, max_value=4))
def test_parts_own_every_path_once(spec: list[list[static.Entry]], part: int) -> None:
    deltas = _deltas(spec)
    every = {e.path for d in deltas for e in d.entries} | {
        p for d in deltas for p in (*d.whiteouts, *d.opaques)
    }
    layout = partition.survey(deltas, part)
    cuts = list(layout.cuts)
    assert cuts == sorted(set(cuts))
    try:
        found = list(partition.parts(deltas, layout))
    except partition.Irregular:
        return
    assert len(found) == len(cuts) + 1
    for path in every:
        assert sum(p.owns(path) for p in found) == 1
    for p in found:
        assert len(p.deltas) == len(p.implied) == len(deltas)


def test_a_part_makes_the_directories_later_paths_lie_below() -> None:
    """``a`` (a file in layer 0) is replaced, in layer 1, by the directory that ``a/z``
    needs: the part owning ``a`` does not hold ``a/z`` but must still see ``a`` go."""
    spec: list[list[static.Entry]] = [
        [static.File("a", b"12345"), static.File("b", b"1")],
        [static.File("a/z", b"x")],
    ]
    deltas = _deltas(spec)
    layout = partition.Layout(("a\x00z",))  # a | a/z, b
    first, second = partition.parts(deltas, layout)
    assert first.implied[1] == frozenset({"a"})
    assert not first.deltas[1].entries
    assert [e.path for e in second.deltas[1].entries] == ["a/z"]
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole, parted = _analyses(deltas, monkeypatch, 1)
    assert [(i.path, i.bytes, i.cause) for i in whole.waste.items] == [
        ("a", 5, "overwritten_changed")
    ]
    assert repr(parted) == repr(whole)


def test_a_layer_writing_below_its_own_file_is_stacked_whole() -> None:
    """Tar order decides what ``a`` is when a layer writes the file ``a`` and ``a/z``:
    a part cannot see it, so the image is stacked whole, and the result is the same."""
    spec: list[list[static.Entry]] = [
        [static.File("b", b"1")],
        [static.File("a", b"12345"), static.File("a/z", b"x"), static.File("c", b"2")],
    ]
    deltas = _deltas(spec)
    with pytest.raises(partition.Irregular):
        list(partition.parts(deltas, partition.Layout(("a\x00z",))))
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole, parted = _analyses(deltas, monkeypatch, 1)
    assert whole.waste.items  # the file a, hidden in its own layer by a/z's directory
    assert repr(parted) == repr(whole)


def _lock(dev: str, prod: str) -> bytes:
    doc = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app"},
            f"node_modules/{dev}": {"version": "1.0.0", "dev": True},
            f"node_modules/{prod}": {"version": "2.0.0"},
        },
    }
    return json.dumps(doc).encode()


def test_packages_and_bloat_summed_over_parts() -> None:
    """npm devDependencies (known only once the lockfile's packages are looked up in the
    whole tree), a Python distribution's RECORD, a dpkg database, duplicates and caches
    spread over many parts give what the whole tree gives."""
    status = (
        b"Package: libfoo\nStatus: install ok installed\nVersion: 1\nInstalled-Size: 3\n\n"
        b"Package: bar\nStatus: install ok installed\nVersion: 2\nInstalled-Size: 5\n"
    )
    record = b"pkg/__init__.py,,\npkg/core.py,,\npkg-1.0.dist-info/METADATA,,\n"
    base: list[static.Entry] = [
        static.File("var/lib/dpkg/status", status),
        static.File("usr/share/doc/libfoo/copyright", b"c" * 40),
        static.File("var/cache/apt/archives/x.deb", b"d" * 90),
    ]
    app: list[static.Entry] = [
        static.File("app/package-lock.json", _lock("jest", "express")),
        *[static.File(f"app/node_modules/jest/f{i}.js", b"j" * (i + 1)) for i in range(12)],
        *[static.File(f"app/node_modules/express/f{i}.js", b"e" * (i + 1)) for i in range(12)],
        static.File("app/node_modules/express/test/t.js", b"t" * 7),
        static.File("srv/site-packages/pkg/__init__.py", b"p" * 11),
        static.File("srv/site-packages/pkg/core.py", b"q" * 13),
        static.File("srv/site-packages/pkg-1.0.dist-info/METADATA", b"Name: pkg\nVersion: 1.0\n"),
        static.File("srv/site-packages/pkg-1.0.dist-info/RECORD", record),
        static.File("srv/site-packages/old.egg-info/PKG-INFO", b"Name: old\nVersion: 0.1\n"),
        static.File("srv/site-packages/old.egg-info/top_level.txt", b"old" * 5),
        static.File("srv/\udcff-copy.bin", b"same" * 10),  # a name that is no UTF-8
        static.File("srv/copy1.bin", b"same" * 10),
        static.File("zz/copy2.bin", b"same" * 10),
        static.Hardlink("zz/link.bin", "srv/copy1.bin"),
    ]
    cleanup: list[static.Entry] = [static.Whiteout("var/cache/apt/archives")]
    deltas = _deltas([base, app, cleanup])
    for part in (1, 3, 7, 20):
        with pytest.MonkeyPatch.context() as monkeypatch:
            whole, parted = _analyses(deltas, monkeypatch, part, ignore=["zz/link.bin"])
        assert repr(parted) == repr(whole), part
    dev = [p for p in whole.packages if p.dev]
    assert [(p.name, p.path) for p in dev] == [("jest", "app/node_modules/jest")]
    assert ("npm-dev-dependencies", sum(range(1, 13))) in whole.bloat.by_category
    assert sorted(p.name for p in whole.packages if p.ecosystem == "python") == ["old", "pkg"]
    assert [len(g.paths) for g in whole.bloat.duplicates] == [3]


def test_a_part_refuses_more_members_than_the_image_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from deadweight import limits
    from deadweight.errors import UnsafeLayer

    deltas = _deltas([[static.File(f"f{i}", b"") for i in range(6)]])
    monkeypatch.setattr(partition, "SIZE", 2)
    monkeypatch.setattr(limits, "IMAGE_ENTRIES", 5)
    with pytest.raises(UnsafeLayer, match="IMAGE_ENTRIES"):
        analyze_deltas(deltas)


@pytest.mark.parametrize("part", [1, 2, 3])
def test_dive_counts_a_deleted_directory_spread_over_parts(part: int) -> None:
    """dive counts a deleted directory at the bytes of its whole subtree, which several
    parts hold: each adds its share, and the path is counted once all are in; a later
    layer writing the path again finds it counted before (wasted bytes, two sightings)."""
    spec: list[list[static.Entry]] = [
        [
            static.Dir("a"),
            *[static.File(f"a/f{i}", b"x" * (i + 1)) for i in range(6)],
            static.File("b", b"1"),
        ],
        [static.Whiteout("a"), static.File("c", b"22")],
        [static.File("a", b"333")],
    ]
    deltas = _deltas(spec)
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole, parted = _analyses(deltas, monkeypatch, part)
    top = whole.dive.inefficiencies[0]
    assert (top.path, top.count, top.cumulative) == ("/a", 2, sum(range(1, 7)) + 3)
    assert repr(parted) == repr(whole)


def test_dive_stops_at_a_whiteout_of_nothing_as_the_whole_image_does() -> None:
    """A whiteout naming what is not below stops dive's walk of its layer at a place the
    parts cannot tell: dive's figures are then counted on the whole image."""
    spec: list[list[static.Entry]] = [
        [static.File(f"d/f{i}", b"x" * (i + 1)) for i in range(5)],
        [static.Whiteout("d/nothing"), *[static.File(f"d/g{i}", b"yy") for i in range(5)]],
    ]
    deltas = _deltas(spec)
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole, parted = _analyses(deltas, monkeypatch, 2)
    assert repr(parted) == repr(whole)


@settings(max_examples=300, deadline=None)
@given(layers, layers, st.integers(min_value=0, max_value=2), st.integers(1, 4), st.booleans())
def test_a_diff_in_parts_is_the_whole_diff(
    one: list[list[static.Entry]],
    other: list[list[static.Entry]],
    shared: int,
    part: int,
    complete: bool,
) -> None:
    """``diff`` of two sides stacked a range of paths at a time, with the same cuts, says
    what the two whole views say: whole images, or the layers above a shared base that was
    not read (paths inherited from it, deleted from it, or left unresolved)."""
    from deadweight.compare.diff import _files_and_packages

    base = _deltas(one[:shared])
    da, db = base + _deltas(one[shared:]), base + _deltas(other)
    if not complete:
        da, db = da[len(base) :], db[len(base) :]
    offset = 0 if complete else len(base)
    whole = _files_and_packages(da, db, offset, complete)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(partition, "SIZE", part)
        parted = _files_and_packages(da, db, offset, complete)
    assert parted == whole
