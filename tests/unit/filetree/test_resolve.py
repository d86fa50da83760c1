"""Paths looked up in a merged tree as the kernel does inside the container: absolute and
relative links, links to directories midway, ``..`` stopping at the root, loops."""

from __future__ import annotations

from deadweight import static as S
from deadweight.filetree.resolve import MAX_HOPS, Resolver
from deadweight.filetree.tree import stack
from deadweight.mutate import layer_deltas


def resolver(*entries: S.Entry) -> Resolver:
    img = S.image([S.Step("ADD", S.layer(list(entries)))])
    return Resolver(stack(layer_deltas(img)))


def test_links_midway_and_at_the_end() -> None:
    r = resolver(
        S.Dir("usr/lib/x86_64-linux-gnu"),
        S.File("usr/lib/x86_64-linux-gnu/ld.so.2", b"x"),
        S.Symlink("lib", "usr/lib"),
        S.Symlink("lib64", "/usr/lib64"),
        S.Dir("usr/lib64"),
        S.Symlink("usr/lib64/ld.so.2", "/lib/x86_64-linux-gnu/ld.so.2"),
    )
    hit = r.resolve("/lib64/ld.so.2")
    assert hit.path == "usr/lib/x86_64-linux-gnu/ld.so.2" and hit.node is not None
    assert hit.links == ("lib64", "usr/lib64/ld.so.2", "lib")
    assert r.resolve("lib64/ld.so.2", follow=False).path == "usr/lib64/ld.so.2"


def test_dotdot_stops_at_the_root_and_missing_paths() -> None:
    r = resolver(S.File("etc/passwd", b"x"), S.Symlink("etc/up", "../../../etc/passwd"))
    assert r.resolve("/etc/up").path == "etc/passwd"
    assert r.resolve("/../../etc/passwd").node is not None
    missing = r.resolve("/etc/passwd/x")  # a file is not a directory
    assert missing.node is None
    assert r.resolve("/nope/x").node is None


def test_loops_end() -> None:
    r = resolver(S.Symlink("a", "b"), S.Symlink("b", "a"), S.Symlink("self", "self/x"))
    assert r.resolve("a").node is None
    assert r.resolve("self").node is None
    assert len(r.resolve("a").links) == MAX_HOPS
