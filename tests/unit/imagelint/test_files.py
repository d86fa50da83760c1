from __future__ import annotations

from deadweight import static
from deadweight.filetree.delta import read_delta
from deadweight.filetree.tree import Tree, stack
from deadweight.imagelint.files import ModeHit, setid_files, world_writable


def tree_of(*layers: list[static.Entry]) -> Tree:
    deltas = [read_delta(static.layer(entries).open()) for entries in layers]
    return stack(deltas)


def test_setid_files_in_the_final_tree() -> None:
    tree = tree_of(
        [
            static.File("bin/su", b"s", 0o4755),
            static.File("usr/bin/wall", b"w", 0o2755),
            static.File("usr/bin/both", b"b", 0o6755),
            static.File("usr/bin/plain", b"p", 0o755),
            static.File("usr/bin/gone", b"g", 0o4755),
        ],
        [static.Whiteout("usr/bin/gone"), static.File("bin/su", b"s2", 0o755)],
    )
    assert list(setid_files(tree)) == [
        ModeHit("usr/bin/both", 0o6755, 0, "setuid+setgid"),
        ModeHit("usr/bin/wall", 0o2755, 0, "setgid"),
    ]


def test_world_writable_outside_temp_dirs() -> None:
    tree = tree_of(
        [
            static.Dir("tmp", 0o1777),
            static.Dir("var/tmp", 0o777),
            static.File("tmp/x", b"", 0o666),
            static.Dir("srv/drop", 0o1777),
            static.Dir("app", 0o777),
            static.File("app/config.yml", b"c", 0o666),
            static.File("app/ok", b"o", 0o644),
            static.Symlink("app/link", "ok"),
        ],
        [static.File("etc/motd", b"m", 0o646)],
    )
    assert list(world_writable(tree)) == [
        ModeHit("app", 0o777, 0, "directory"),
        ModeHit("app/config.yml", 0o666, 0, "file"),
        ModeHit("etc/motd", 0o646, 1, "file"),
    ]
