"""Docker's per-layer size, computed from the layer tar (docker-formats.md §3.4).

overlay2 counts ``lstat().st_size`` of every non-directory once per inode: regular files by
their length, symlinks by the byte length of their target, hardlinks not again, and
whiteouts, devices and FIFOs not at all.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Sequence
from typing import BinaryIO, Protocol

from deadweight.errors import CorruptImage, UnsafeLayer
from deadweight.image import Image, Layer

CHUNK = 1 << 20
# A tar header may declare any size; a layer file larger than this is refused as hostile.
MAX_MEMBER = 1 << 40

Progress = Callable[[int, int], None]


class SizeStore(Protocol):
    def get(self, diff_id: str) -> int | None: ...

    def put(self, diff_id: str, size: int) -> None: ...


def _open_tar(stream: BinaryIO, seekable: bool) -> tarfile.TarFile:
    if seekable:  # read headers, seek past data
        return tarfile.open(fileobj=stream, mode="r:")
    return tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK)


def tar_content_size(stream: BinaryIO, *, seekable: bool = False, what: str = "layer") -> int:
    """Sum of regular file lengths and symlink target lengths in one layer tar."""
    total = 0
    try:
        with _open_tar(stream, seekable) as tar:
            for member in tar:
                if member.size > MAX_MEMBER:
                    raise UnsafeLayer(f"{what}: tar header declares a {member.size}-byte file")
                if member.isreg():
                    total += member.size
                elif member.issym():
                    total += len(member.linkname.encode("utf-8", "surrogateescape"))
    except tarfile.TarError as exc:
        raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
    except EOFError as exc:
        raise CorruptImage(f"{what}: truncated tar stream") from exc
    if not seekable:
        while stream.read(CHUNK):  # reach EOF so the digest check runs
            pass
    return total


def layer_size(layer: Layer) -> int:
    """Docker's size of one layer, reading as little as the medium allows."""
    if layer.size is not None:
        return layer.size
    what = f"layer {layer.diff_id[:19]}"
    seekable = layer.open_seekable()
    if seekable is not None:
        with seekable:
            return tar_content_size(seekable, seekable=True, what=what)
    with layer.open() as stream:
        return tar_content_size(stream, what=what)


def layer_sizes(
    image: Image, store: SizeStore | None = None, progress: Progress | None = None
) -> tuple[int, ...]:
    """Sizes of every layer of ``image``, bottom first, cached by diff_id in ``store``."""
    sizes: list[int] = []
    total = len(image.layers)
    for i, layer in enumerate(image.layers):
        size = layer.size
        if size is None and store is not None:
            size = store.get(layer.diff_id)
        if size is None:
            size = layer_size(layer)
            if store is not None:
                store.put(layer.diff_id, size)
        sizes.append(size)
        if progress is not None:
            progress(i + 1, total)
    return tuple(sizes)


def image_size(sizes: Sequence[int]) -> int:
    return sum(sizes)
