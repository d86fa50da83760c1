"""Property: a path looked up in an image too large to stack whole (``partition.view``,
``partition.Views``: the tree of that path's range alone, with its ancestors and the
hardlink world) is what the whole image's tree says of it: its subtree, node for node, and
every lookup, symlinks followed, with the same answer or the same error (issue 16)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_stacking_property import ops

from deadweight import static
from deadweight.compare.content import holder, resolve, resolved
from deadweight.errors import DeadweightError
from deadweight.filetree import partition, read_delta
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.tree import Node, Tree, stack

PATHS = ["a", "a/b", "a/b/c", "a/b/c/d", "a/bc", "a-b", "a/d", "e", "e/f", "e/f/g", "z"]
# links that lead into other ranges, up, absolute, through links, or nowhere
TARGETS = ["/a", "/e/f", "b", "../a-b", "/z/q", "c/d", "..", "/a/b/c", "x"]
member = st.one_of(
    ops(PATHS), st.builds(static.Symlink, st.sampled_from(PATHS), st.sampled_from(TARGETS))
)
layers = st.lists(st.lists(member, max_size=8), min_size=1, max_size=4)
asked = st.sampled_from([*PATHS, "a/b/c/d/e", "e/f/g/h", "/a/../e/f", "q"])


def _deltas(spec: list[list[static.Entry]]) -> list[LayerDelta]:
    return [read_delta(io.BytesIO(static.tar_bytes(entries)), hash="sha256") for entries in spec]


def _facts(tree: Tree, node: Node) -> tuple[object, ...]:
    """What a node says that a lookup or a copy uses (not its inode's number, which counts
    the entries a stacking saw)."""
    held = holder(tree, node) if node.kind in ("file", "hardlink") else None
    return (node.entry, node.layer, node.implicit, held)


@settings(max_examples=300, deadline=None)
@given(layers, st.sampled_from(PATHS))
def test_a_view_holds_its_subtree_as_the_whole_tree_does(
    spec: list[list[static.Entry]], path: str
) -> None:
    deltas = _deltas(spec)
    whole = stack(deltas)
    try:
        seen = partition.view(deltas, path)
    except partition.Irregular:
        return

    def mine(p: str) -> bool:
        return p == path or p.startswith(path + "/")

    assert all(seen.part.owns(p) == mine(p) for p in [*whole.nodes, *PATHS])
    held = sorted(p for p in seen.tree.nodes if mine(p))
    assert held == sorted(p for p in whole.nodes if mine(p))
    for p in held:
        assert _facts(seen.tree, seen.tree.nodes[p]) == _facts(whole, whole.nodes[p])
    for up in partition.ancestors(path):  # what a lookup below asks of them
        a, b = seen.tree.get(up), whole.get(up)
        assert (a and (a.kind, a.link)) == (b and (b.kind, b.link))


def _lookup(trees: partition.Views | Tree, path: str, follow: bool) -> object:
    try:
        if isinstance(trees, Tree):
            return _facts(trees, resolve(trees, path, follow=follow))
        return _facts(*resolved(trees, path, follow=follow))
    except DeadweightError as exc:
        return str(exc)


@settings(max_examples=400, deadline=None)
@given(layers, st.lists(asked, min_size=1, max_size=3), st.booleans())
def test_lookups_in_views_are_the_whole_tree_s(
    spec: list[list[static.Entry]], paths: list[str], follow: bool
) -> None:
    deltas = _deltas(spec)
    whole = stack(deltas)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(partition, "SIZE", -1)  # every image "large", the empty one too: views
        views = partition.Views(deltas)
        assert views.large
        for path in paths:  # one after the other: a view kept, or another made
            assert _lookup(views, path, follow) == _lookup(whole, path, follow)


def test_views_of_a_small_image_are_its_whole_tree() -> None:
    deltas = _deltas([[static.File("a/b", b"1")], [static.Symlink("l", "/a")]])
    views = partition.Views(deltas)
    assert not views.large
    assert views("a/b") is views("l") is views.whole()
    assert views.whole().get("a/b") is not None


def test_views_find_the_hardlink_world_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each view needs the hardlink world: a pass over every layer, made once for all the
    views of one lookup or command, not once a view."""
    deltas = _deltas(
        [[static.File("a/f", b"1"), static.Hardlink("e/h", "a/f")], [static.Symlink("z", "/a/f")]]
    )
    found: list[int] = []
    real = partition.hardlinks

    def hardlinks(ds: list[LayerDelta]) -> partition.Layout:
        found.append(1)
        return real(ds)

    monkeypatch.setattr(partition, "SIZE", 1)
    monkeypatch.setattr(partition, "hardlinks", hardlinks)
    views = partition.Views(deltas)
    tree, node = resolved(views, "z")  # the view of z, then of a/f
    assert node.path == "a/f" and holder(tree, node) == (0, "a/f")
    assert views("e/h").get("e/h") is not None  # a third view
    assert found == [1]
