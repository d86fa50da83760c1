"""Writing an image's files: one file to a stream, or a selection of the tree to disk."""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from deadweight.compare.content import (
    copy_members,
    holder,
    normal,
    occurrences,
    resolve,
    resolved,
)
from deadweight.errors import UsageError
from deadweight.extraction.dirs import DIR_FLAGS, Dirs, inside
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.partition import Views
from deadweight.filetree.paths import is_under, parent
from deadweight.filetree.tree import Node, Tree
from deadweight.image import Image
from deadweight.scratch import atomic_dir
from deadweight.streams import CHUNK


@dataclass
class Exported:
    """What an extraction wrote: counts of each kind of entry."""

    files: int = 0
    dirs: int = 0
    links: int = 0
    skipped: int = 0  # devices, fifos, hardlinks to nothing
    rewritten: int = 0  # symlinks that led outside the destination, now inside it


def copy_file(
    image: Image, deltas: tuple[LayerDelta, ...], path: str, out: IO[bytes],
    *, what: str = "image",
) -> None:  # fmt: skip
    """Write the bytes of the regular file ``path`` (symlinks followed inside the image)
    to ``out``; UsageError for a directory or anything but a regular file. A large image
    is looked at only around the paths the lookup goes through (``partition.Views``)."""
    tree, node = resolved(Views(deltas), path, what=what)
    if node.kind == "dir":
        raise UsageError(f"{path}: is a directory in {what}")
    if node.kind not in ("file", "hardlink"):
        raise UsageError(f"{path}: not a regular file in {what} ({node.kind})")
    if node.size == 0:
        return
    layer, member = holder(tree, node)

    def sink(_: str, f: IO[bytes]) -> None:
        shutil.copyfileobj(f, out, CHUNK)

    copy_members(image.layers[layer], occurrences(deltas[layer], [member]), sink)


# a node to write, and where its bytes are (the layer and member of its inode) if it holds any
Picked = tuple[Node, "tuple[int, str] | None"]


@dataclass(frozen=True, slots=True)
class Selection:
    """The nodes to write, in path order, with where their bytes are, and the nodes of the
    directories among and above them by path (the modes of the directories made)."""

    picked: list[Picked]
    dirs: Mapping[str, Node]


def selected(views: Views, paths: tuple[str, ...], what: str) -> Selection:
    """The nodes at ``paths`` (not following links) and everything below them: in a large
    image, from each path's :class:`~deadweight.filetree.partition.View` in turn (the tree
    of that path alone), else from the whole image's tree."""
    if not paths:
        tree = views.whole()
        return Selection(_picked(tree, None), tree.nodes)
    if not views.large:
        tree = views.whole()
        tops = [resolve(tree, p, follow=False, what=what).path for p in paths]
        return Selection(_picked(tree, tops), tree.nodes)
    found: dict[str, Picked] = {}
    dirs: dict[str, Node] = {}
    for p in paths:  # paths below one another: their nodes once
        tree, top = resolved(views, p, follow=False, what=what)
        for picked in _picked(tree, [top.path]):
            node = picked[0]
            found.setdefault(node.path, picked)
            up = node.path if node.kind == "dir" else parent(node.path)
            while up and up not in dirs:  # the view holds the directories above its top
                held = tree.nodes.get(up)
                if held is not None:
                    dirs[up] = held
                up = parent(up)
    return Selection([found[p] for p in sorted(found)], dirs)


def _picked(tree: Tree, tops: list[str] | None) -> list[Picked]:
    """The nodes of ``tree`` below ``tops`` (None: all), with where their bytes are."""
    return [
        (n, _holder(tree, n))
        for p, n in sorted(tree.nodes.items())
        if tops is None or any(is_under(p, t) for t in tops)
    ]


def _holder(tree: Tree, node: Node) -> tuple[int, str] | None:
    if node.kind == "file" or (node.kind == "hardlink" and node.inode >= 0):
        return holder(tree, node)
    return None


def check_destination(dest: str | os.PathLike[str], paths: tuple[str, ...] = ()) -> None:
    """UsageError when ``dest`` exists and is not an empty directory, or a path is invalid
    (what :func:`export` refuses, checked before any image is opened)."""
    place = Path(dest)
    if place.is_symlink() or (place.exists() and (not place.is_dir() or any(place.iterdir()))):
        raise UsageError(f"{os.fspath(dest)}: exists and is not an empty directory")
    for p in paths:
        normal(p)


def export(
    image: Image, deltas: tuple[LayerDelta, ...], dest: str | os.PathLike[str],
    paths: tuple[str, ...] = (), *, what: str = "image",
) -> Exported:  # fmt: skip
    """Write ``paths`` of the image (all when empty) and what lies below them into the new
    directory ``dest``, atomically; UsageError when ``dest`` exists and is not empty. The
    paths of a large image are written from their views alone (see :func:`selected`)."""
    check_destination(dest, paths)
    # export writes what it reads: never refused for its entry count (limits.py)
    chosen = selected(Views(deltas, bounded=False), paths, what)
    with atomic_dir(Path(dest)) as tmp:
        root = os.open(tmp, DIR_FLAGS)
        try:
            counts = _extracted(image, deltas, chosen, root)
        finally:
            os.close(root)
        os.chmod(tmp, 0o755)
    return counts


def extract_nodes(
    image: Image, deltas: tuple[LayerDelta, ...], tree: Tree, nodes: list[Node], root: int
) -> Exported:
    """Write ``nodes`` under the directory ``root`` (a descriptor the caller owns); raises
    FileExistsError rather than replace anything there."""
    return _extracted(
        image, deltas, Selection([(n, _holder(tree, n)) for n in nodes], tree.nodes), root
    )


def _extracted(
    image: Image, deltas: tuple[LayerDelta, ...], chosen: Selection, root: int
) -> Exported:
    counts = Exported()
    made: set[str] = set()
    dirs = Dirs(root)
    try:
        _extract(image, deltas, chosen, dirs, made, counts)
    finally:
        dirs.close()
    return counts


def _mkdirs(dirs: Dirs, path: str, made: set[str]) -> None:
    """Make ``path`` and its missing parents (walking up only as far as one exists)."""
    new: list[str] = []
    here = path
    while here and here not in made:
        new.append(here)
        here = parent(here)
    for here in reversed(new):
        with suppress(FileExistsError):
            os.mkdir(here.rpartition("/")[2], 0o700, dir_fd=dirs.get(parent(here)))
        made.add(here)


def _write(dirs: Dirs, path: str, f: IO[bytes], mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    out = os.open(path.rpartition("/")[2], flags, 0o600, dir_fd=dirs.get(parent(path)))
    with os.fdopen(out, "wb") as w:
        shutil.copyfileobj(f, w, CHUNK)
        os.fchmod(w.fileno(), mode & 0o777)


def _link(dirs: Dirs, first: str, other: str) -> None:
    """``other`` as a hardlink of ``first``, both inside the root."""
    src = os.dup(dirs.get(parent(first)))
    try:
        os.link(
            first.rpartition("/")[2],
            other.rpartition("/")[2],
            src_dir_fd=src,
            dst_dir_fd=dirs.get(parent(other)),
            follow_symlinks=False,
        )
    finally:
        os.close(src)


def _extract(
    img: Image,
    deltas: tuple[LayerDelta, ...],
    chosen: Selection,
    dirs: Dirs,
    made: set[str],
    counts: Exported,
) -> None:
    picked = chosen.picked
    nodes = [n for n, _ in picked]
    for n in nodes:
        if parent(n.path):
            _mkdirs(dirs, parent(n.path), made)
        if n.kind == "dir":
            _mkdirs(dirs, n.path, made)
            counts.dirs += 1
    by_layer: dict[int, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
    for n, held in picked:
        if held is not None:
            layer, member = held
            by_layer[layer][member].append(n)
    for layer in sorted(by_layer):
        wanted = by_layer[layer]

        def sink(member: str, f: IO[bytes], wanted: dict[str, list[Node]] = wanted) -> None:
            # the file's own entry first: its mode is the inode's, not a link entry's
            first, *others = sorted(wanted[member], key=lambda n: n.kind != "file")
            _write(dirs, first.path, f, first.mode)
            for other in others:  # more names of one inode: hardlinks inside the root
                _link(dirs, first.path, other.path)

        copy_members(img.layers[layer], occurrences(deltas[layer], list(wanted)), sink)
        counts.files += sum(len(v) for v in wanted.values())
    for n in nodes:
        if n.kind == "symlink":
            # a target that leads out of the root is rewritten to where the image's root leads
            target = inside(n.path, n.link)
            counts.rewritten += target is not None
            fd = dirs.get(parent(n.path))
            os.symlink(n.link if target is None else target, n.path.rpartition("/")[2], dir_fd=fd)
            counts.links += 1
        elif n.kind == "other" or (n.kind == "hardlink" and n.inode < 0):
            counts.skipped += 1
    for path in sorted(made, reverse=True):  # deepest first: a closed parent stops nothing
        node = chosen.dirs.get(path)
        mode = node.mode if node is not None and node.kind == "dir" else 0o755
        # the sticky bit stays (a /tmp is 1777); set-id bits go
        os.fchmod(dirs.get(path), (mode & 0o1777) | 0o700)
