"""The explorer's data: the tree as of a layer, marks, filters, listing order, the file pane."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from deadweight import static as S
from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze_deltas
from deadweight.filetree import LayerDelta, read_delta
from deadweight.filetree.tree import Stacker, Tree
from deadweight.tui.model import Explorer, Filter, next_sizes


def delta(entries: Sequence[S.Entry]) -> LayerDelta:
    return read_delta(io.BytesIO(S.tar_bytes(entries)), hash="sha256", capture=pkgs.capture)


LOCK = b'{"name":"x","lockfileVersion":3,"packages":{"node_modules/left-pad":{"version":"1.3.0"}}}'
LAYERS: list[tuple[str, list[S.Entry]]] = [
    ("ADD base", [S.File("etc/os-release", b"o" * 10), S.File("usr/bin/tool", b"t" * 500)]),
    ("RUN build", [
        S.File("app/node_modules/.package-lock.json", LOCK),
        S.File("app/node_modules/left-pad/package.json", b'{"name":"left-pad","version":"1.3.0"}'),
        S.File("app/node_modules/left-pad/index.js", b"i" * 300),
        S.File("tmp/x.tar", b"x" * 2000),
        S.File("usr/bin/tool", b"T" * 600),
    ]),
    ("RUN rm /tmp/x.tar", [S.Whiteout("tmp/x.tar")]),
]  # fmt: skip


def nonzero(sizes: Mapping[str, int]) -> dict[str, int]:
    return {d: b for d, b in sizes.items() if b}


def explorer() -> Explorer:
    deltas = [delta(e) for _, e in LAYERS]
    return Explorer(deltas, analyze_deltas(deltas, instructions=[i for i, _ in LAYERS]))


def test_marks_as_of_each_layer() -> None:
    e = explorer()
    one = e.view(1)
    assert one.marks["app/node_modules/left-pad/index.js"] == "A"
    assert one.marks["usr/bin/tool"] == "M"
    assert one.marks["tmp/x.tar"] == "W"  # written here, hidden by layer 2
    assert "tmp/x.tar" in one.changed  # still something layer 1 changed
    two = e.view(2)
    assert two.marks["tmp/x.tar"] == "R" and "tmp/x.tar" in two.removed
    assert [r.name for r in two.listing("tmp")] == ["x.tar"]
    assert e.view(0).marks["usr/bin/tool"] == "W"  # layer 1 overwrote it


def test_listing_orders_and_sizes() -> None:
    v = explorer().view(1)
    rows = v.listing("")
    assert [(r.name, r.bytes) for r in rows][:2] == [("tmp", 2000), ("usr", 600)]
    assert [r.name for r in v.listing("", "name")] == ["app", "etc", "tmp", "usr"]


def test_filters_keep_the_directories_above_a_match() -> None:
    v = explorer().view(1)
    v.set_filter(Filter(text="LEFT-PAD"))
    assert [r.name for r in v.listing("")] == ["app"]
    assert [r.name for r in v.listing("app/node_modules")] == ["left-pad"]
    v.set_filter(Filter(hide=frozenset({"", "W"})))  # only added and modified
    assert sorted(r.name for r in v.listing("")) == ["app", "usr"]
    v.set_filter(Filter(category="temp"))
    assert [r.name for r in v.listing("")] == ["tmp"]
    v.set_filter(Filter(changes_only=True))
    assert "etc" not in [r.name for r in v.listing("")]
    v.set_filter(Filter())
    assert v.largest() == "tmp/x.tar"


def test_details_name_the_writer_the_hider_and_the_package() -> None:
    v = explorer().view(1)
    d = v.details("tmp/x.tar")
    assert (d.written_by, d.hidden_by, d.hidden_instruction) == (1, 2, "RUN rm /tmp/x.tar")
    assert d.category == "temp" and d.size == 2000 and d.mode == 0o644
    assert v.details("app/node_modules/left-pad/index.js").package == "npm left-pad 1.3.0"
    assert v.details("etc/os-release").hidden_by == -1


def test_a_view_stacked_on_a_kept_layer_is_the_view_stacked_from_the_bottom() -> None:
    walked = explorer()
    walked.view(2)  # the first view keeps nothing; the app then keeps every layer's
    assert walked.states == {}
    walked.keep_states()
    for index in (0, 1, 2):
        walked.view(index)
    assert sorted(walked.states) == [0, 1, 2]
    for index in range(3):
        fresh = explorer().view(index)
        kept = walked.view(index)
        assert kept.nodes == fresh.nodes and kept.marks == fresh.marks
        assert kept.removed == fresh.removed and nonzero(kept.sizes) == nonzero(fresh.sizes)
    again = explorer()
    again.states = {0: walked.states[0]}
    again._kept = 1
    assert again.view(2).marks == explorer().view(2).marks  # stacked on layer 0's copy
    assert walked.states[0].nodes == explorer().view(0).nodes  # the kept copy unchanged


# every way a layer changes what lies below: new files, overwrites, whiteouts of files and
# of directories, opaque directories, a directory replaced by a file and back, symlinks,
# hardlinks made and removed (those sum again)
CHURN: list[list[S.Entry]] = [
    [S.File("a/x", b"1" * 100), S.File("a/b/y", b"2" * 200), S.File("c/z", b"3" * 300),
     S.Symlink("c/link", "z"), S.File("d/e/f", b"4" * 40), S.File("h", b"5" * 50)],
    [S.File("a/x", b"1" * 10), S.Whiteout("c"), S.File("c2/new", b"6" * 60),
     S.Opaque("d"), S.File("d/g", b"7" * 70)],
    [S.Hardlink("a/hl", "a/b/y"), S.File("h/inside", b"8" * 80)],
    [S.Whiteout("a/b"), S.Opaque("d"), S.File("zz/later", b"9" * 9)],
    [S.Whiteout("a/hl"), S.Whiteout("h"), S.File("h", b"0" * 5), S.Whiteout("c2/new")],
]  # fmt: skip


def test_directory_sizes_carried_layer_to_layer_equal_those_summed_again() -> None:
    deltas = [delta(e) for e in CHURN]
    st, carried = Stacker(), 0
    sizes: Mapping[str, int] = {}
    for d in deltas:
        first_new = len(st.inodes)
        hidden = st.apply(d)
        step = next_sizes(sizes, st, d, hidden, first_new)
        carried += step is not None
        summed = Tree(st.nodes, st.inodes).dir_sizes()
        sizes = summed if step is None else step
        assert nonzero(sizes) == nonzero(summed)
    assert carried == 3  # not the layers that make a hardlink or hide one of its paths


def test_views_made_from_kept_stackings_equal_views_stacked_from_the_bottom() -> None:
    deltas = [delta(e) for e in CHURN]
    kept = Explorer(deltas)
    kept.keep_states()
    assert sorted(kept.states) == sorted(kept.sizes) == list(range(len(CHURN)))
    for index in range(len(CHURN)):
        fresh = Explorer(deltas).view(index)
        view = kept.view(index)
        assert view.nodes == fresh.nodes and view.marks == fresh.marks, index
        assert view.removed == fresh.removed and view.changed == fresh.changed, index
        assert nonzero(view.sizes) == nonzero(fresh.sizes), index
        assert [r for r in view.listing("")] == [r for r in fresh.listing("")]
    assert kept.view(3).marks["a/b/y"] == "R" and kept.view(3).marks["d/g"] == "R"
