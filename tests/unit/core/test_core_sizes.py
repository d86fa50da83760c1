"""Docker's per-layer size from the layer tar (docker-formats.md §3.4) and its store."""

from __future__ import annotations

import dataclasses
import io
import tarfile
from pathlib import Path
from typing import BinaryIO

import pytest

from deadweight import static
from deadweight.analysis.sizes import layer_size, layer_sizes, tar_content_size
from deadweight.cache import LayerStore
from deadweight.image import Image, Layer
from deadweight.sources import archive

# §3.4: 100-byte file + hardlink to it + symlink to "target/path" (11 bytes) + empty file
# + FIFO + 7-byte file = 118.
ENTRIES_118: list[static.Entry] = [
    static.Dir("d"),
    static.File("d/hundred", b"x" * 100),
    static.Hardlink("d/link", "d/hundred"),
    static.Symlink("d/sym", "target/path"),
    static.File("d/empty"),
    static.Fifo("d/fifo"),
    static.File("d/seven", b"1234567"),
]
# §3.4: a whiteout, an opaque marker and a 5-byte file = 5.
ENTRIES_5: list[static.Entry] = [
    static.Whiteout("etc/f1"),
    static.Opaque("var"),
    static.File("five", b"12345"),
]


class CountingOpener:
    """A layer opener that counts how often the layer is opened."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.calls = 0

    def __call__(self) -> BinaryIO:
        self.calls += 1
        return io.BytesIO(self.blob)


def counted(layer: Layer) -> tuple[Layer, CountingOpener]:
    with layer.open_blob() as f:
        opener = CountingOpener(f.read())
    return dataclasses.replace(layer, opener=opener), opener


def two_layer_image(kind: static.Compression = "none") -> Image:
    return static.image(
        [
            static.Step("RUN make 118", static.layer(ENTRIES_118, kind)),
            static.Step("ENV A=b"),
            static.Step("RUN make 5", static.layer(ENTRIES_5, kind)),
        ]
    )


@pytest.mark.parametrize("kind", ["none", "gzip", "zstd"])
def test_section_3_4_examples(kind: static.Compression) -> None:
    assert layer_sizes(two_layer_image(kind)) == (118, 5)


def test_compression_does_not_change_size_or_diff_id() -> None:
    layers = [static.layer(ENTRIES_118, k) for k in ("none", "gzip", "zstd")]
    assert {layer.diff_id for layer in layers} == {layers[0].diff_id}
    assert len({layer.blob.digest for layer in layers}) == 3
    assert [layer_size(layer) for layer in layers] == [118, 118, 118]


def test_symlink_size_counts_utf8_bytes_of_target() -> None:
    layer = static.layer([static.Symlink("l", "é/ü")])  # 2 + 1 + 2 bytes
    assert layer_size(layer) == 5


def test_hardlink_to_file_of_lower_layer_counts_nothing() -> None:
    layer = static.layer([static.Hardlink("b", "a")])
    assert layer_size(layer) == 0


def test_rm_only_layer_and_directory_only_layer_are_zero() -> None:
    assert layer_size(static.layer([static.Whiteout("a/b")])) == 0
    assert layer_size(static.layer([static.Dir("usr/src/app")])) == 0


def test_tar_padding_never_counts() -> None:
    raw = static.tar_bytes([static.File("one", b"1")])
    assert len(raw) == 10240  # tarfile pads to a 10 KiB record
    assert tar_content_size(io.BytesIO(raw)) == 1
    assert tar_content_size(io.BytesIO(raw + bytes(10240))) == 1


def test_empty_image_has_no_sizes() -> None:
    assert layer_sizes(static.EMPTY) == ()


def test_known_layer_size_is_not_recomputed() -> None:
    layer, opener = counted(static.layer(ENTRIES_118))
    known = dataclasses.replace(layer, size=4242)
    assert layer_size(known) == 4242
    assert opener.calls == 0


def test_progress_reports_each_layer() -> None:
    calls: list[tuple[int, int]] = []
    layer_sizes(two_layer_image(), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]


def test_archive_layers_are_read_whole_by_the_one_reader(tmp_path: Path) -> None:
    """An uncompressed member of an archive on disk is read to its end like any layer (no
    seeking past data): ``history`` checks the digests ``analyze`` checks (issue 16)."""
    path = tmp_path / "img.tar"
    archive.write([two_layer_image()], path)
    img = archive.read(path)
    for layer, expected in zip(img.layers, (118, 5), strict=True):
        with layer.open() as stream:
            assert tar_content_size(stream) == expected
        assert layer_size(layer) == expected


def _counted_image() -> tuple[Image, list[CountingOpener]]:
    l1, o1 = counted(static.layer(ENTRIES_118, "gzip"))
    l2, o2 = counted(static.layer(ENTRIES_5))
    img = static.image([static.Step("RUN a", l1), static.Step("RUN b", l2)])
    return img, [o1, o2]


def test_store_second_run_opens_no_layer(tmp_path: Path) -> None:
    img, openers = _counted_image()
    store = LayerStore(tmp_path / "layers.sqlite")
    try:
        assert layer_sizes(img, store) == (118, 5)
        first = [o.calls for o in openers]
        assert all(n >= 1 for n in first)
        assert store.get(img.layers[0].diff_id) == 118
        assert store.get(img.layers[1].diff_id) == 5
        assert layer_sizes(img, store) == (118, 5)
        assert [o.calls for o in openers] == first
    finally:
        store.close()


def test_store_persists_across_instances(tmp_path: Path) -> None:
    img, openers = _counted_image()
    first = LayerStore(tmp_path / "layers.sqlite")
    layer_sizes(img, first)
    first.close()
    before = [o.calls for o in openers]
    second = LayerStore(tmp_path / "layers.sqlite")
    try:
        assert layer_sizes(img, second) == (118, 5)
    finally:
        second.close()
    assert [o.calls for o in openers] == before


def test_store_value_is_trusted_by_diff_id(tmp_path: Path) -> None:
    """A diff_id names content, so a stored size is used as it is, without reading."""
    img, openers = _counted_image()
    store = LayerStore(tmp_path / "layers.sqlite")
    try:
        store.put(img.layers[0].diff_id, 7)
        assert layer_sizes(img, store) == (7, 5)
        assert openers[0].calls == 0
        assert openers[1].calls >= 1
    finally:
        store.close()


def test_cache_dir_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    img, openers = _counted_image()
    store = LayerStore()
    try:
        assert store.path == tmp_path / "cache" / "layers.sqlite"
        layer_sizes(img, store)
    finally:
        store.close()
    assert (tmp_path / "cache" / "layers.sqlite").is_file()
    before = [o.calls for o in openers]
    again = LayerStore()
    try:
        assert layer_sizes(img, again) == (118, 5)
    finally:
        again.close()
    assert [o.calls for o in openers] == before


def test_unusable_store_degrades_to_no_caching(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    store = LayerStore(blocker / "layers.sqlite")  # its folder cannot be created
    img, openers = _counted_image()
    assert layer_sizes(img, store) == (118, 5)
    assert layer_sizes(img, store) == (118, 5)
    assert store.get(img.layers[0].diff_id) is None
    assert all(o.calls >= 2 for o in openers)
    store.close()


def test_devices_count_nothing() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind in (("dev/null", tarfile.CHRTYPE), ("dev/sda", tarfile.BLKTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.devmajor, info.devminor = kind, 1, 3
            tar.addfile(info)
        wh = tarfile.TarInfo("etc/.wh.gone")  # overlayfs-style whiteout: a 0:0 char device
        wh.type = tarfile.CHRTYPE
        tar.addfile(wh)
        data = tarfile.TarInfo("f")
        data.size = 3
        tar.addfile(data, io.BytesIO(b"abc"))
    assert tar_content_size(io.BytesIO(buf.getvalue())) == 3
