"""Looking inside: resolving paths in a merged tree, one file's bytes, unified diffs."""

from __future__ import annotations

import pytest
from compare_helpers import delta

from deadweight import static
from deadweight.compare.content import read_bytes, resolve, unified
from deadweight.errors import NotFound, UsageError
from deadweight.filetree import stack

ENTRIES: list[static.Entry] = [
    static.Dir("etc"),
    static.File("etc/os-release", b"ID=test\n"),
    static.Symlink("etc/alias", "os-release"),
    static.Symlink("etc/abs", "/etc/os-release"),
    static.Symlink("etc/up", "../../../etc/os-release"),
    static.Symlink("lib", "usr/lib"),
    static.File("usr/lib/libc.so", b"ELF"),
    static.Symlink("loop1", "loop2"),
    static.Symlink("loop2", "loop1"),
]


def test_resolve_follows_links_inside_the_root() -> None:
    tree = stack([delta(ENTRIES)])
    for path in ("/etc/os-release", "etc/alias", "/etc/abs", "etc/up", "etc//./os-release"):
        assert resolve(tree, path).path == "etc/os-release"
    assert resolve(tree, "/lib/libc.so").path == "usr/lib/libc.so"
    assert resolve(tree, "etc/alias", follow=False).kind == "symlink"
    with pytest.raises(NotFound, match=r"^/nope: no such file in image$"):
        resolve(tree, "/nope")
    with pytest.raises(NotFound, match="too many levels of symbolic links"):
        resolve(tree, "loop1")
    with pytest.raises(UsageError, match="leaves the image root"):
        resolve(tree, "../x")


def test_read_bytes_from_the_layer_that_wrote_the_file_and_the_last_copy() -> None:
    lower: list[static.Entry] = [static.File("f", b"old"), static.File("g", b"keep")]
    upper: list[static.Entry] = [
        static.File("f", b"first"),
        static.File("f", b"second copy"),
        static.Hardlink("h", "g"),
    ]
    layers = [static.layer(lower), static.layer(upper)]
    deltas = [delta(lower), delta(upper)]
    tree = stack(deltas)
    assert read_bytes(tree, tree.nodes["f"], layers, deltas) == b"second copy"
    assert read_bytes(tree, tree.nodes["h"], layers, deltas) == b"keep"
    with pytest.raises(UsageError, match="more than 5 to show"):
        read_bytes(tree, tree.nodes["f"], layers, deltas, limit=5)


def test_unified_diff_text_binary_missing_side() -> None:
    assert unified("etc/x", b"same\n", b"same\n", "A", "B") == ""
    assert unified("etc/x", b"a\nb\nc\n", b"a\nB\nc", "img:1", "img:2") == (
        "--- a/etc/x\timg:1\n"
        "+++ b/etc/x\timg:2\n"
        "@@ -1,3 +1,3 @@\n"
        " a\n"
        "-b\n"
        "-c\n"
        "+B\n"
        "+c\n"
        "\\ No newline at end of file\n"
    )
    assert unified("new", None, b"x\n", "A", "B") == (
        "--- /dev/null\n+++ b/new\tB\n@@ -0,0 +1 @@\n+x\n"
    )
    assert unified("bin", b"\0\1", b"\0\2", "A", "B") == "Binary files a/bin and b/bin differ\n"
