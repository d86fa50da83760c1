"""Risky file modes in the final file system: setuid/setgid files, world-writable paths."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from deadweight.filetree.tree import Tree

SETUID, SETGID, STICKY, OTHER_WRITE = 0o4000, 0o2000, 0o1000, 0o002
# Meant to be writable by everyone (FHS; docker mounts /dev, /proc, /sys over the image).
TEMP_DIRS = ("tmp", "var/tmp", "dev", "dev/shm", "run/lock", "var/lock", "proc", "sys")


@dataclass(frozen=True, slots=True)
class ModeHit:
    """A path with a risky mode, and the layer that gave it that mode."""

    path: str
    mode: int
    layer: int
    what: str


def _in_temp(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in TEMP_DIRS)


def setid_files(tree: Tree) -> Iterator[ModeHit]:
    """Regular files with the setuid or setgid bit, in path order."""
    for node in tree.files():
        bits = node.mode & (SETUID | SETGID)
        if bits:
            what = (
                "setuid+setgid"
                if bits == SETUID | SETGID
                else ("setuid" if bits == SETUID else "setgid")
            )
            yield ModeHit(node.path, node.mode, node.layer, what)


def world_writable(tree: Tree) -> Iterator[ModeHit]:
    """Files and directories anyone may write, outside the temp dirs; a directory with the
    sticky bit (the /tmp idiom: only owners may delete) is left out."""
    for path in sorted(tree.nodes):
        node = tree.nodes[path]
        if node.kind not in ("file", "hardlink", "dir") or not node.mode & OTHER_WRITE:
            continue
        if node.implicit or _in_temp(path) or (node.kind == "dir" and node.mode & STICKY):
            continue
        yield ModeHit(path, node.mode, node.layer, "directory" if node.kind == "dir" else "file")
