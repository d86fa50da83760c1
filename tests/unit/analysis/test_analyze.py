"""analyze(): one pass per layer, the Analysis value, caching by diff_id, hostile layers."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from pathlib import Path
from typing import BinaryIO

import pytest

from deadweight import compression, static
from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze, analyze_deltas, ignore_matcher
from deadweight.analysis.report import LayerReport, SizeItem, UnsafeItem
from deadweight.errors import CorruptImage, DigestMismatch, UnsafeLayer
from deadweight.filetree import LayerDelta
from deadweight.image import Image, Layer
from deadweight.reading import read_deltas, store_kind

MiB = 1 << 20


class Counting:
    def __init__(self, blob: bytes) -> None:
        self.blob, self.calls = blob, 0

    def __call__(self) -> BinaryIO:
        self.calls += 1
        return io.BytesIO(self.blob)


def counted(image: Image) -> tuple[Image, list[Counting]]:
    openers, layers = [], []
    for layer in image.layers:
        with layer.open_blob() as f:
            c = Counting(f.read())
        openers.append(c)
        layers.append(dataclasses.replace(layer, opener=c))
    return dataclasses.replace(image, layers=tuple(layers)), openers


class MemoryStore:
    """An in-memory ``LayerCache``."""

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


def sample(kind: static.Compression = "gzip") -> Image:
    return static.image(
        [
            static.Step(
                "FROM base",
                static.layer([static.Dir("etc"), static.File("etc/os", b"o" * 30)], kind),
            ),
            static.Step(
                "RUN curl -o /big.bin",
                static.layer([static.File("big.bin", b"\1" * (50 * MiB))], kind),
            ),
            static.Step("ENV X=1"),
            static.Step(
                "COPY conf /", static.layer([static.File("conf", b"\2" * (8 * MiB))], kind)
            ),
            static.Step("RUN rm /big.bin", static.layer([static.Whiteout("big.bin")], kind)),
            static.Step(
                "COPY conf2 /conf", static.layer([static.File("conf", b"\3" * (8 * MiB))], kind)
            ),
        ]
    )


def test_fifty_mib_deleted_plus_eight_mib_overwritten() -> None:
    a = analyze(sample())
    assert a.waste.reclaimable == 58 * MiB
    assert [
        (i.path, i.cause, i.written_instruction, i.hidden_instruction) for i in a.waste.items
    ] == [
        ("big.bin", "deleted", "RUN curl -o /big.bin", "RUN rm /big.bin"),
        ("conf", "overwritten_changed", "COPY conf /", "COPY conf2 /conf"),
    ]
    assert a.size == 30 + 66 * MiB and a.final_size == 30 + 8 * MiB
    assert a.size - a.final_size == a.waste.reclaimable
    assert a.layers[3] == LayerReport(
        3, a.layers[3].diff_id, "RUN rm /big.bin", 0, 0, 0, 1, 0, (), deleted_bytes=50 * MiB
    )
    # bytes each layer added, modified and deleted, beside the counts
    assert [(lr.added_bytes, lr.changed_bytes, lr.deleted_bytes) for lr in a.layers] == [
        (30, 0, 0), (50 * MiB, 0, 0), (8 * MiB, 0, 0), (0, 0, 50 * MiB), (0, 8 * MiB, 0)
    ]  # fmt: skip
    assert [(lr.added, lr.changed, lr.deleted) for lr in a.layers][4] == (0, 1, 0)
    assert a.layers[1].largest == (SizeItem("big.bin", 50 * MiB),)
    assert a.largest_files == (SizeItem("conf", 8 * MiB), SizeItem("etc/os", 30))
    assert [r.id for r in a.recommendations] == ["delete-in-same-step", "write-once"]
    assert a.recommendations[0].bytes == 50 * MiB


def test_a_hardlink_brings_no_bytes_and_removing_one_frees_none() -> None:
    a = analyze(
        static.image(
            [
                static.Step("ADD f", static.layer([static.File("f", b"x" * 700)])),
                static.Step("RUN ln f g", static.layer([static.Hardlink("g", "f")])),
                static.Step("RUN rm g", static.layer([static.Whiteout("g")])),
                static.Step("RUN rm f", static.layer([static.Whiteout("f")])),
            ]
        )
    )
    assert [(lr.added, lr.deleted) for lr in a.layers] == [(1, 0), (1, 0), (0, 1), (0, 1)]
    assert [(lr.added_bytes, lr.deleted_bytes) for lr in a.layers] == [
        (700, 0), (0, 0), (0, 0), (0, 700)
    ]  # fmt: skip


def test_each_layer_is_read_once_and_the_store_skips_known_layers() -> None:
    image, openers = counted(sample("none"))
    store = MemoryStore()
    first = analyze(image, store=store, hash="sha256")
    assert [o.calls for o in openers] == [1, 1, 1, 1, 1]
    assert len(store.blobs) == 5 and all(
        k == store_kind("sha256", pkgs.capture) for k, _ in store.blobs
    )
    again = analyze(image, store=store, hash="sha256")
    assert [o.calls for o in openers] == [1, 1, 1, 1, 1]
    assert again == first


def test_parallel_reading_gives_the_same_result_in_order() -> None:
    progress: list[tuple[int, int]] = []
    serial = analyze(sample())
    parallel = analyze(sample(), progress=lambda d, t: progress.append((d, t)))
    assert parallel == serial
    assert progress == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_excluding_the_base_and_ignoring_paths() -> None:
    a = analyze(sample(), base_layers=2, ignore=["/conf"])
    assert a.waste.reclaimable == 0 and a.waste.base_bytes == 50 * MiB
    assert a.scope_size == 16 * MiB and a.efficiency == 1.0
    assert ignore_matcher(["var/cache"]) is not None
    m = ignore_matcher(["var/cache", "*.log", "/tmp/**"])
    assert m is not None
    assert [m(p) for p in ["var/cache/x/y", "var/cachex", "a/b.log", "tmp/q", "tmpx"]] == [
        True,
        False,
        True,
        True,
        False,
    ]
    assert ignore_matcher(["", "  "]) is None


def test_unsafe_entries_are_reported_per_layer() -> None:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../etc/passwd")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    raw = buf.getvalue()
    from deadweight.digest import sha256_bytes
    from deadweight.spec.manifest import Descriptor

    evil = Layer(
        sha256_bytes(raw),
        Descriptor("application/vnd.oci.image.layer.v1.tar", sha256_bytes(raw), len(raw)),
        lambda: io.BytesIO(raw),
    )
    img = static.image([static.Step("ADD evil.tar /", evil)])
    a = analyze(img)
    assert a.unsafe == (UnsafeItem(0, "../../etc/passwd", "path escapes the root", "dropped"),)
    assert a.final_size == 0


def _image_of(
    blob: bytes, diff_id: str, media: str = "application/vnd.oci.image.layer.v1.tar+gzip"
) -> Image:
    from deadweight.digest import sha256_bytes
    from deadweight.spec.manifest import Descriptor

    layer = Layer(
        diff_id, Descriptor(media, sha256_bytes(blob), len(blob)), lambda: io.BytesIO(blob)
    )
    return static.image([static.Step("RUN x", layer)])


def test_gzip_bomb_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # deflate cannot exceed ~1032:1, under the default guard ratio; the guard is exercised
    # with lowered limits and a real 64 MiB-of-zeros bomb.
    monkeypatch.setattr(compression, "BOMB_FLOOR", 1 * MiB)
    monkeypatch.setattr(compression, "BOMB_RATIO", 500)
    tar = static.tar_bytes([static.File("zeros", b"\0" * (64 * MiB))])
    from deadweight.digest import sha256_bytes

    img = _image_of(gzip.compress(tar, 9, mtime=0), sha256_bytes(tar))
    with pytest.raises(UnsafeLayer) as err:
        analyze(img)
    assert "decompression bomb" in str(err.value)


def test_truncated_compressed_layer_is_a_clean_error() -> None:
    tar = static.tar_bytes([static.File("f", bytes(range(256)) * 4096)])
    blob = gzip.compress(tar, mtime=0)
    from deadweight.digest import sha256_bytes

    img = _image_of(blob[: len(blob) // 2], sha256_bytes(tar))
    img = dataclasses.replace(
        img,
        layers=(
            dataclasses.replace(
                img.layers[0], blob=dataclasses.replace(img.layers[0].blob, digest="")
            ),
        ),
    )
    with pytest.raises(CorruptImage) as err:
        analyze(img)
    assert str(err.value).endswith("truncated compressed stream")


def test_a_layer_whose_content_is_not_its_diff_id_fails() -> None:
    tar = static.tar_bytes([static.File("f", b"1")])
    img = _image_of(gzip.compress(tar, mtime=0), "sha256:" + "0" * 64)
    with pytest.raises(DigestMismatch):
        analyze(img)


def test_json_round_trip_of_the_cached_delta_is_stable() -> None:
    deltas = read_deltas(sample("none"), capture=pkgs.capture, hash="sha256")
    assert tuple(LayerDelta.from_bytes(d.to_bytes()) for d in deltas) == deltas
    decoded = [LayerDelta.from_bytes(d.to_bytes()) for d in deltas]
    assert analyze_deltas(deltas) == analyze_deltas([d for d in decoded if d is not None])
    json.loads(deltas[0].to_bytes())


def test_the_sqlite_store_works_with_parallel_readers(tmp_path: Path) -> None:
    # One SQLite connection serves the reading threads (cache.LayerCache's rule).
    from deadweight.cache import LayerStore

    image, openers = counted(sample("none"))
    store = LayerStore(tmp_path / "layers.sqlite")
    progress: list[tuple[int, int]] = []
    first = analyze(image, store=store)
    assert [o.calls for o in openers] == [1, 1, 1, 1, 1]
    again = analyze(image, store=store, progress=lambda d, t: progress.append((d, t)))
    assert [o.calls for o in openers] == [1, 1, 1, 1, 1]
    assert again == first and progress == [(5, 5)]
    store.close()


def test_the_collector_is_paused_during_an_analysis_and_restored_after() -> None:
    import gc

    states: list[bool] = []
    assert gc.isenabled()
    analyze(sample("none"), progress=lambda d, t: states.append(gc.isenabled()))
    assert states == [False] * 5 and gc.isenabled()
    gc.disable()
    try:
        analyze(sample("none"))
        assert not gc.isenabled()
    finally:
        gc.enable()
