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

import os
import stat
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


def export_all(image: Image, dest: str | os.PathLike[str]) -> Exported:
    """Write every file of ``image`` into the new directory ``dest``, atomically;
    UsageError when ``dest`` exists and is not empty."""
    check_destination(dest)
    dest = Path(dest)
    with atomic_dir(dest) as tmp:
        stage = part_dir(dest)  # swept as atomic_dir's directory is, after a kill
        root, staged = os.open(tmp, DIR_FLAGS), os.open(stage, DIR_FLAGS)
        disk = Disk(root)
        try:
            for layer in image.layers:
                _apply(disk, staged, layer)
            disk.finish()
        finally:
            disk.dirs.close()
            os.close(root)
            os.close(staged)
            remove_tree(stage)
        os.chmod(tmp, 0o755)
    return Exported(disk.files, len(disk.modes), disk.links, len(disk.skipped), len(disk.rewritten))


def _apply(disk: Disk, staged: int, layer: Layer) -> None:
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
                _member(disk, new, tar, m, what)
            while stream.read(CHUNK):  # to the end: that is where the digest is checked
                pass
        _merge(disk, new)
    except TarError as exc:
        raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
    finally:
        new.dirs.close()


def _member(disk: Disk, new: Disk, tar: TarStream, m: Member, what: str) -> None:
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
    fd = new.make_room(path, directory=m.type == b"5")
    if m.type == b"5":
        if path not in new.modes:
            os.mkdir(name(path), 0o700, dir_fd=fd)
        new.modes[path] = m.mode & 0o7777
    elif m.type in _FILE:
        if m.sparse:
            raise CorruptImage(f"{what}: /{path} is a GNU sparse file: not extracted")
        out = os.open(name(path), _CREATE, 0o600, dir_fd=fd)
        try:
            tar.stream_into(size, lambda chunk: _write_all(out, chunk))
            os.fchmod(out, m.mode & 0o777)
        finally:
            os.close(out)
        tar.pad(size)
        new.files += 1
        return None
    elif m.type == b"2":
        target = inside(path, m.linkname)
        os.symlink(m.linkname if target is None else target, name(path), dir_fd=fd)
        new.links += 1
        if target is not None:
            new.rewritten.add(path)
    else:
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


def _skip(tar: TarStream, n: int) -> None:
    if n:
        tar.skip(n + (-n % BLOCK))


def _write_all(fd: int, chunk: memoryview | bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]
