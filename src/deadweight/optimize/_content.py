"""The bytes of a few small live files (lockfiles, package.json, /etc/passwd, entrypoint
scripts), from what the first read of the layers captured (``LayerDelta.captured``; the
capture rule is ``analysis.packages.capture``). A file it did not capture whole (a script
the entrypoint reaches, a delta from an older layer store) is read from the layer that
wrote it: one streaming pass per layer that holds any of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from deadweight.errors import CorruptImage
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.paths import clean
from deadweight.filetree.tarstream import BLOCK, HEADER_ONLY, TarError, TarStream
from deadweight.filetree.tree import Tree
from deadweight.image import Image
from deadweight.streams import CHUNK

MAX_FILE = 32 << 20  # larger files are not read (no lockfile or passwd is this big)
_REGULAR = (b"0", b"7")


def read_files(
    image: Image, tree: Tree, paths: Iterable[str], deltas: Sequence[LayerDelta] = ()
) -> dict[str, bytes]:
    """Content of each of ``paths`` that is a live regular file (or a hardlink to one) of at
    most ``MAX_FILE`` bytes in ``tree``, the merged file system of ``image`` whose layer
    deltas are ``deltas`` (when given, what they captured is not read again)."""
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
        if index < len(deltas):
            for c in deltas[index].captured:  # the last capture of a name is the live one
                if c.path in names and not c.truncated:
                    for path in names[c.path]:
                        out[path] = c.data
        rest = {name: asking for name, asking in names.items() if asking[0] not in out}
        if rest:
            out.update(_read_layer(image, index, rest))
    return out


def _read_layer(image: Image, index: int, names: dict[str, list[str]]) -> dict[str, bytes]:
    what = f"layer {image.layers[index].diff_id[:19]}"
    out: dict[str, bytes] = {}
    with image.layers[index].open() as stream:
        tar = TarStream(stream, what)
        try:
            while (member := tar.next()) is not None:
                size = 0 if member.type in HEADER_ONLY else member.size
                name, _ = clean(member.name)
                if name is None or name not in names or member.type not in _REGULAR:
                    tar.skip(size + (-size % BLOCK))
                    continue
                if size > MAX_FILE:
                    raise CorruptImage(f"{what}: /{name} changed size between two reads")
                data = tar.take(size)  # the last member of a name is the live one
                tar.pad(size)
                for path in names[name]:
                    out[path] = data
        except TarError as exc:
            raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
        while stream.read(CHUNK):  # to the end, so the layer's digest is verified
            pass
    return out
