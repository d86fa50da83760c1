"""Stacking deltas: whiteout and opaque semantics (OCI image-spec layer.md), links, metadata."""

from __future__ import annotations

import io

import pytest

from deadweight import static
from deadweight.filetree import LayerDelta, Stacker, Tree, read_delta, stack, stack_all


def delta(entries: list[static.Entry]) -> LayerDelta:
    return read_delta(io.BytesIO(static.tar_bytes(entries)), hash="sha256")


def view(tree: Tree) -> dict[str, tuple[str, int, int]]:
    """path -> (kind, size, writer layer), for compact expectations."""
    return {p: (n.kind, n.size, n.layer) for p, n in sorted(tree.nodes.items())}


BASE: list[static.Entry] = [
    static.Dir("etc"),
    static.File("etc/a", b"aaaa"),
    static.File("etc/b", b"bb"),
    static.Dir("etc/sub"),
    static.File("etc/sub/c", b"ccc"),
    static.Symlink("etc/ln", "a"),
    static.File("top", b"t"),
]

# (name, upper layer entries, expected merged view)
CASES: list[tuple[str, list[static.Entry], dict[str, tuple[str, int, int]]]] = [
    (
        "whiteout a file",
        [static.Whiteout("etc/a")],
        {
            "etc": ("dir", 0, 0),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/sub": ("dir", 0, 0),
            "etc/sub/c": ("file", 3, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "whiteout a directory removes its subtree",
        [static.Whiteout("etc/sub")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 4, 0),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "whiteout of a missing path is a no-op",
        [static.Whiteout("nope"), static.Whiteout("etc/sub/zz")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 4, 0),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/sub": ("dir", 0, 0),
            "etc/sub/c": ("file", 3, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "whiteout then re-create in the same layer",
        [static.Whiteout("etc/a"), static.File("etc/a", b"new")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 3, 1),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/sub": ("dir", 0, 0),
            "etc/sub/c": ("file", 3, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "a whiteout never hides an entry of its own layer, whatever the tar order",
        [static.File("etc/new", b"n"), static.Whiteout("etc/new")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 4, 0),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/new": ("file", 1, 1),
            "etc/sub": ("dir", 0, 0),
            "etc/sub/c": ("file", 3, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "opaque directory hides every lower child, keeps the directory",
        [static.Dir("etc"), static.Opaque("etc"), static.File("etc/b", b"B")],
        {"etc": ("dir", 0, 1), "etc/b": ("file", 1, 1), "top": ("file", 1, 0)},
    ),
    (
        "opaque on a nested directory",
        [static.Opaque("etc/sub")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 4, 0),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/sub": ("dir", 0, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "a file replaces a directory and its subtree",
        [static.File("etc/sub", b"now a file")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 4, 0),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/sub": ("file", 10, 1),
            "top": ("file", 1, 0),
        },
    ),
    (
        "a directory over a directory changes metadata only, children stay",
        [static.Dir("etc/sub", mode=0o700)],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 4, 0),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/sub": ("dir", 0, 1),
            "etc/sub/c": ("file", 3, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "a directory replaces a file; a missing parent replaces a file too",
        [static.Dir("top"), static.File("etc/a/x", b"x")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("dir", 0, 1),
            "etc/a/x": ("file", 1, 1),
            "etc/b": ("file", 2, 0),
            "etc/ln": ("symlink", 0, 0),
            "etc/sub": ("dir", 0, 0),
            "etc/sub/c": ("file", 3, 0),
            "top": ("dir", 0, 1),
        },
    ),
    (
        "a symlink replaces a file; a file replaces a symlink",
        [static.Symlink("etc/b", "a"), static.File("etc/ln", b"12345")],
        {
            "etc": ("dir", 0, 0),
            "etc/a": ("file", 4, 0),
            "etc/b": ("symlink", 0, 1),
            "etc/ln": ("file", 5, 1),
            "etc/sub": ("dir", 0, 0),
            "etc/sub/c": ("file", 3, 0),
            "top": ("file", 1, 0),
        },
    ),
    (
        "whiteout at the root of the image",
        [static.Whiteout("top"), static.Whiteout("etc")],
        {},
    ),
]


@pytest.mark.parametrize(("name", "upper", "expected"), CASES, ids=[c[0] for c in CASES])
def test_whiteout_semantics(
    name: str, upper: list[static.Entry], expected: dict[str, tuple[str, int, int]]
) -> None:
    assert view(stack([delta(BASE), delta(upper)])) == expected


def test_mode_and_owner_changes_are_new_nodes_of_the_upper_layer() -> None:
    tree = stack([delta(BASE), delta([static.File("etc/a", b"aaaa", mode=0o755, uid=1000)])])
    node = tree.nodes["etc/a"]
    assert (node.mode, node.uid, node.gid, node.layer, node.size) == (0o755, 1000, 0, 1, 4)
    assert node.digest == tree.nodes["etc/a"].digest != ""


def test_hardlinks_share_their_targets_inode() -> None:
    tree = stack([delta([static.File("f", b"12345678"), static.Hardlink("g", "f")]), delta([])])
    f, g = tree.nodes["f"], tree.nodes["g"]
    assert (g.kind, g.size, g.digest, g.link) == ("hardlink", 8, f.digest, "f")
    assert g.inode == f.inode >= 0
    assert tree.size() == 8  # one inode, counted once


def test_a_hardlink_keeps_bytes_alive_after_its_target_is_deleted() -> None:
    s = Stacker()
    s.apply(delta([static.File("f", b"12345678"), static.Hardlink("g", "f")]))
    hidden = s.apply(delta([static.Whiteout("f")]))
    assert [(h.node.path, h.how, h.last) for h in hidden] == [("f", "whiteout", False)]
    hidden = s.apply(delta([static.Whiteout("g")]))
    assert [(h.node.path, h.how, h.last) for h in hidden] == [("g", "whiteout", True)]
    assert s.tree().size() == 0


def test_a_hardlink_to_nothing_holds_no_bytes() -> None:
    tree = stack([delta([static.Hardlink("g", "missing")])])
    assert (tree.nodes["g"].inode, tree.nodes["g"].size, tree.size()) == (-1, 0, 0)


def test_symlinks_hold_their_target_length() -> None:
    tree = stack([delta([static.Symlink("s", "/usr/lib/x")])])
    assert tree.size() == len("/usr/lib/x")


def test_implicit_parents_are_marked() -> None:
    tree = stack([delta([static.File("a/b/c", b"1")])])
    assert [(p, n.kind, n.implicit) for p, n in sorted(tree.nodes.items())] == [
        ("a", "dir", True),
        ("a/b", "dir", True),
        ("a/b/c", "file", False),
    ]


def test_hidden_events_in_order_with_causes() -> None:
    s = Stacker()
    s.apply(delta(BASE))
    hidden = s.apply(
        delta([static.Whiteout("etc/sub"), static.Opaque("etc"), static.File("etc/b", b"B")])
    )
    assert [(h.node.path, h.how, h.by_layer, h.last) for h in hidden] == [
        ("etc/sub/c", "whiteout", 1, True),
        ("etc/sub", "whiteout", 1, False),
        ("etc/a", "opaque", 1, True),
        ("etc/b", "opaque", 1, True),
        ("etc/ln", "opaque", 1, True),
    ]


def test_stack_all_gives_every_intermediate_tree_and_inputs_are_untouched() -> None:
    d0, d1 = delta(BASE), delta([static.Whiteout("top")])
    trees = stack_all([d0, d1])
    assert "top" in trees[0] and "top" not in trees[1]
    assert trees[0].nodes["top"].size == 1
    assert stack([d0, d1]).nodes.keys() == trees[1].nodes.keys()


def test_nodes_refer_to_their_entries_and_an_add_only_stacking_indexes_no_children() -> None:
    # issue 16: a node of a million-file layer repeated its entry's fields, and every path
    # had a children-set entry though nothing was ever removed
    base = delta(BASE)
    st = Stacker()
    st.apply(base)
    assert st._children is None
    node = st.nodes["etc/a"]
    assert node.entry is next(e for e in base.entries if e.path == "etc/a")
    assert (node.path, node.kind, node.size, node.layer) == ("etc/a", "file", 4, 0)
    assert st.inodes[node.inode].bytes == 4 and node.inode in st.refs
    st.apply(delta([static.Whiteout("etc/sub"), static.Hardlink("h", "etc/b")]))
    assert st.children["etc"] == {"etc/a", "etc/b", "etc/ln"}  # built when the whiteout needed it
    link = st.nodes["h"]
    assert (link.kind, link.size, link.digest) == ("hardlink", 2, st.nodes["etc/b"].digest)
    assert link == st.fork().nodes["h"] and hash(link) == hash(st.fork().nodes["h"])
    assert link != st.nodes["etc/b"]
