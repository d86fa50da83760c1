"""Broken and hostile inputs: a precise exception type and message, and inputs untouched."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import re
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from deadweight import compression, mediatypes, static
from deadweight.analysis.sizes import layer_sizes
from deadweight.digest import sha256_bytes
from deadweight.errors import (
    CorruptImage,
    DigestMismatch,
    NotFound,
    UnsafeLayer,
    UnsupportedMediaType,
)
from deadweight.image import Image
from deadweight.sources import archive, layout, open_image

# --- helpers ----------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file and link under ``root``: content (or link target), mtime, mode."""
    out: dict[str, tuple[bytes, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            st = p.lstat()
            if p.is_symlink():
                data = os.readlink(p).encode()
            elif p.is_file():
                data = p.read_bytes()
            else:
                data = b"<dir>"
            out[str(p.relative_to(root))] = (data, st.st_mtime_ns, st.st_mode)
    return out


@contextmanager
def untouched(root: Path) -> Iterator[None]:
    """Assert that nothing under ``root`` is created, changed or removed."""
    before = snapshot(root)
    assert before, "nothing to watch"
    yield
    assert snapshot(root) == before


@dataclass(frozen=True)
class M:
    name: str
    data: bytes = b""
    link: str | None = None


def write_tar(path: Path, members: list[M]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            if m.link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, m.link
                tar.addfile(info)
            else:
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
    path.write_bytes(buf.getvalue())
    return path


def config_for(diff_ids: list[str], created_by: str = "RUN x") -> bytes:
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-11-27T03:58:52Z",
            "history": [{"created_by": created_by} for _ in diff_ids],
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()


def hand_archive(
    path: Path,
    layer_blobs: list[bytes],
    diff_ids: list[str] | None = None,
    *,
    config: bytes | None = None,
    config_name: str | None = None,
    extra: list[M] | None = None,
    layers: list[str] | None = None,
) -> Path:
    """A classic docker archive with the given layer files (stored as they are).

    ``layers`` replaces the manifest's layer list (default: the ``l<i>/layer.tar`` files).
    """
    if diff_ids is None:
        diff_ids = [sha256_bytes(b) for b in layer_blobs]
    raw = config if config is not None else config_for(diff_ids)
    name = config_name or hashlib.sha256(raw).hexdigest() + ".json"
    members = [M(name, raw)]
    members += [M(f"l{i}/layer.tar", b) for i, b in enumerate(layer_blobs)]
    manifest = [
        {
            "Config": name,
            "RepoTags": ["t:1"],
            "Layers": layers
            if layers is not None
            else [f"l{i}/layer.tar" for i in range(len(layer_blobs))],
        }
    ]
    members += extra or []
    members.append(M("manifest.json", json.dumps(manifest).encode()))
    return write_tar(path, members)


def small_tar(n: int = 5) -> bytes:
    return static.tar_bytes([static.File("f", b"x" * n)])


# --- missing, not an archive, truncated -------------------------------------------------


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "other").write_bytes(b"keep")
    missing = tmp_path / "missing.tar"
    calls: list[Callable[[], object]] = [
        lambda: archive.read(missing),
        lambda: open_image(f"docker-archive:{missing}"),
        lambda: layout.read(missing, transport="oci-archive"),
        lambda: open_image(f"oci-archive:{missing}:v1"),
    ]
    for call in calls:
        with untouched(tmp_path), pytest.raises(NotFound) as err:
            call()
        assert type(err.value) is NotFound
        assert str(err.value) == f"{missing}: no such file or directory"


def test_missing_bare_path_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "other").write_bytes(b"keep")
    missing = tmp_path / "missing.tar"
    with untouched(tmp_path), pytest.raises(NotFound) as err:
        open_image(str(missing))
    assert str(err.value) == f"{missing}: no such file or directory"


@pytest.mark.parametrize("reader", ["archive", "layout"])
def test_random_bytes_are_not_an_archive(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "noise.tar"
    path.write_bytes(b"NOISE!" + random.Random(1234).randbytes(20000))
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        if reader == "archive":
            archive.read(path)
        else:
            layout.read(path, transport="oci-archive")
    assert type(err.value) is CorruptImage
    assert re.fullmatch(rf"{re.escape(str(path))}: not an image archive \(.+\)", str(err.value))


def test_empty_file_is_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar"
    path.write_bytes(b"")
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: not an image archive (empty file)"


def test_tar_cut_in_half_is_truncated(tmp_path: Path) -> None:
    full = tmp_path / "full.tar"
    archive.write(
        [static.image([static.Step("RUN", static.layer([static.File("a", b"1")]))])], full
    )
    data = full.read_bytes()
    full.unlink()
    path = tmp_path / "half.tar"
    path.write_bytes(data[: len(data) // 2])
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert type(err.value) is CorruptImage
    assert re.fullmatch(
        rf"{re.escape(str(path))}: truncated archive \(member [0-9a-f]{{64}}/layer\.tar\)",
        str(err.value),
    )


def test_tar_cut_before_manifest_is_not_a_docker_archive(tmp_path: Path) -> None:
    path = hand_archive(tmp_path / "a.tar", [small_tar()])
    data = path.read_bytes()
    with tarfile.open(path) as tar:
        cut = tar.getmember("manifest.json").offset  # a header boundary
    path.write_bytes(data[:cut])
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: not a docker archive (no manifest.json)"


def test_truncated_gzip_archive(tmp_path: Path) -> None:
    plain = hand_archive(tmp_path / "a.tar", [small_tar()])
    path = tmp_path / "a.tar.gz"
    packed = gzip.compress(plain.read_bytes(), mtime=0)
    path.write_bytes(packed[: len(packed) // 2])
    plain.unlink()
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: truncated compressed stream"


# --- digests ----------------------------------------------------------------------------


def test_config_digest_mismatch(tmp_path: Path) -> None:
    layer = small_tar()
    good = config_for([sha256_bytes(layer)], created_by="RUN good")
    edited = config_for([sha256_bytes(layer)], created_by="RUN evil")
    name = hashlib.sha256(good).hexdigest() + ".json"
    path = hand_archive(tmp_path / "a.tar", [layer], config=edited, config_name=name)
    with untouched(tmp_path), pytest.raises(DigestMismatch) as err:
        archive.read(path)
    assert str(err.value) == (
        f"{path}: config {name}: digest mismatch: expected {sha256_bytes(good)}, "
        f"got {sha256_bytes(edited)}"
    )


def test_gzip_layer_not_matching_its_diff_id(tmp_path: Path) -> None:
    real = small_tar(5)
    claimed = sha256_bytes(small_tar(6))
    path = hand_archive(tmp_path / "a.tar", [gzip.compress(real, mtime=0)], [claimed])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(DigestMismatch) as err:
        layer_sizes(img)
    assert str(err.value) == (
        f"layer {claimed[:19]} (uncompressed): digest mismatch: expected {claimed}, "
        f"got {sha256_bytes(real)}"
    )


def test_uncompressed_layer_not_matching_its_diff_id_fails_when_streamed(tmp_path: Path) -> None:
    real = small_tar(5)
    claimed = sha256_bytes(small_tar(6))
    path = hand_archive(tmp_path / "a.tar", [real], [claimed])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(DigestMismatch) as err, img.layers[0].open() as f:
        while f.read(1 << 16):
            pass
    assert str(err.value) == (
        f"layer {claimed[:19]}: digest mismatch: expected {claimed}, got {sha256_bytes(real)}"
    )


def test_layout_config_blob_digest_mismatch(tmp_path: Path) -> None:
    root = tmp_path / "lay"
    img = static.image([static.Step("RUN", static.layer([static.File("a", b"1")]))])
    layout.write([img], root)
    blob = root / "blobs" / "sha256" / img.id.removeprefix("sha256:")
    edited = img.raw_config.replace(b"RUN", b"NUR")
    blob.write_bytes(edited)
    with untouched(tmp_path), pytest.raises(DigestMismatch) as err:
        layout.read(root)
    assert str(err.value) == (
        f"{root}: blob {img.id[:19]}: digest mismatch: expected {img.id}, "
        f"got {sha256_bytes(edited)}"
    )


# --- media types and JSON ---------------------------------------------------------------


def layout_with_manifest(root: Path, manifest: bytes, media_type: str) -> Path:
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    digest = sha256_bytes(manifest)
    (blobs / digest.removeprefix("sha256:")).write_bytes(manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": media_type, "digest": digest, "size": len(manifest)}],
    }
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


def manifest_doc(img: Image, root: Path, layer_media: str) -> bytes:
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (blobs / img.id.removeprefix("sha256:")).write_bytes(img.raw_config)
    layers = []
    for layer in img.layers:
        with layer.open_blob() as f:
            data = f.read()
        (blobs / layer.blob.digest.removeprefix("sha256:")).write_bytes(data)
        layers.append({"mediaType": layer_media, "digest": layer.blob.digest, "size": len(data)})
    config = {"mediaType": mediatypes.OCI_CONFIG, "digest": img.id, "size": len(img.raw_config)}
    doc = {"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST, "config": config}
    return json.dumps({**doc, "layers": layers}).encode()


def test_unknown_layer_media_type(tmp_path: Path) -> None:
    root = tmp_path / "lay"
    img = static.image([static.Step("RUN", static.layer([static.File("a", b"1")]))])
    raw = manifest_doc(img, root, "application/x-foo")
    root.joinpath("blobs/sha256", sha256_bytes(raw).removeprefix("sha256:")).write_bytes(raw)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": mediatypes.OCI_MANIFEST, "digest": sha256_bytes(raw), "size": len(raw)}
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    with untouched(tmp_path), pytest.raises(UnsupportedMediaType) as err:
        layout.read(root)
    assert str(err.value) == f"{root}: unknown layer media type 'application/x-foo'"


def test_unknown_manifest_media_type(tmp_path: Path) -> None:
    root = layout_with_manifest(tmp_path / "lay", b'{"mediaType":"application/x-weird"}', "")
    digest = json.loads((root / "index.json").read_text())["manifests"][0]["digest"]
    with untouched(tmp_path), pytest.raises(UnsupportedMediaType) as err:
        layout.read(root)
    assert str(err.value) == f"{root}: {digest[:19]}: unknown media type 'application/x-weird'"


def test_schema1_manifest_is_unsupported(tmp_path: Path) -> None:
    root = layout_with_manifest(tmp_path / "lay", b'{"schemaVersion":1,"fsLayers":[]}', "")
    digest = json.loads((root / "index.json").read_text())["manifests"][0]["digest"]
    with untouched(tmp_path), pytest.raises(UnsupportedMediaType) as err:
        layout.read(root)
    assert str(err.value) == (
        f"{root}: {digest[:19]}: Docker schema 1 manifests are deprecated and not supported"
    )


def test_broken_manifest_blob_json(tmp_path: Path) -> None:
    root = layout_with_manifest(tmp_path / "lay", b'{"layers": [', mediatypes.OCI_MANIFEST)
    digest = json.loads((root / "index.json").read_text())["manifests"][0]["digest"]
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        layout.read(root)
    assert type(err.value) is CorruptImage
    assert re.fullmatch(
        rf"{re.escape(str(root))}: {digest[:19]}: not valid JSON \(.+\)", str(err.value)
    )


def test_broken_index_json(tmp_path: Path) -> None:
    root = layout_with_manifest(tmp_path / "lay", b"{}", mediatypes.OCI_MANIFEST)
    (root / "index.json").write_text('{"manifests": [}')
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        layout.read(root)
    assert re.fullmatch(
        rf"{re.escape(str(root))}: index.json: not valid JSON \(.+\)", str(err.value)
    )


def test_broken_manifest_json_in_archive(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "a.tar", [M("manifest.json", b'[{"Config": ')])
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert type(err.value) is CorruptImage
    assert re.fullmatch(
        rf"{re.escape(str(path))}: manifest.json: not valid JSON \(.+\)", str(err.value)
    )


@pytest.mark.parametrize("doc", [b"{}", b"[1]", b'"x"'])
def test_manifest_json_of_the_wrong_shape(tmp_path: Path, doc: bytes) -> None:
    path = write_tar(tmp_path / "a.tar", [M("manifest.json", doc)])
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: manifest.json is not a list of objects"


def test_broken_config_json_in_archive(tmp_path: Path) -> None:
    raw = b'{"rootfs": {"diff_ids": ['
    path = hand_archive(tmp_path / "a.tar", [small_tar()], config=raw)
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert type(err.value) is CorruptImage
    assert re.fullmatch(rf"{re.escape(str(path))}: config: not valid JSON \(.+\)", str(err.value))


def test_layer_count_disagreement(tmp_path: Path) -> None:
    layer = small_tar()
    config = config_for([sha256_bytes(layer), sha256_bytes(layer)])
    path = hand_archive(tmp_path / "a.tar", [layer], config=config)
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: config and manifest.json disagree on the number of layers"


def test_missing_layer_member(tmp_path: Path) -> None:
    layer = small_tar()
    raw = config_for([sha256_bytes(layer)])
    name = hashlib.sha256(raw).hexdigest() + ".json"
    manifest = [{"Config": name, "Layers": ["gone/layer.tar"]}]
    path = write_tar(
        tmp_path / "a.tar", [M(name, raw), M("manifest.json", json.dumps(manifest).encode())]
    )
    with untouched(tmp_path), pytest.raises(NotFound) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: no member 'gone/layer.tar' in the archive"


# --- hostile archives -------------------------------------------------------------------


@pytest.mark.parametrize("target", ["../../etc/passwd", "../../../l0/layer.tar", "/etc/passwd"])
def test_symlinked_layer_pointing_outside_the_archive(tmp_path: Path, target: str) -> None:
    layer = small_tar()
    path = hand_archive(
        tmp_path / "a.tar",
        [layer],
        extra=[M("etc/passwd", layer), M("evil/layer.tar", link=target)],
        layers=["evil/layer.tar"],
    )
    with untouched(tmp_path), pytest.raises(UnsafeLayer) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: member 'evil/layer.tar' links outside the archive"


def test_symlink_loop(tmp_path: Path) -> None:
    layer = small_tar()
    raw = config_for([sha256_bytes(layer)])
    name = hashlib.sha256(raw).hexdigest() + ".json"
    manifest = [{"Config": name, "Layers": ["a/layer.tar"]}]
    path = write_tar(
        tmp_path / "a.tar",
        [
            M(name, raw),
            M("a/layer.tar", link="../b/layer.tar"),
            M("b/layer.tar", link="../a/layer.tar"),
            M("manifest.json", json.dumps(manifest).encode()),
        ],
    )
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: link loop at member 'a/layer.tar'"


def test_unpacked_archive_symlink_outside_the_directory(tmp_path: Path) -> None:
    outside = tmp_path / "secret.tar"
    outside.write_bytes(small_tar())
    root = tmp_path / "unpacked"
    root.mkdir()
    raw = config_for([sha256_bytes(small_tar())])
    name = hashlib.sha256(raw).hexdigest() + ".json"
    (root / name).write_bytes(raw)
    (root / "l0").mkdir()
    (root / "l0" / "layer.tar").symlink_to("../../secret.tar")
    (root / "manifest.json").write_text(json.dumps([{"Config": name, "Layers": ["l0/layer.tar"]}]))
    with untouched(tmp_path), pytest.raises(UnsafeLayer) as err:
        archive.read(root)
    assert str(err.value) == f"{root}: 'l0/layer.tar' points outside the directory"


def huge_header_tar(size: int = 1 << 41) -> bytes:
    info = tarfile.TarInfo("huge")
    info.size = size
    return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape") + bytes(1024)


def test_archive_member_declaring_a_huge_size(tmp_path: Path) -> None:
    path = tmp_path / "a.tar"
    path.write_bytes(huge_header_tar())
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        archive.read(path)
    assert str(err.value) == f"{path}: truncated archive (member huge)"


@pytest.mark.parametrize("compressed", [False, True])
def test_layer_tar_header_declaring_a_huge_size(tmp_path: Path, compressed: bool) -> None:
    raw = huge_header_tar()
    diff_id = sha256_bytes(raw)
    blob = gzip.compress(raw, mtime=0) if compressed else raw
    path = hand_archive(tmp_path / "a.tar", [blob], [diff_id])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(UnsafeLayer) as err:
        layer_sizes(img)
    assert str(err.value) == f"layer {diff_id[:19]}: tar header declares a {1 << 41}-byte file"


def zeros_layer(kind: static.Compression, n: int = 4 << 20) -> tuple[bytes, str]:
    raw = static.tar_bytes([static.File("zeros", bytes(n))])
    return static.compress(raw, kind), sha256_bytes(raw)


BOMB = r"layer sha256:[0-9a-f]{12}: decompression bomb: \d+ bytes inflate to more than \d+"


def test_zstd_bomb_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compression, "BOMB_FLOOR", 1 << 20)
    blob, diff_id = zeros_layer("zstd")
    path = hand_archive(tmp_path / "a.tar", [blob], [diff_id])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(UnsafeLayer) as err:
        layer_sizes(img)
    assert re.fullmatch(BOMB, str(err.value))
    assert str(err.value).startswith(f"layer {diff_id[:19]}: ")


def test_gzip_bomb_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deflate tops out near 1032:1, the best a gzip bomb can do; the guard must catch it."""
    monkeypatch.setattr(compression, "BOMB_FLOOR", 1 << 20)
    blob, diff_id = zeros_layer("gzip", 8 << 20)
    assert len(blob) * 1000 < 8 << 20  # as dense as deflate gets
    path = hand_archive(tmp_path / "a.tar", [blob], [diff_id])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(UnsafeLayer) as err:
        layer_sizes(img)
    assert re.fullmatch(BOMB, str(err.value))


def test_gzip_bomb_guard_with_a_lower_ratio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compression, "BOMB_FLOOR", 1 << 20)
    monkeypatch.setattr(compression, "BOMB_RATIO", 100)
    blob, diff_id = zeros_layer("gzip")
    path = hand_archive(tmp_path / "a.tar", [blob], [diff_id])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(UnsafeLayer) as err:
        layer_sizes(img)
    assert re.fullmatch(BOMB, str(err.value))


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_dense_layer_below_the_floor_is_fine(tmp_path: Path, kind: static.Compression) -> None:
    blob, diff_id = zeros_layer(kind)
    path = hand_archive(tmp_path / "a.tar", [blob], [diff_id])
    assert layer_sizes(archive.read(path)) == (4 << 20,)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_truncated_compressed_layer(tmp_path: Path, kind: static.Compression) -> None:
    raw = static.tar_bytes([static.File("r", random.Random(7).randbytes(200_000))])
    blob = static.compress(raw, kind)
    path = hand_archive(tmp_path / "a.tar", [blob[: len(blob) // 2]], [sha256_bytes(raw)])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        layer_sizes(img)
    assert type(err.value) is CorruptImage
    assert str(err.value) == f"layer {sha256_bytes(raw)[:19]}: truncated compressed stream"


def test_truncated_gzip_layer_with_a_known_blob_digest(tmp_path: Path) -> None:
    """In a layout the blob descriptor gives size and digest: the cut is seen there first."""
    root = tmp_path / "lay"
    img = static.image(
        [
            static.Step(
                "RUN", static.layer([static.File("r", random.Random(8).randbytes(50_000))], "gzip")
            )
        ]
    )
    layout.write([img], root)
    blob = root / "blobs" / "sha256" / img.layers[0].blob.digest.removeprefix("sha256:")
    data = blob.read_bytes()
    blob.write_bytes(data[: len(data) // 2])
    back = layout.read(root)
    with untouched(tmp_path), pytest.raises(DigestMismatch) as err:
        layer_sizes(back)
    assert str(err.value) == (
        f"layer {img.layers[0].blob.digest[:19]}: truncated: {len(data) // 2} bytes, "
        f"its descriptor declares {len(data)}"
    )


def test_corrupt_gzip_layer(tmp_path: Path) -> None:
    raw = static.tar_bytes([static.File("r", random.Random(9).randbytes(100_000))])
    blob = bytearray(gzip.compress(raw, mtime=0))
    blob[len(blob) // 2 : len(blob) // 2 + 64] = bytes(64)
    path = hand_archive(tmp_path / "a.tar", [bytes(blob)], [sha256_bytes(raw)])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        layer_sizes(img)
    assert re.fullmatch(
        rf"layer {sha256_bytes(raw)[:19]}: corrupt compressed stream \(CRC check failed .+\)",
        str(err.value),
    )


def test_compressed_layer_that_is_not_a_tar(tmp_path: Path) -> None:
    raw = b"just some text, not a tar\n" * 100
    path = hand_archive(tmp_path / "a.tar", [gzip.compress(raw, mtime=0)], [sha256_bytes(raw)])
    img = archive.read(path)
    with untouched(tmp_path), pytest.raises(CorruptImage) as err:
        layer_sizes(img)
    assert type(err.value) is CorruptImage
    assert re.fullmatch(
        rf"layer {sha256_bytes(raw)[:19]}: not a valid tar stream \(.+\)", str(err.value)
    )
