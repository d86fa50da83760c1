"""Docker's per-layer size, computed from the layer tar (docker-formats.md §3.4).

overlay2 counts ``lstat().st_size`` of every non-directory once per inode: regular files by
their length, symlinks by the byte length of their target, hardlinks not again, and
whiteouts, devices and FIFOs not at all.
"""

from __future__ import annotations

from typing import Protocol

from deadweight.filetree.delta import read_delta
from deadweight.image import Image, Layer
from deadweight.progress import Progress
from deadweight.streams import ByteStream


class SizeStore(Protocol):
    def get(self, diff_id: str) -> int | None: ...

    def put(self, diff_id: str, size: int) -> None: ...


def tar_content_size(stream: ByteStream, *, what: str = "layer") -> int:
    """Sum of regular file lengths and symlink target lengths in one layer tar.

    Read by the same reader as every other command (``filetree.delta``), to the end of the
    stream so the layer's digests are checked: ``history`` refuses exactly the layers that
    ``analyze`` refuses (issue 16).
    """
    return read_delta(stream, what=what, entries=False).size


def layer_size(layer: Layer) -> int:
    """Docker's size of one layer: given by the medium, or read from the layer."""
    if layer.size is not None:
        return layer.size
    with layer.open() as stream:
        return tar_content_size(stream, what=f"layer {layer.diff_id[:19]}")


def layer_sizes(
    image: Image, store: SizeStore | None = None, progress: Progress | None = None
) -> tuple[int, ...]:
    """Sizes of every layer of ``image``, bottom first, cached by diff_id in ``store``."""
    sizes: list[int] = []
    total = len(image.layers)
    known: dict[str, int] = {}  # a layer named again (empty layers often are) asked once
    for i, layer in enumerate(image.layers):
        size = layer.size
        if size is None:
            size = known.get(layer.diff_id)
        if size is None and store is not None:
            size = store.get(layer.diff_id)
        if size is None:
            size = layer_size(layer)
            if store is not None:
                store.put(layer.diff_id, size)
        if layer.size is None:
            known[layer.diff_id] = size
        sizes.append(size)
        if progress is not None:
            progress(i + 1, total)
    return tuple(sizes)
