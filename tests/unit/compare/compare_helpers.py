"""Synthetic images for the compare tests: shared layers that must never be opened."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, BinaryIO

from deadweight import static
from deadweight.analysis.sizes import tar_content_size
from deadweight.filetree import LayerDelta, read_delta
from deadweight.image import Image, Layer


class Opened(AssertionError):
    """A layer that must not be read was opened."""


def sealed(entries: Sequence[static.Entry], size: bool = True) -> Layer:
    """A layer whose opener raises; its docker size known (as an engine or the store knows)."""
    real = static.layer(entries)

    def boom() -> BinaryIO:
        raise Opened(f"shared layer {real.diff_id[:19]} was opened")

    known = tar_content_size(io.BytesIO(static.tar_bytes(entries))) if size else None
    return Layer(real.diff_id, real.blob, boom, size=known, seekable=True)


def counted(entries: Sequence[static.Entry], log: list[str]) -> Layer:
    """A readable layer that records each time it is opened."""
    real = static.layer(entries)
    data = static.tar_bytes(entries)

    def opener() -> BinaryIO:
        log.append(real.diff_id)
        return io.BytesIO(data)

    return Layer(real.diff_id, real.blob, opener, seekable=True)


def delta(entries: Sequence[static.Entry]) -> LayerDelta:
    from deadweight.analysis.packages import capture

    return read_delta(io.BytesIO(static.tar_bytes(entries)), hash="xxh3", capture=capture)


def img(steps: Sequence[static.Step], **fields: Any) -> Image:
    return static.image(steps, **fields)


class MemoryStore:
    """An in-memory ``LayerStore``."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.blobs: dict[tuple[str, str], bytes] = {}

    def get(self, diff_id: str) -> int | None:
        return self.sizes.get(diff_id)

    def put(self, diff_id: str, size: int) -> None:
        self.sizes[diff_id] = size

    def get_blob(self, kind: str, diff_id: str) -> bytes | None:
        return self.blobs.get((kind, diff_id))

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None:
        self.blobs[(kind, diff_id)] = data
