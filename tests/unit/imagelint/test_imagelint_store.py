"""A second lint of the same image reads no layer: results come from the real SQLite store."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from deadweight import static
from deadweight.cache import LayerStore
from deadweight.image import Layer
from deadweight.imagelint.lint import capture
from deadweight.reading import read_deltas


def test_second_read_comes_from_the_store_even_with_threads(tmp_path: Path) -> None:
    real = static.layer([static.File("etc/app.conf", b"x" * 10)])
    data = static.tar_bytes([static.File("etc/app.conf", b"x" * 10)])
    opened: list[str] = []

    def opener() -> BinaryIO:
        opened.append(real.diff_id)
        return io.BytesIO(data)

    layer = Layer(real.diff_id, real.blob, opener, seekable=True)
    image = static.image([static.Step("COPY app.conf /etc/", layer)])
    store = LayerStore(tmp_path / "layers.sqlite")
    first = read_deltas(image, capture=capture, store=store)
    second = read_deltas(image, capture=capture, store=store)
    store.close()
    assert opened == [real.diff_id]
    assert second == first
