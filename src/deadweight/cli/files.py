"""``deadweight cat IMAGE PATH`` and ``deadweight export IMAGE [PATH...] -o DIR``.

Export is safe extraction: every path is relative to DIR (the layer reader already
neutralised absolute and ``..`` names), every directory on the way is opened without
following links, symlinks are created last and never written through, set-id bits are
dropped, devices are skipped, and the whole tree is built beside DIR and renamed into
place when complete.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import IO

import click

from deadweight.analysis import packages as pkgs
from deadweight.cli._dirs import Dirs, inside
from deadweight.cli._options import parse_platform, source_options, store
from deadweight.compare.content import copy_members, holder, normal, occurrences, resolve
from deadweight.errors import UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.paths import is_under, parent
from deadweight.filetree.tree import Node, Tree, stack
from deadweight.image import Image
from deadweight.reading import read_deltas
from deadweight.scratch import atomic_dir
from deadweight.sources import open_image
from deadweight.streams import CHUNK

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _load(
    spec: str, platform: str | None, insecure: bool, no_cache: bool
) -> tuple[Image, tuple[LayerDelta, ...], Tree]:
    image = open_image(spec, platform=parse_platform(platform), insecure=insecure)
    with store(no_cache) as layer_store:
        deltas = read_deltas(image, capture=pkgs.capture, store=layer_store)
    return image, deltas, stack(deltas)


@click.command()
@click.argument("image")
@click.argument("path")
@source_options
def cat(image: str, path: str, platform: str | None, insecure: bool, no_cache: bool) -> None:
    """Print the file PATH of IMAGE (symlinks are followed inside the image)."""
    img, deltas, tree = _load(image, platform, insecure, no_cache)
    node = resolve(tree, path, what=image)
    if node.kind == "dir":
        raise UsageError(f"{path}: is a directory in {image}")
    if node.kind not in ("file", "hardlink"):
        raise UsageError(f"{path}: not a regular file in {image} ({node.kind})")
    if node.size == 0:
        return
    layer, member = holder(tree, node)
    out = sys.stdout.buffer

    def sink(_: str, f: IO[bytes]) -> None:
        shutil.copyfileobj(f, out, CHUNK)

    copy_members(img.layers[layer], occurrences(deltas[layer], [member]), sink)
    out.flush()


def selected(tree: Tree, paths: tuple[str, ...], what: str) -> list[Node]:
    """The nodes at ``paths`` (not following links) and everything below them."""
    if not paths:
        return [tree.nodes[p] for p in sorted(tree.nodes)]
    tops = [resolve(tree, p, follow=False, what=what).path for p in paths]
    return [tree.nodes[p] for p in sorted(tree.nodes) if any(is_under(p, t) for t in tops)]


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
    """``other`` as a hardlink of ``first``, both inside DIR."""
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


def extract(
    img: Image, deltas: tuple[LayerDelta, ...], tree: Tree, nodes: list[Node], root: int
) -> dict[str, int]:
    """Write ``nodes`` under the directory ``root``; counts of what was written."""
    counts = {"dirs": 0, "files": 0, "links": 0, "skipped": 0, "rewritten": 0}
    made: set[str] = set()
    dirs = Dirs(root)
    try:
        _extract(img, deltas, tree, nodes, dirs, made, counts)
    finally:
        dirs.close()
    return counts


def _extract(
    img: Image,
    deltas: tuple[LayerDelta, ...],
    tree: Tree,
    nodes: list[Node],
    dirs: Dirs,
    made: set[str],
    counts: dict[str, int],
) -> None:
    for n in nodes:
        if parent(n.path):
            _mkdirs(dirs, parent(n.path), made)
        if n.kind == "dir":
            _mkdirs(dirs, n.path, made)
            counts["dirs"] += 1
    by_layer: dict[int, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
    for n in nodes:
        if n.kind == "file" or (n.kind == "hardlink" and n.inode >= 0):
            layer, member = holder(tree, n)
            by_layer[layer][member].append(n)
    for layer in sorted(by_layer):
        wanted = by_layer[layer]

        def sink(member: str, f: IO[bytes], wanted: dict[str, list[Node]] = wanted) -> None:
            # the file's own entry first: its mode is the inode's, not a link entry's
            first, *others = sorted(wanted[member], key=lambda n: n.kind != "file")
            _write(dirs, first.path, f, first.mode)
            for other in others:  # more names of one inode: hardlinks inside DIR
                _link(dirs, first.path, other.path)

        copy_members(img.layers[layer], occurrences(deltas[layer], list(wanted)), sink)
        counts["files"] += sum(len(v) for v in wanted.values())
    for n in nodes:
        if n.kind == "symlink":
            # a target that leads out of DIR is rewritten to where the image's root leads
            target = inside(n.path, n.link)
            counts["rewritten"] += target is not None
            fd = dirs.get(parent(n.path))
            os.symlink(n.link if target is None else target, n.path.rpartition("/")[2], dir_fd=fd)
            counts["links"] += 1
        elif n.kind == "other" or (n.kind == "hardlink" and n.inode < 0):
            counts["skipped"] += 1
    for path in sorted(made, reverse=True):  # deepest first: a closed parent stops nothing
        node = tree.nodes.get(path)
        mode = node.mode if node is not None and node.kind == "dir" else 0o755
        # the sticky bit stays (a /tmp is 1777); set-id bits go
        os.fchmod(dirs.get(path), (mode & 0o1777) | 0o700)


@click.command()
@click.argument("image")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("-o", "--output", "output", required=True, metavar="DIR", help="Where to extract.")
@source_options
def export(
    image: str,
    paths: tuple[str, ...],
    output: str,
    platform: str | None,
    insecure: bool,
    no_cache: bool,
) -> None:
    """Extract files of IMAGE (all, or PATHs and what lies below them) into DIR, safely."""
    dest = Path(output)
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise UsageError(f"{output}: exists and is not an empty directory")
    for p in paths:
        normal(p)
    img, deltas, tree = _load(image, platform, insecure, no_cache)
    nodes = selected(tree, paths, image)
    with atomic_dir(dest) as tmp:
        root = os.open(tmp, _DIR_FLAGS)
        try:
            counts = extract(img, deltas, tree, nodes, root)
        finally:
            os.close(root)
        os.chmod(tmp, 0o755)
    click.echo(
        f"exported {counts['files']} files, {counts['dirs']} directories and "
        f"{counts['links']} symlinks to {output}"
        + (f" ({counts['skipped']} devices or fifos skipped)" if counts["skipped"] else "")
        + (
            f"; {counts['rewritten']} symlinks that pointed outside {output} now point inside it"
            if counts["rewritten"]
            else ""
        ),
        err=True,
    )
