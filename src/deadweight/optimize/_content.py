"""The bytes of a few small live files (lockfiles, package.json, /etc/passwd), read from the
layer that wrote each one: one streaming pass per layer that holds any of them."""

from __future__ import annotations

import tarfile
from collections.abc import Iterable

from deadweight.filetree.paths import clean
from deadweight.filetree.tree import Tree
from deadweight.image import Image

MAX_FILE = 32 << 20  # larger files are not read (no lockfile or passwd is this big)
CHUNK = 1 << 20


def read_files(image: Image, tree: Tree, paths: Iterable[str]) -> dict[str, bytes]:
    """Content of each of ``paths`` that is a live regular file (or a hardlink to one) of at
    most ``MAX_FILE`` bytes in ``tree``, the merged file system of ``image``."""
    want: dict[int, dict[str, list[str]]] = {}  # layer -> member name -> paths asking
    for path in paths:
        node = tree.get(path)
        if node is None or node.kind not in ("file", "hardlink") or node.inode < 0:
            continue
        inode = tree.inodes[node.inode]
        if inode.bytes > MAX_FILE:
            continue
        want.setdefault(inode.layer, {}).setdefault(inode.path, []).append(path)
    out: dict[str, bytes] = {}
    for index in sorted(want):
        names = want[index]
        with image.layers[index].open() as stream:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    name, _ = clean(member.name)
                    if name is None or name not in names or not member.isreg():
                        continue
                    src = tar.extractfile(member)
                    assert src is not None
                    data = src.read()  # the last member of a name is the live one
                    for path in names[name]:
                        out[path] = data
            while stream.read(CHUNK):  # to the end, so the layer's digest is verified
                pass
    return out
