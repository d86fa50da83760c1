"""A whole image onto disk, each layer streamed once, in memory that does not grow with its
files.

:func:`export_all` applies the layers as overlayfs stacks them (``filetree.tree``). A
layer's whiteouts and opaque markers hide only what *lower* layers wrote, wherever its tar
lists them (OCI image-spec layer.md, "Whiteouts"), so the layer's entries are written to
a stage of their own beside the destination while its markers are applied to the
destination as they come: there they meet lower layers only. When the layer ends, the
stage joins the destination (:func:`_merge`): a directory over a directory entry by entry,
anything else renamed in place of what was there, which is one rename for each new
top-level directory of a layer. Each layer is read once (issue 11), whatever the store
holds; memory keeps one record per directory, the paths of skipped entries and of
rewritten symlinks, never one per file (a million empty files export in flat memory,
issue 16). :func:`.files.export` with a stacked tree remains for a selection of paths,
and a test holds both to the same result.

The safety rules are :mod:`.files`'s: directories are opened one component at a time
without following links (:class:`.dirs.Dirs`), files are created with ``O_EXCL`` and
``O_NOFOLLOW``, so nothing is ever written through a symlink, set-id bits are dropped,
devices and fifos are skipped, symlinks that lead outside are rewritten to point inside.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from deadweight import limits
from deadweight.errors import CorruptImage, UnsafeLayer
from deadweight.extraction.dirs import DIR_FLAGS, inside
from deadweight.extraction.disk import IMPLICIT, Disk, name
from deadweight.extraction.files import Exported, check_destination
from deadweight.filetree.delta import WHITEOUT, marked
from deadweight.filetree.paths import clean, parent
from deadweight.filetree.tarstream import BLOCK, HEADER_ONLY, Member, TarError, TarStream
from deadweight.image import Image, Layer
from deadweight.scratch import atomic_dir, part_dir, remove_tree
from deadweight.streams import CHUNK

_FILE = (b"0", b"7", b"S")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
_NO_MKNOD = (errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS)


def export_all(image: Image, dest: str | os.PathLike[str]) -> Exported:
    """Write every file of ``image`` into the new directory ``dest``, atomically;
    UsageError when ``dest`` exists and is not empty."""
    check_destination(dest)
    dest = Path(dest)
    with atomic_dir(dest) as tmp:
        stage = part_dir(dest)  # swept as atomic_dir's directory is, after a kill
        root, staged = os.open(tmp, DIR_FLAGS), os.open(stage, DIR_FLAGS)
        disk = Disk(root)
        umask = process_umask()
        try:
            for layer in image.layers:
                _apply(disk, staged, layer, umask)
            disk.finish()
        finally:
            disk.dirs.close()
            os.close(root)
            os.close(staged)
            remove_tree(stage)
        os.chmod(tmp, 0o755)
    return Exported(disk.files, len(disk.modes), disk.links, len(disk.skipped), len(disk.rewritten))


def _apply(disk: Disk, staged: int, layer: Layer, umask: int) -> None:
    """Read ``layer`` once: its markers applied to ``disk``, its entries to the empty stage
    ``staged``, which then joins ``disk``."""
    what = f"layer {layer.diff_id[:19]}"
    new = Disk(staged)
    try:
        with layer.open() as stream:
            tar = TarStream(stream, what)
            count = 0
            while (m := tar.next()) is not None:
                count += 1
                if count > limits.TAR_ENTRIES:
                    raise UnsafeLayer(f"{what}: more than {limits.TAR_ENTRIES} entries")
                _member(disk, new, tar, m, what, umask)
            while stream.read(CHUNK):  # to the end: that is where the digest is checked
                pass
        _merge(disk, new)
    except TarError as exc:
        raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
    finally:
        new.dirs.close()


def _member(disk: Disk, new: Disk, tar: TarStream, m: Member, what: str, umask: int) -> None:
    if not 0 <= m.size <= limits.TAR_MEMBER or not 0 <= m.real_size <= limits.TAR_MEMBER:
        raise UnsafeLayer(f"{what}: tar header declares a {max(m.size, m.real_size)}-byte file")
    size = 0 if m.type in HEADER_ONLY else m.size
    path, _ = clean(m.name)
    if not path:
        return _skip(tar, size)  # unsafe, or the root itself
    base = name(path)
    if base.startswith(WHITEOUT):
        kind, hidden = marked(path, base)
        if kind == "whiteout":
            disk.remove(hidden)
        elif kind == "opaque":
            for child in disk.children(hidden):
                disk.remove(child)
        return _skip(tar, size)
    if m.type == b"1":
        linked, _ = clean(m.linkname)
        _skip(tar, size)
        if linked:  # to nothing or to the root: dropped where the layer is read
            _hardlink(disk, new, path, linked)
        return None
    if m.type == b"5":
        if path not in new.modes:  # else a directory of this layer is there already
            _put(new, path, lambda n, fd: os.mkdir(n, 0o700, dir_fd=fd), directory=True)
        new.modes[path] = m.mode & 0o7777
    elif m.type in _FILE:
        if m.sparse:
            raise CorruptImage(f"{what}: /{path} is a GNU sparse file: not extracted")
        _file(new, tar, path, m.mode & 0o777, size, umask)
        return None
    elif m.type == b"2":
        target = inside(path, m.linkname)
        link = m.linkname if target is None else target
        _put(new, path, lambda n, fd: os.symlink(link, n, dir_fd=fd))
        new.links += 1
        if target is not None:
            new.rewritten.add(path)
    else:
        new.make_room(path, directory=False)  # what was there goes: the entry is not made
        new.skipped.add(path)
    return _skip(tar, size)


def _hardlink(disk: Disk, new: Disk, path: str, target: str) -> None:
    """``path`` as another name of the regular file ``target`` as the layers so far left
    it (this layer's, else a lower one's); skipped when that is not a regular file."""
    new.make_room(path, directory=False)
    holder = _holder(disk, new, target)
    info = holder.lstat(target) if holder is not None else None
    if holder is None or info is None or not stat.S_ISREG(info.st_mode):
        new.skipped.add(path)
        return
    src = os.dup(holder.dirs.get(parent(target)))
    try:
        os.link(name(target), name(path), src_dir_fd=src, dst_dir_fd=new.dirs.get(parent(path)),
                follow_symlinks=False)  # fmt: skip
    finally:
        os.close(src)
    new.files += 1


def _holder(disk: Disk, new: Disk, target: str) -> Disk | None:
    """Which tree holds what ``target`` is once this layer is on: the stage when this
    layer wrote it (or made it something else), the destination when this layer leaves
    it to the lower ones; None when this layer made one of its parents a non-directory."""
    if target in new.skipped:
        return None
    try:
        fd = new.dirs.get(parent(target))
    except FileNotFoundError:
        new.dirs.close()
        return disk  # the layer wrote nothing on the way
    except OSError:
        new.dirs.close()
        return None  # a parent is a file or a link in this layer: it hides what is below
    try:
        os.stat(name(target), dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return disk
    return new


def _merge(disk: Disk, new: Disk) -> None:
    """Move what the stage holds into ``disk``: a directory over a directory entry by
    entry, anything else in place of what was there; then the stage's records."""
    pending, seen = [""], {""}  # directories on both sides
    while pending:
        here = pending.pop()
        moved = True
        while moved:  # a directory read while entries leave it may skip some: read again
            moved = False
            with os.scandir(new.dirs.get(here)) as entries:
                for entry in entries:
                    path = f"{here}/{entry.name}" if here else entry.name
                    if path in seen:
                        continue
                    old = disk.lstat(path)
                    if entry.is_dir(follow_symlinks=False) and old and stat.S_ISDIR(old.st_mode):
                        pending.append(path)
                        seen.add(path)
                        continue
                    if old is not None or path in disk.skipped:
                        disk.remove(path)
                    os.rename(entry.name, entry.name, src_dir_fd=new.dirs.get(here),
                              dst_dir_fd=disk.dirs.get(here))  # fmt: skip
                    moved = True
    for path in sorted(seen - {""}, reverse=True):  # the emptied stage, deepest first
        os.rmdir(name(path), dir_fd=new.dirs.get(parent(path)))
    for path in new.skipped:
        disk.remove(path)  # what a lower layer had there
        disk.skipped.add(path)
    for path, mode in new.modes.items():
        if mode != IMPLICIT or path not in disk.modes:
            disk.modes[path] = mode
    disk.rewritten |= new.rewritten
    disk.files += new.files
    disk.links += new.links


def _put(
    new: Disk, path: str, make: Callable[[str, int], object], *, directory: bool = False
) -> None:
    """``make(name, dir_fd)`` of ``path`` in the stage. Tried at once where the records
    know of nothing there (a stage starts empty, so that is most paths: a look-up before
    each create cost a million failed ``stat`` calls for a million files, issue 16); when
    something was there (EEXIST), or a parent is missing, it is removed (a directory
    stays for a directory) or the parents made, and ``make`` runs once more."""
    fd = new.dir(parent(path)) if path not in new.skipped else None
    if fd is not None:
        try:
            make(name(path), fd)
            return
        except FileExistsError:
            pass
    make(name(path), new.make_room(path, directory=directory))


def _file(new: Disk, tar: TarStream, path: str, perm: int, size: int, umask: int) -> None:
    """A regular file of ``size`` bytes from ``tar`` at ``path`` in the stage. Created with
    its permissions when the umask leaves them (else set after); an empty one by
    ``mknod``, one call instead of an open, a chmod and a close (it fails like ``O_EXCL``
    on anything there, a symlink included, and follows none)."""
    direct = not perm & umask
    if not size and direct:
        try:
            _put(new, path, lambda n, fd: os.mknod(n, stat.S_IFREG | perm, dir_fd=fd))
            new.files += 1
            return
        except OSError as exc:  # a file system that makes no files this way: open below
            if exc.errno not in _NO_MKNOD:
                raise
    fds: list[int] = []
    _put(
        new,
        path,
        lambda n, fd: fds.append(os.open(n, _CREATE, perm if direct else 0o600, dir_fd=fd)),
    )
    out = fds[0]
    try:
        if size:
            tar.stream_into(size, lambda chunk: _write_all(out, chunk))
        if not direct:
            os.fchmod(out, perm)
    finally:
        os.close(out)
    tar.pad(size)
    new.files += 1


def process_umask() -> int:
    """This process's umask, read where Linux shows it (``umask()`` can only be read by
    setting it, which races with other threads); all bits when it cannot be read, so
    every mode is then set after the create."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o777


def _skip(tar: TarStream, n: int) -> None:
    if n:
        tar.skip(n + (-n % BLOCK))


def _write_all(fd: int, chunk: memoryview | bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]
