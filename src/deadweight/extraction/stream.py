"""A whole image onto disk, one layer at a time, in memory that does not grow with its files.

:func:`export_all` applies each layer to the destination as overlayfs stacks it
(``filetree.tree``): the layer's whiteouts and opaque markers first (they hide only what
lower layers wrote, wherever the tar lists them, so a first pass over the layer's headers
collects them: :func:`~deadweight.filetree.delta.read_delta` without entries), then its
entries in tar order, each replacing what was at its path unless both are directories,
parents a tar omits made as directories. What it keeps in memory is one record per
directory (its mode, set last, deepest first), the paths of skipped entries and of
rewritten symlinks: never one per file. A million empty files export in memory as flat as
one file (issue 16); :func:`.files.export` with a stacked tree remains for a selection of
paths, and a test holds both to the same result.

The safety rules are :mod:`.files`'s: directories are opened one component at a time
without following links (:class:`.dirs.Dirs`), files are created with ``O_EXCL`` and
``O_NOFOLLOW``, so nothing is ever written through a symlink, set-id bits are dropped,
devices and fifos are skipped, symlinks that lead outside are rewritten to point inside.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from deadweight.errors import CorruptImage
from deadweight.extraction.dirs import DIR_FLAGS, Dirs, inside
from deadweight.extraction.files import Exported, check_destination
from deadweight.filetree.delta import WHITEOUT, read_delta
from deadweight.filetree.paths import clean, parent
from deadweight.filetree.tarstream import BLOCK, HEADER_ONLY, Member, TarError, TarStream
from deadweight.image import Image, Layer
from deadweight.scratch import atomic_dir

_FILE = (b"0", b"7", b"S")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
DRAIN = 1 << 20


def export_all(image: Image, dest: str | os.PathLike[str]) -> Exported:
    """Write every file of ``image`` into the new directory ``dest``, atomically;
    UsageError when ``dest`` exists and is not empty."""
    check_destination(dest)
    with atomic_dir(Path(dest)) as tmp:
        root = os.open(tmp, DIR_FLAGS)
        disk = _Disk(root)
        try:
            for layer in image.layers:
                disk.hide(layer)
                disk.apply(layer)
            disk.finish()
        finally:
            disk.dirs.close()
            os.close(root)
        os.chmod(tmp, 0o755)
    return disk.counts()


class _Disk:
    """The destination as the layers applied so far left it, and what counting needs."""

    def __init__(self, root: int) -> None:
        self.dirs = Dirs(root)
        self.modes: dict[str, int] = {}  # every directory made, and the mode it gets last
        self.skipped: set[str] = set()  # devices, fifos, hardlinks to nothing
        self.rewritten: set[str] = set()  # symlinks whose target was rewritten
        self.files = 0
        self.links = 0

    def counts(self) -> Exported:
        return Exported(
            self.files, len(self.modes), self.links, len(self.skipped), len(self.rewritten)
        )

    # -- what a layer hides -------------------------------------------------------------

    def hide(self, layer: Layer) -> None:
        """Apply the layer's whiteouts, then its opaque markers, to what lower layers
        wrote (a pass over its headers; entries are not kept)."""
        with layer.open() as stream:
            delta = read_delta(stream, what=f"layer {layer.diff_id[:19]}", entries=False)
        for path in delta.whiteouts:
            self.remove(path)
        for path in delta.opaques:
            for child in self.children(path):
                self.remove(child)

    def children(self, path: str) -> list[str]:
        """What is below directory ``path``: on disk, and the skipped entries (not)."""
        fd = self.dirs_get(path)
        if fd is None:
            return []  # no such directory (or a link): nothing below it to hide
        names = {f"{path}/{n}" if path else n for n in os.listdir(fd)}
        return sorted(names | {p for p in self.skipped if parent(p) == path})

    # -- a layer's entries --------------------------------------------------------------

    def apply(self, layer: Layer) -> None:
        what = f"layer {layer.diff_id[:19]}"
        try:
            with layer.open() as stream:
                tar = TarStream(stream, what)
                while (m := tar.next()) is not None:
                    self.member(tar, m, what)
                while stream.read(DRAIN):  # to the end: that is where the digest is checked
                    pass
        except TarError as exc:
            raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc

    def member(self, tar: TarStream, m: Member, what: str) -> None:
        size = 0 if m.type in HEADER_ONLY else m.size
        path, _ = clean(m.name)
        base = (path or "").rpartition("/")[2]
        if not path or base.startswith(WHITEOUT):
            return _skip(tar, size)  # unsafe, the root itself, or a marker (hide's)
        if m.type == b"1":
            target, _ = clean(m.linkname)
            _skip(tar, size)
            if target:  # to nothing or to the root: dropped where the layer is read
                self.hardlink(path, target)
            return None
        fd = self.make_room(path, directory=m.type == b"5")
        name = path.rpartition("/")[2]
        if m.type == b"5":
            if path not in self.modes:
                os.mkdir(name, 0o700, dir_fd=fd)
            self.modes[path] = m.mode & 0o7777
        elif m.type in _FILE:
            if m.sparse:
                raise CorruptImage(f"{what}: /{path} is a GNU sparse file: not extracted")
            out = os.open(name, _CREATE, 0o600, dir_fd=fd)
            try:
                tar.stream_into(size, lambda chunk: _write_all(out, chunk))
                os.fchmod(out, m.mode & 0o777)
            finally:
                os.close(out)
            tar.pad(size)
            self.files += 1
            return None
        elif m.type == b"2":
            target = inside(path, m.linkname)
            os.symlink(m.linkname if target is None else target, name, dir_fd=fd)
            self.links += 1
            if target is not None:
                self.rewritten.add(path)
        else:
            self.skipped.add(path)
        return _skip(tar, size)

    def hardlink(self, path: str, target: str) -> None:
        """``path`` as another name of the regular file ``target`` as the layers so far
        left it; skipped when that is not a regular file."""
        self.make_room(path, directory=False)
        fd = self.dirs_get(parent(target))
        try:
            info = (
                os.stat(_name(target), dir_fd=fd, follow_symlinks=False) if fd is not None else None
            )
        except FileNotFoundError:
            info = None
        if fd is None or info is None or not stat.S_ISREG(info.st_mode):
            self.skipped.add(path)
            return
        src = os.dup(fd)
        try:
            here = self.dirs.get(parent(path))
            os.link(_name(target), _name(path), src_dir_fd=src, dst_dir_fd=here,
                    follow_symlinks=False)  # fmt: skip
        finally:
            os.close(src)
        self.files += 1

    def dirs_get(self, path: str) -> int | None:
        """The descriptor of directory ``path``, or None when it is not one."""
        try:
            return self.dirs.get(path)
        except OSError:
            self.dirs.close()  # a chain opened half way is not one to keep
            return None

    def make_room(self, path: str, *, directory: bool) -> int:
        """The descriptor of ``path``'s directory once its parents are directories and
        what was at ``path`` is gone (a directory stays for a directory)."""
        up = parent(path)
        fd = self.dirs_get(up)
        if fd is None:
            fd = self.make_parents(up)
        try:
            old = os.stat(_name(path), dir_fd=fd, follow_symlinks=False)
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
            self.modes[here] = 0o755  # a parent the tar omits, as the tree makes it
        return self.dirs.get(up)

    # -- removal ------------------------------------------------------------------------

    def remove(self, path: str) -> None:
        """``path`` and everything below it gone from disk and from the records."""
        if path in self.skipped:
            self.skipped.discard(path)
            return
        fd = self.dirs_get(parent(path))
        if fd is None:
            return
        name = _name(path)
        try:
            old = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(old.st_mode):
            self.dirs.close()  # its descriptors may be among those kept open
            top = self.dirs.get(parent(path))
            for below, subdirs, names, dfd in os.fwalk(name, dir_fd=top, topdown=False):
                rel = path + below[len(name) :]
                for n in (*names, *subdirs):
                    info = os.stat(n, dir_fd=dfd, follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        os.rmdir(n, dir_fd=dfd)
                        self.modes.pop(f"{rel}/{n}", None)
                    else:  # files, and symlinks (fwalk lists one to a directory there)
                        self._unlinked(f"{rel}/{n}", info)
                        os.unlink(n, dir_fd=dfd)
            self.dirs.close()
            os.rmdir(name, dir_fd=self.dirs.get(parent(path)))
            self.modes.pop(path, None)
            prefix = path + "/"
            self.skipped = {p for p in self.skipped if not p.startswith(prefix)}
            self.rewritten = {p for p in self.rewritten if not p.startswith(prefix)}
        else:
            self._unlinked(path, old)
            os.unlink(name, dir_fd=fd)

    def _unlinked(self, path: str, info: os.stat_result) -> None:
        if stat.S_ISLNK(info.st_mode):
            self.links -= 1
            self.rewritten.discard(path)
        else:
            self.files -= 1

    def finish(self) -> None:
        for path in sorted(self.modes, reverse=True):  # deepest first
            # the sticky bit stays (a /tmp is 1777); set-id bits go
            os.fchmod(self.dirs.get(path), (self.modes[path] & 0o1777) | 0o700)


def _name(path: str) -> str:
    return path.rpartition("/")[2]


def _skip(tar: TarStream, n: int) -> None:
    if n:
        tar.skip(n + (-n % BLOCK))


def _write_all(fd: int, chunk: memoryview | bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]
