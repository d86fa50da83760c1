"""A squash of layers that hide nothing of each other, merged without a tree
(``mutate._disjoint``): the same items, drops and layer bytes as the tree's merge, for random
stacks (where the shape allows it; any other shape goes to the tree)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight import spilled, static
from deadweight.filetree import read_delta
from deadweight.filetree.delta import LayerDelta
from deadweight.image import Image
from deadweight.mutate import Ordered, _disjoint, disjoint_merge, merge, squash_merge
from deadweight.mutate._merge import Item
from deadweight.optimize import planning

S = static
# names whose order is not their parents' order: "a-b" and "a.b" sort between "a" and "a/"
PATHS = ["a", "a/b", "a-b", "a.b/c", "a/b/c", "a/b-c", "a/b/c/d", "x/y", "x", "z/z/z"]
DATA = [b"", b"1", b"22"]

entry = st.one_of(
    st.builds(
        S.File, st.sampled_from(PATHS), st.sampled_from(DATA), st.sampled_from([0o644, 0o755])
    ),
    st.builds(S.Dir, st.sampled_from(PATHS), st.sampled_from([0o755, 0o700])),
    st.builds(S.Symlink, st.sampled_from(PATHS), st.sampled_from(["t", "../u"])),
    st.builds(S.Fifo, st.sampled_from(PATHS)),
)
rare = st.one_of(
    st.builds(S.Hardlink, st.sampled_from(PATHS), st.sampled_from(PATHS)),
    st.builds(S.Whiteout, st.sampled_from(PATHS)),
    st.builds(S.Opaque, st.sampled_from(PATHS)),
)
layer = st.lists(st.one_of(entry, entry, entry, rare), max_size=7)
# and stacks more often of the shape merged without a tree: no rare kind, a path once a layer
plain = st.lists(entry, max_size=8, unique_by=lambda e: e.path)
stacks = st.one_of(st.lists(layer, min_size=1, max_size=3), st.lists(plain, min_size=1, max_size=2))


def image(layers: Sequence[Sequence[S.Entry]]) -> Image:
    return S.image([S.Step(f"RUN {i}", S.layer(list(e))) for i, e in enumerate(layers)])


def deltas(img: Image) -> list[LayerDelta]:
    out = []
    for lay in img.layers:
        with lay.open() as stream:
            out.append(read_delta(stream, hash="sha256"))
    return out


def small_spills() -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.object(_disjoint, "RUN", 2))
    stack.enter_context(mock.patch.object(spilled, "FAN", 2))
    stack.enter_context(mock.patch.object(spilled, "BATCH", 3))
    return stack


def _tree_only(*_: object, **__: object) -> None:
    return None


@settings(max_examples=400, deadline=None)
@given(stacks, st.sets(st.sampled_from(PATHS)), st.booleans(), st.data())
def test_without_a_tree_the_merge_and_the_layer_are_the_tree_s(
    layers: list[list[S.Entry]], dropped: set[str], epoch: bool, data: st.DataObject
) -> None:
    img = image(layers)
    ds = deltas(img)
    keep = data.draw(st.integers(0, len(layers) - 1))

    def drop(path: str) -> bool:
        return path in dropped

    # sorted in runs of 2, merged two at a time, in batches of 3; a parent asked for again
    # once the one remembered is forgotten
    with small_spills(), mock.patch.object(_disjoint, "SEEN", 1):
        fast = disjoint_merge(ds, keep, drop)
    slow = merge(ds, keep, drop)
    if fast is not None:
        assert list(fast.items) == list(slow.items)
        assert fast.dropped == slow.dropped
    stamp = 0 if epoch else None
    with small_spills():  # the second read's finds sorted in runs too
        a = squash_merge(img, keep, drop=drop, deltas=ds, epoch=stamp)
    with mock.patch("deadweight.mutate.squashing.disjoint_merge", _tree_only):
        b = squash_merge(img, keep, drop=drop, deltas=ds, epoch=stamp)
    assert a.image.id == b.image.id
    assert a.layer_size == b.layer_size
    assert a.merge is not None and b.merge is not None
    assert a.merge.dropped == b.merge.dropped
    assert isinstance(a.merge.items, Ordered) == (fast is not None)


def test_an_implicit_parent_is_made_by_the_first_entry_under_it() -> None:
    """``a/b/c`` in layer 0 makes ``a`` and ``a/b`` there; layer 1's ``a/b`` only gives
    the directory its metadata. The walk up from ``a/b/c`` stopped at ``a/b`` because a
    later entry lists it, and ``a`` was said to be made in layer 1 (hypothesis found it)."""
    ds = deltas(image([[S.Dir("a/b/c")], [S.Dir("a/b")]]))
    fast = disjoint_merge(ds, 0)
    slow = merge(ds, 0)
    assert fast is not None
    assert list(fast.items) == list(slow.items)
    assert [(i.path, i.action, i.layer) for i in fast.items] == [
        ("a", "implicit", 0),
        ("a/b", "copy", 1),
        ("a/b/c", "copy", 0),
    ]


def test_a_disjoint_stack_is_written_in_path_order_with_implicit_parents() -> None:
    img = image(
        [
            [S.File("a/b/c", b"1"), S.File("a-b", b"22"), S.Dir("a", 0o700)],
            [S.Symlink("x/y", "../a"), S.Fifo("a.b/c"), S.File("tmp/t", b"333"), S.Dir("a")],
        ]
    )
    ds = deltas(img)
    fast = disjoint_merge(ds, 0, lambda p: p.startswith("tmp/"))
    assert fast is not None and isinstance(fast.items, Ordered)
    assert [(i.path, i.action, i.layer) for i in fast.items][:1] == [("a", "copy", 1)]
    assert [(i.path, i.action) for i in fast.items] == [
        ("a", "copy"),  # a directory over a directory: the upper one's
        ("a-b", "data"),
        ("a.b", "implicit"),
        ("a.b/c", "copy"),
        ("a/b", "implicit"),
        ("a/b/c", "data"),
        ("tmp", "implicit"),  # its only file dropped, the directory stays (as the tree's)
        ("x", "implicit"),
        ("x/y", "copy"),
    ]
    assert [(d.path, d.bytes, d.layer) for d in fast.dropped] == [("tmp/t", 3, 1)]
    assert fast.items.bytes == 1 + 2 + 4 + 3  # files and the symlink's target
    assert fast.items[1] == Item("a-b", "data", 0, "a-b")
    assert list(fast.items[4:6]) == list(fast.items)[4:6]
    written = squash_merge(img, 0, drop=lambda p: p.startswith("tmp/"), deltas=ds)
    with mock.patch("deadweight.mutate.squashing.disjoint_merge", _tree_only):
        tree = squash_merge(img, 0, drop=lambda p: p.startswith("tmp/"), deltas=ds)
    assert written.image.id == tree.image.id
    assert isinstance(written.merge and written.merge.items, Ordered)


def test_a_directory_listed_again_in_its_layer_or_above_is_the_last_one() -> None:
    img = image([[S.Dir("d", 0o700), S.File("d/f"), S.Dir("d", 0o750)], [S.Dir("d", 0o711)]])
    ds = deltas(img)
    fast = disjoint_merge(ds, 0)
    assert fast is not None and list(fast.items) == list(merge(ds, 0).items)
    assert fast.items[0] == Item("d", "copy", 1)
    assert disjoint_merge(ds[:1], 0) is not None
    one = image([[S.Dir("d", 0o700), S.File("d/f"), S.Dir("d", 0o750)]])
    written = squash_merge(one, 0)
    with mock.patch("deadweight.mutate.squashing.disjoint_merge", _tree_only):
        assert written.image.id == squash_merge(one, 0).image.id


@pytest.mark.parametrize(
    ("layers", "keep"),
    [
        ([[S.File("a")], [S.File("a")]], 0),  # a path twice: the later replaces
        ([[S.Dir("a")], [S.Dir("a"), S.File("a")]], 0),  # a directory replaced in its layer
        ([[S.File("a")], [S.Whiteout("b")]], 0),
        ([[S.Dir("a")], [S.Opaque("a")]], 0),
        ([[S.File("a"), S.Hardlink("b", "a")]], 0),
        ([[S.File("a"), S.File("a/b")]], 0),  # under a file
        ([[S.File("a/b/c"), S.Symlink("a", "x")]], 0),  # under a symlink, further up
        ([[S.File("a")], [S.File("a")]], 1),  # a kept layer's file replaced
        ([[S.Dir("a")], [S.File("a")]], 1),  # a kept layer's directory replaced
        ([[S.File("a")], [S.Dir("a")]], 1),  # and the other way
        ([[S.Symlink("a", "x")], [S.File("a/b/c")]], 1),  # under a kept symlink
        ([[S.File("a")], [S.File("b")], [S.Whiteout("a")]], 1),  # a kept path deleted
    ],
)
def test_any_other_shape_goes_to_the_tree(layers: list[list[S.Entry]], keep: int) -> None:
    assert disjoint_merge(deltas(image(layers)), keep) is None


def test_a_safe_plan_of_a_disjoint_image_stacks_no_tree_and_is_the_tree_s_plan() -> None:
    img = image(
        [
            [S.File("app/main", b"x" * 10), S.File("tmp/cache", b"y" * 7)],
            [S.File("var/cache/apt/archives/p.deb", b"z" * 5), S.Symlink("app/l", "main")],
        ]
    )
    fast = planning.plan(img, squash="all", epoch=0)
    with mock.patch("deadweight.optimize.planning.disjoint_merge", _tree_only):
        slow = planning.plan(img, squash="all", epoch=0)
    assert fast.stacking is None and slow.stacking is not None
    assert fast == slow
    assert fast.bytes_saved == 12
    assert planning.apply(img, fast).id == planning.apply(img, slow).id


def test_layers_over_kept_ones_they_only_add_to_are_merged_without_their_tree() -> None:
    img = image(
        [
            [S.Dir("usr"), S.File("usr/lib/x", b"base"), S.File("tmp/base-t", b"b")],
            [S.Dir("usr", 0o700), S.File("usr/lib/y", b"1"), S.File("app/m", b"22")],
            [S.File("usr/share/doc/d", b"333"), S.File("tmp/t", b"4444")],
        ]
    )
    ds = deltas(img)
    fast = disjoint_merge(ds, 1, lambda p: p.startswith("tmp/"))
    assert fast is not None and isinstance(fast.items, Ordered)
    assert list(fast.items) == list(merge(ds, 1, lambda p: p.startswith("tmp/")).items)
    assert [(i.path, i.action, i.layer) for i in fast.items] == [
        ("app", "implicit", 1),
        ("app/m", "data", 1),
        # no "tmp": the kept layer has it (a parent it made), and its one file here dropped
        ("usr", "copy", 1),  # a directory over the kept one: its new metadata
        ("usr/lib/y", "data", 1),  # usr/lib is the kept layers' (implicit there)
        ("usr/share", "implicit", 2),
        ("usr/share/doc", "implicit", 2),
        ("usr/share/doc/d", "data", 2),
    ]
    assert fast.items.lower is not None and "usr/lib/x" in fast.items.lower.nodes
    written = squash_merge(img, 1, drop=lambda p: p.startswith("tmp/"), deltas=ds)
    with mock.patch("deadweight.mutate.squashing.disjoint_merge", _tree_only):
        tree = squash_merge(img, 1, drop=lambda p: p.startswith("tmp/"), deltas=ds)
    assert written.image.id == tree.image.id
    plan = planning.plan(img, keep_bottom=1, epoch=0)
    with mock.patch("deadweight.optimize.planning.disjoint_merge", _tree_only):
        slow = planning.plan(img, keep_bottom=1, epoch=0)
    assert plan.stacking is None and plan == slow
    assert planning.apply(img, plan).id == planning.apply(img, slow).id
