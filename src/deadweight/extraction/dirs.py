"""Directories under an export root, opened one component at a time, never through a link.

Opening ``a/b/c`` from the root for every file costs a syscall per component: an image
whose paths are 2,000 deep took 55 s to export (issue 16). :class:`Dirs` keeps the chain of
directories it opened last, as a stack of descriptors, and moves from one path to the next
by closing what the two do not share and opening the rest. Export visits paths in sorted
order, so that is a step or two per file. At most :data:`KEEP` descriptors stay open; a
path whose shared part was closed is opened again from the root.

Symlink targets that would lead out of the export root are rewritten by :func:`inside`.
"""

from __future__ import annotations

import os
import posixpath

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
KEEP = 256


def _shared(a: str, b: str) -> int:
    """How many leading components ``a`` and ``b`` share (binary search on prefixes: each
    comparison runs in C)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    whole = (lo == len(a) or a[lo] == "/") and (lo == len(b) or b[lo] == "/")
    prefix = a[:lo] if whole else a[: max(0, a.rfind("/", 0, lo))]
    return prefix.count("/") + 1 if prefix else 0


class Dirs:
    """Descriptors of directories below ``root`` (which the caller owns)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.path = ""
        self.parts: list[str] = []
        self.fds: list[int] = []  # the directories parts[:base + 1], parts[:base + 2], ...
        self.base = 0

    def get(self, path: str) -> int:
        """A descriptor of directory ``path`` (relative, clean); valid until the next call."""
        if path == self.path:
            return self.fds[-1] if self.fds else self.root
        if self.path == "" or path.startswith(self.path + "/"):
            common = len(self.parts)
        else:
            common = _shared(self.path, path)
        if common < self.base or (common == self.base and self.base > 0):
            self.close()
            common = 0
        while len(self.parts) > common:
            self.parts.pop()
            os.close(self.fds.pop())
        wanted = path.split("/") if path else []
        for part in wanted[common:]:
            fd = os.open(part, DIR_FLAGS, dir_fd=self.fds[-1] if self.fds else self.root)
            self.fds.append(fd)
            self.parts.append(part)
            if len(self.fds) > KEEP:
                os.close(self.fds.pop(0))
                self.base += 1
        self.path = path
        return self.fds[-1] if self.fds else self.root

    def close(self) -> None:
        while self.fds:
            os.close(self.fds.pop())
        self.parts, self.path, self.base = [], "", 0


def inside(path: str, target: str) -> str | None:
    """None when the symlink at ``path`` (relative to the root) with ``target`` stays inside
    the root however it is followed; else a relative target that does, pointing where the
    image's own root would take it (the kernel stops ``..`` at ``/``).

    Kept as is: relative targets whose ``..`` all come first and do not climb above the
    root. Anything else (absolute, ``..`` past the root, ``..`` after a name, which may be a
    link to elsewhere) is resolved lexically within the root and written relative.
    """
    depth = path.count("/")  # of the link's directory
    parts = target.split("/")
    if not target.startswith("/"):
        i = ups = 0
        while i < len(parts) and parts[i] in ("..", ".", ""):
            ups += parts[i] == ".."
            i += 1
        if ups <= depth and ".." not in parts[i:]:
            return None
    start = "" if target.startswith("/") else posixpath.dirname(path)
    resolved: list[str] = []
    for part in f"{start}/{target}".split("/"):
        if part == "..":
            if resolved:
                resolved.pop()
        elif part not in ("", "."):
            resolved.append(part)
    return "/".join([".."] * depth + resolved) or "."
