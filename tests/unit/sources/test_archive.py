"""``docker-archive:``: every layout docker and podman write (docker-formats.md §8)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deadweight import mediatypes, static
from deadweight.analysis.sizes import layer_sizes
from deadweight.digest import sha256_bytes
from deadweight.errors import NotFound
from deadweight.history import MISSING, history_rows
from deadweight.image import Image, Layer
from deadweight.sources import archive, layout, locate, open_image
from deadweight.validation import validate

try:
    from backports import zstd as _zstd
except ImportError:  # pragma: no cover - Python 3.14
    from compression import zstd as _zstd  # type: ignore[import-not-found,no-redef]


@dataclass(frozen=True)
class M:
    """One member of a hand-made tar: a file, or a symlink when ``link`` is set."""

    name: str
    data: bytes = b""
    link: str | None = None
    mode: int = 0o644


def write_tar(path: Path, members: list[M]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.mode = m.mode
            if m.link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, m.link
                tar.addfile(info)
            else:
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
    path.write_bytes(buf.getvalue())
    return path


def hexdigest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_of(layer: Layer) -> bytes:
    with layer.open() as f:
        return f.read()


def entries(n: int) -> list[static.Entry]:
    """A layer with an n-byte file (size n) and a 4-byte symlink target (size 4)."""
    return [static.File(f"f{n}", b"z" * n), static.Symlink(f"s{n}", "f/xx")]


def simple_image(tag_sizes: tuple[int, ...] = (10, 20), **fields: Any) -> Image:
    steps = [static.Step(f"RUN make {n}", static.layer(entries(n))) for n in tag_sizes]
    return static.image([*steps, static.Step("CMD x")], **fields)


def classic_entry(
    img: Image,
    tags: list[str] | None,
    *,
    parent: str | None = None,
    compress: static.Compression = "none",
    shared: dict[str, str] | None = None,
) -> tuple[dict[str, Any], list[M]]:
    """manifest.json entry and members of one image as docker ≤ 24 saves it.

    Layer directories are named by the diff_id hex (a stand-in for v1 IDs); a diff_id seen
    before in ``shared`` becomes a symlink to the earlier layer.tar, as docker dedups.
    """
    config_name = hexdigest(img.raw_config) + ".json"
    members = [M(config_name, img.raw_config)]
    layer_members = []
    for i, layer in enumerate(img.layers):
        own = f"{hexdigest(img.raw_config)[:16]}{i:02d}/layer.tar"
        if shared is not None and layer.diff_id in shared:
            members.append(M(own, link=f"../{shared[layer.diff_id]}"))
        else:
            members.append(M(own, static.compress(tar_of(layer), compress)))
            if shared is not None:
                shared[layer.diff_id] = own
        members.append(M(own.replace("layer.tar", "VERSION"), b"1.0"))
        layer_members.append(own)
    entry: dict[str, Any] = {"Config": config_name, "RepoTags": tags, "Layers": layer_members}
    if parent is not None:
        entry["Parent"] = parent
    return entry, members


def classic_archive(path: Path, parts: list[tuple[dict[str, Any], list[M]]]) -> Path:
    members = [m for _, ms in parts for m in ms]
    manifest = json.dumps([e for e, _ in parts]).encode() + b"\n"
    return write_tar(path, [*sorted(members, key=lambda m: m.name), M("manifest.json", manifest)])


# --- classic layout, written by archive.write -------------------------------------------


def test_round_trip_keeps_id_tags_diff_ids_and_sizes(tmp_path: Path) -> None:
    img = simple_image(repo_tags=("app:v1", "docker.io/library/app:latest"))
    path = tmp_path / "app.tar"
    archive.write([img], path)
    back = archive.read(path)
    assert back.id == img.id == sha256_bytes(back.raw_config)
    assert back.raw_config == img.raw_config
    assert back.repo_tags == ("app:v1", "app:latest")
    assert back.config.diff_ids == img.config.diff_ids
    assert [layer.diff_id for layer in back.layers] == list(img.config.diff_ids)
    assert layer_sizes(back) == (14, 24)
    assert back.ancestors == ()
    assert back.source == f"docker-archive:{path}"
    for layer, original in zip(back.layers, img.layers, strict=True):
        assert layer.blob.media_type == mediatypes.DOCKER_LAYER
        assert layer.blob.digest == layer.diff_id
        assert sha256_bytes(tar_of(layer)) == original.diff_id
    validate(back).check()


def test_written_archive_has_the_classic_members(tmp_path: Path) -> None:
    img = simple_image(repo_tags=("app:v1",))
    path = tmp_path / "app.tar"
    archive.write([img], path)
    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        repositories = json.loads(tar.extractfile("repositories").read())  # type: ignore[union-attr]
    config = img.id.removeprefix("sha256:") + ".json"
    layers = [d.removeprefix("sha256:") + "/layer.tar" for d in img.config.diff_ids]
    assert sorted(names) == sorted([config, *layers, "manifest.json", "repositories"])
    assert manifest == [{"Config": config, "RepoTags": ["app:v1"], "Layers": layers}]
    assert repositories == {"app": {"v1": img.config.diff_ids[-1].removeprefix("sha256:")}}


def test_untagged_image_round_trip(tmp_path: Path) -> None:
    img = simple_image()
    path = tmp_path / "x.tar"
    archive.write([img], path)
    back = archive.read(path)
    assert back.repo_tags == ()
    assert back.id == img.id
    validate(back).check()


def test_round_trip_of_an_image_without_layers(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar"
    archive.write([static.EMPTY], path)
    back = archive.read(path)
    assert back.id == static.EMPTY.id
    assert back.layers == ()
    assert layer_sizes(back) == ()
    validate(back).check()


def test_an_unpacked_archive_directory_reads_the_same(tmp_path: Path) -> None:
    img = simple_image(repo_tags=("app:v1",))
    archive.write([img], tmp_path / "app.tar")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(tmp_path / "app.tar") as tar:
        tar.extractall(unpacked, filter="data")
    back = archive.read(unpacked)
    assert (back.id, back.repo_tags) == (img.id, ("app:v1",))
    assert layer_sizes(back) == (14, 24)


# --- several images, choosing one -------------------------------------------------------


def two_images(tmp_path: Path) -> tuple[Path, Image, Image]:
    a = simple_image((1, 2), repo_tags=("alpha:1",))
    b = simple_image((3,), repo_tags=("beta:2", "beta:latest"))
    path = tmp_path / "two.tar"
    archive.write([a, b], path)
    return path, a, b


def test_images_lists_all_in_manifest_order(tmp_path: Path) -> None:
    path, a, b = two_images(tmp_path)
    found = archive.images(path)
    assert [(i.id, i.repo_tags) for i in found] == [
        (a.id, ("alpha:1",)),
        (b.id, ("beta:2", "beta:latest")),
    ]
    assert [layer_sizes(i) for i in found] == [(5, 6), (7,)]


@pytest.mark.parametrize(
    ("ref", "which"),
    [("alpha:1", 0), ("beta:2", 1), ("beta", 1), ("docker.io/library/beta:latest", 1)],
)
def test_read_by_tag(tmp_path: Path, ref: str, which: int) -> None:
    path, a, b = two_images(tmp_path)
    assert archive.read(path, ref).id == (a, b)[which].id


def test_read_by_ref_in_the_source_string(tmp_path: Path) -> None:
    path, _, b = two_images(tmp_path)
    loc = locate(f"docker-archive:{path}:beta:2")
    assert (loc.transport, loc.target, loc.ref) == ("docker-archive", str(path), "beta:2")
    assert open_image(f"docker-archive:{path}:beta:2").id == b.id


def test_read_by_id_prefix(tmp_path: Path) -> None:
    path, a, b = two_images(tmp_path)
    for img in (a, b):
        hex_id = img.id.removeprefix("sha256:")
        assert archive.read(path, hex_id[:12]).id == img.id
        assert archive.read(path, img.id).id == img.id
        assert open_image(f"docker-archive:{path}:{hex_id[:12]}").id == img.id


def test_several_images_without_ref_lists_tags(tmp_path: Path) -> None:
    path, _, _ = two_images(tmp_path)
    with pytest.raises(NotFound) as err:
        archive.read(path)
    assert str(err.value) == (
        f"docker-archive:{path}: holds 2 images (alpha:1, beta:2, beta:latest); name one with :REF"
    )


def test_unknown_ref_lists_tags(tmp_path: Path) -> None:
    path, _, _ = two_images(tmp_path)
    with pytest.raises(NotFound) as err:
        archive.read(path, "gamma:3")
    assert str(err.value) == (
        f"docker-archive:{path}: no image 'gamma:3' (it holds alpha:1, beta:2, beta:latest)"
    )


def test_list_images_with_and_without_ref(tmp_path: Path) -> None:
    from deadweight.sources import list_images

    path, a, b = two_images(tmp_path)
    assert [i.id for i in list_images(f"docker-archive:{path}")] == [a.id, b.id]
    assert [i.id for i in list_images(f"docker-archive:{path}:alpha:1")] == [a.id]


# --- parents, dedup, compression --------------------------------------------------------


def chain_of_three() -> tuple[Image, Image, Image]:
    l1 = static.layer(entries(1))
    l2 = static.layer(entries(2))
    s1 = static.Step("ADD base", l1)
    s2 = static.Step("RUN mid", l2)
    s3 = static.Step("CMD top")
    base = static.image([s1])
    mid = static.image([s1, s2])
    top = static.image([s1, s2, s3])
    return base, mid, top


def test_parent_chain_gives_ancestors_and_history_ids(tmp_path: Path) -> None:
    base, mid, top = chain_of_three()
    shared: dict[str, str] = {}
    path = classic_archive(
        tmp_path / "chain.tar",
        [
            classic_entry(top, ["app:top"], parent=mid.id, shared=shared),
            classic_entry(mid, None, parent=base.id, shared=shared),
            classic_entry(base, ["app:base"], shared=shared),
        ],
    )
    found = {i.id: i for i in archive.images(path)}
    assert found[top.id].ancestors == (mid.id, base.id)
    assert found[mid.id].ancestors == (base.id,)
    assert found[base.id].ancestors == ()
    assert found[mid.id].repo_tags == ()
    rows = history_rows(found[top.id], layer_sizes(found[top.id]))
    assert [(r.id, r.created_by, r.size) for r in rows] == [
        (top.id, "CMD top", 0),
        (mid.id, "RUN mid", 6),
        (base.id, "ADD base", 5),
    ]


def test_parent_outside_the_archive_is_ignored(tmp_path: Path) -> None:
    base, mid, _ = chain_of_three()
    path = classic_archive(tmp_path / "p.tar", [classic_entry(mid, ["m:1"], parent=base.id)])
    img = archive.read(path)
    assert img.ancestors == ()
    assert [r.id for r in history_rows(img, layer_sizes(img))] == [mid.id, MISSING]


def test_parent_loop_stops(tmp_path: Path) -> None:
    a = simple_image((1,))
    b = simple_image((2,))
    path = classic_archive(
        tmp_path / "loop.tar",
        [classic_entry(a, ["a:1"], parent=b.id), classic_entry(b, ["b:1"], parent=a.id)],
    )
    found = {i.id: i for i in archive.images(path)}
    assert found[a.id].ancestors == (b.id,)
    assert found[b.id].ancestors == (a.id,)


def test_layer_tar_symlinked_to_another_layer_reads_its_target(tmp_path: Path) -> None:
    base, mid, _ = chain_of_three()
    shared: dict[str, str] = {}
    parts = [
        classic_entry(base, ["b:1"], shared=shared),
        classic_entry(mid, ["m:1"], shared=shared),
    ]
    path = classic_archive(tmp_path / "dedup.tar", parts)
    with tarfile.open(path) as tar:
        links = [m for m in tar.getmembers() if m.issym()]
    assert len(links) == 1 and links[0].linkname.startswith("../")
    img = archive.read(path, "m:1")
    assert layer_sizes(img) == (5, 6)
    assert sha256_bytes(tar_of(img.layers[0])) == base.layers[0].diff_id


@pytest.mark.parametrize(
    ("kind", "media_type"),
    [
        ("gzip", mediatypes.DOCKER_LAYER_GZIP),
        ("zstd", mediatypes.DOCKER_LAYER_ZSTD),
        ("none", mediatypes.DOCKER_LAYER),
    ],
)
def test_compressed_layers(tmp_path: Path, kind: static.Compression, media_type: str) -> None:
    img = simple_image((10, 20), repo_tags=("c:1",))
    path = classic_archive(tmp_path / "c.tar", [classic_entry(img, ["c:1"], compress=kind)])
    back = archive.read(path)
    assert back.id == img.id
    assert [layer.blob.media_type for layer in back.layers] == [media_type] * 2
    assert [layer.blob.digest for layer in back.layers] == (
        [""] * 2 if kind != "none" else list(img.config.diff_ids)
    )
    assert layer_sizes(back) == (14, 24)
    assert [sha256_bytes(tar_of(layer)) for layer in back.layers] == list(img.config.diff_ids)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_compressed_whole_archive(tmp_path: Path, kind: str) -> None:
    img = simple_image(repo_tags=("z:1",))
    plain = tmp_path / "plain.tar"
    archive.write([img], plain)
    packed = tmp_path / f"packed.tar.{kind}"
    data = plain.read_bytes()
    packed.write_bytes(
        gzip.compress(data, mtime=0) if kind == "gzip" else bytes(_zstd.compress(data))
    )
    back = archive.read(packed)
    assert (back.id, back.repo_tags) == (img.id, ("z:1",))
    assert layer_sizes(back) == (14, 24)
    assert locate(str(packed)).transport == "docker-archive"


def test_invalid_utf8_config_keeps_raw_id(tmp_path: Path) -> None:
    layer = static.layer(entries(3))
    raw = (
        b'{"architecture":"amd64","os":"linux","created":"2026-11-27T03:58:52Z",'
        b'"history":[{"created_by":"RUN echo \xff"}],'
        b'"rootfs":{"type":"layers","diff_ids":["' + layer.diff_id.encode() + b'"]}}'
    )
    name = hexdigest(raw) + ".json"
    manifest = json.dumps([{"Config": name, "RepoTags": ["u:1"], "Layers": ["l/layer.tar"]}])
    path = write_tar(
        tmp_path / "u.tar",
        [M(name, raw), M("l/layer.tar", tar_of(layer)), M("manifest.json", manifest.encode())],
    )
    img = archive.read(path)
    assert img.id == "sha256:" + hexdigest(raw)
    assert [r.created_by for r in history_rows(img, layer_sizes(img))] == ["RUN echo \ufffd"]


# --- Docker 25+ and podman layouts ------------------------------------------------------


def docker25_archive(path: Path, img: Image, tag: str) -> tuple[Path, bytes]:
    cfg_hex = hexdigest(img.raw_config)
    members = [M(f"blobs/sha256/{cfg_hex}", img.raw_config)]
    layer_descs = []
    for layer in img.layers:
        data = tar_of(layer)
        members.append(M(f"blobs/sha256/{hexdigest(data)}", data))
        layer_descs.append(
            {"mediaType": mediatypes.OCI_LAYER, "digest": layer.diff_id, "size": len(data)}
        )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {
                "mediaType": mediatypes.OCI_CONFIG,
                "digest": img.id,
                "size": len(img.raw_config),
            },
            "layers": layer_descs,
        }
    ).encode()
    members.append(M(f"blobs/sha256/{hexdigest(manifest)}", manifest))
    name, _, short = tag.rpartition(":")
    index = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": [
            {
                "mediaType": mediatypes.OCI_MANIFEST,
                "digest": sha256_bytes(manifest),
                "size": len(manifest),
                "annotations": {
                    "io.containerd.image.name": f"docker.io/library/{tag}",
                    "org.opencontainers.image.ref.name": short,
                },
            }
        ],
    }
    compat = [
        {
            "Config": f"blobs/sha256/{cfg_hex}",
            "RepoTags": [tag],
            "Layers": [f"blobs/sha256/{d.removeprefix('sha256:')}" for d in img.config.diff_ids],
        }
    ]
    members += [
        M("index.json", json.dumps(index).encode()),
        M("manifest.json", json.dumps(compat).encode() + b"\n"),
        M("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
        M("repositories", json.dumps({name: {short: "0" * 64}}).encode() + b"\n"),
    ]
    return write_tar(path, members), manifest


def test_docker25_layout_reads_as_docker_archive(tmp_path: Path) -> None:
    img = simple_image()
    path, _ = docker25_archive(tmp_path / "d25.tar", img, "web:1.0")
    assert locate(str(path)).transport == "docker-archive"
    back = open_image(str(path))
    assert (back.id, back.repo_tags) == (img.id, ("web:1.0",))
    assert [layer.diff_id for layer in back.layers] == list(img.config.diff_ids)
    assert layer_sizes(back) == (14, 24)


def test_docker25_layout_also_reads_as_oci_archive(tmp_path: Path) -> None:
    img = simple_image()
    path, manifest = docker25_archive(tmp_path / "d25.tar", img, "web:1.0")
    back = layout.read(path, "1.0", transport="oci-archive")
    assert back.id == img.id
    assert back.repo_tags == ("web:1.0",)
    assert back.digest == sha256_bytes(manifest)
    assert layer_sizes(back) == (14, 24)


def test_podman_docker_archive(tmp_path: Path) -> None:
    img = simple_image((10, 20))
    cfg_hex = hexdigest(img.raw_config)
    members = [M(f"{cfg_hex}.json", img.raw_config, mode=0o444)]
    layer_files = []
    for i, layer in enumerate(img.layers):
        top = f"{layer.diff_id.removeprefix('sha256:')}.tar"
        members.append(M(top, tar_of(layer), mode=0o444))
        members.append(M(f"v1id{i}/layer.tar", link=f"../{top}", mode=0o444))
        layer_files.append(top)
    manifest = json.dumps(
        [{"Config": f"{cfg_hex}.json", "RepoTags": ["localhost/pod:1"], "Layers": layer_files}],
        separators=(",", ":"),
    ).encode()
    assert not manifest.endswith(b"\n")
    path = write_tar(tmp_path / "podman.tar", [*members, M("manifest.json", manifest, mode=0o444)])
    back = archive.read(path, "localhost/pod:1")
    assert (back.id, back.repo_tags) == (img.id, ("localhost/pod:1",))
    assert layer_sizes(back) == (14, 24)


def test_member_names_with_dot_slash_prefix(tmp_path: Path) -> None:
    img = simple_image((5,))
    entry, members = classic_entry(img, ["dot:1"])
    path = write_tar(
        tmp_path / "dot.tar",
        [
            *[M("./" + m.name, m.data, m.link) for m in members],
            M("./manifest.json", json.dumps([entry]).encode()),
        ],
    )
    back = archive.read(path)
    assert (back.id, layer_sizes(back)) == (img.id, (9,))
