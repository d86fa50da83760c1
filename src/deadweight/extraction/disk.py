"""A directory tree on disk that export builds, and the records it keeps beside it.

:class:`Disk` is a tree under a descriptor the caller owns, reached one component at a
time without following links (:class:`.dirs.Dirs`). Beside the files it keeps what the
disk cannot say: the mode each directory gets last (:data:`IMPLICIT` for a parent the tar
omitted), the paths of skipped entries (devices, fifos, hardlinks to nothing: never on
disk) and of symlinks whose target was rewritten, and counts. One record per directory,
never one per file. Replacing or removing a path keeps the records true.
"""

from __future__ import annotations

import os
import stat

from deadweight.extraction.dirs import Dirs
from deadweight.filetree.paths import parent

IMPLICIT = -1  # the mode of a directory made as a parent: 0o755 unless one was there


class Disk:
    """The tree under ``root`` and its records."""

    def __init__(self, root: int) -> None:
        self.dirs = Dirs(root)
        self.modes: dict[str, int] = {}  # every directory made, and the mode it gets last
        self.skipped: set[str] = set()  # devices, fifos, hardlinks to nothing
        self.rewritten: set[str] = set()  # symlinks whose target was rewritten
        self.files = 0
        self.links = 0

    def dir(self, path: str) -> int | None:
        """The descriptor of directory ``path``, or None when it is not one."""
        try:
            return self.dirs.get(path)
        except OSError:
            self.dirs.close()  # a chain opened half way is not one to keep
            return None

    def lstat(self, path: str) -> os.stat_result | None:
        """What is at ``path``, not following a link; None when nothing (or its parent is
        not a directory)."""
        fd = self.dir(parent(path))
        if fd is None:
            return None
        try:
            return os.stat(name(path), dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def children(self, path: str) -> list[str]:
        """What is below directory ``path``: on disk, and the skipped entries (not)."""
        fd = self.dir(path)
        if fd is None:
            return []  # no such directory (or a link): nothing below it
        names = {f"{path}/{n}" if path else n for n in os.listdir(fd)}
        return sorted(names | {p for p in self.skipped if parent(p) == path})

    def make_room(self, path: str, *, directory: bool) -> int:
        """The descriptor of ``path``'s directory once its parents are directories and
        what was at ``path`` is gone (a directory stays for a directory)."""
        up = parent(path)
        fd = self.dir(up)
        if fd is None:
            fd = self.make_parents(up)
        try:
            old = os.stat(name(path), dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            self.skipped.discard(path)  # a device was never on disk
            return fd
        if directory and stat.S_ISDIR(old.st_mode):
            return fd
        self.remove(path)
        return self.dirs.get(up)

    def make_parents(self, up: str) -> int:
        """Make every missing parent of an entry, replacing what is not a directory."""
        parts = up.split("/")
        for i in range(1, len(parts) + 1):
            here = "/".join(parts[:i])
            fd = self.dirs.get(parent(here))
            try:
                old = os.stat(parts[i - 1], dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                old = None
            if old is not None and stat.S_ISDIR(old.st_mode):
                continue
            if old is not None:
                self.remove(here)
                fd = self.dirs.get(parent(here))
            self.skipped.discard(here)
            os.mkdir(parts[i - 1], 0o700, dir_fd=fd)
            self.modes[here] = IMPLICIT
        return self.dirs.get(up)

    def remove(self, path: str) -> None:
        """``path`` and everything below it gone from disk and from the records."""
        if path in self.skipped:
            self.skipped.discard(path)
            return
        fd = self.dir(parent(path))
        if fd is None:
            return
        try:
            old = os.stat(name(path), dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(old.st_mode):
            self._remove_dir(path)
        else:
            self.unlinked(path, old)
            os.unlink(name(path), dir_fd=fd)

    def _remove_dir(self, path: str) -> None:
        self.dirs.close()  # its descriptors may be among those kept open
        top = self.dirs.get(parent(path))
        for below, subdirs, names, dfd in os.fwalk(name(path), dir_fd=top, topdown=False):
            rel = path + below[len(name(path)) :]
            for n in (*names, *subdirs):
                info = os.stat(n, dir_fd=dfd, follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    os.rmdir(n, dir_fd=dfd)
                    self.modes.pop(f"{rel}/{n}", None)
                else:  # files, and symlinks (fwalk lists one to a directory there)
                    self.unlinked(f"{rel}/{n}", info)
                    os.unlink(n, dir_fd=dfd)
        self.dirs.close()
        os.rmdir(name(path), dir_fd=self.dirs.get(parent(path)))
        self.modes.pop(path, None)
        prefix = path + "/"
        self.skipped = {p for p in self.skipped if not p.startswith(prefix)}
        self.rewritten = {p for p in self.rewritten if not p.startswith(prefix)}

    def unlinked(self, path: str, info: os.stat_result) -> None:
        """The records once the file or symlink at ``path`` has gone."""
        if stat.S_ISLNK(info.st_mode):
            self.links -= 1
            self.rewritten.discard(path)
        else:
            self.files -= 1

    def finish(self) -> None:
        """Every directory's mode, deepest first (a closed parent stops nothing)."""
        for path in sorted(self.modes, reverse=True):
            mode = self.modes[path]
            mode = 0o755 if mode == IMPLICIT else mode
            # the sticky bit stays (a /tmp is 1777); set-id bits go
            os.fchmod(self.dirs.get(path), (mode & 0o1777) | 0o700)


def name(path: str) -> str:
    return path.rpartition("/")[2]
