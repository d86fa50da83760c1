"""``dir:``: skopeo's directory transport (a manifest.json, a version file, blobs by hex)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deadweight import mediatypes, static
from deadweight.analysis.sizes import layer_sizes
from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage, DigestMismatch, NotFound, UsageError
from deadweight.image import Image
from deadweight.platform import Platform
from deadweight.sources import (
    Location,
    directory,
    list_images,
    locate,
    open_image,
    write_image,
)
from deadweight.validation import validate


def image(*sizes: int, arch: str = "amd64", kind: static.Compression = "gzip") -> Image:
    steps = [
        static.Step(f"RUN {n}", static.layer([static.File(f"f{n}", b"x" * n)], kind)) for n in sizes
    ]
    return static.image(steps, architecture=arch)


class SkopeoDir:
    """A directory laid out as ``skopeo copy ... dir:DIR`` (and ``--all``) writes it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        (root / "version").write_bytes(b"Directory Transport Version: 1.1\n")

    def blob(self, data: bytes, media_type: str, name: str = "") -> dict[str, object]:
        digest = sha256_bytes(data)
        (self.root / (name or digest[7:])).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def manifest(self, img: Image, *, instance: bool = False) -> dict[str, object]:
        config = self.blob(img.raw_config, mediatypes.DOCKER_CONFIG)
        layers = []
        for layer in img.layers:
            with layer.open_blob() as f:
                layers.append(self.blob(f.read(), mediatypes.DOCKER_LAYER_GZIP))
        doc = {"schemaVersion": 2, "mediaType": mediatypes.DOCKER_MANIFEST}
        raw = json.dumps({**doc, "config": config, "layers": layers}).encode()
        name = f"{sha256_bytes(raw)[7:]}.manifest.json" if instance else "manifest.json"
        return self.blob(raw, mediatypes.DOCKER_MANIFEST, name)


def test_read_a_skopeo_directory(tmp_path: Path) -> None:
    img = image(10, 20)
    SkopeoDir(tmp_path / "d").manifest(img)
    for spec in (f"dir:{tmp_path / 'd'}", str(tmp_path / "d")):  # a bare one by its version
        back = open_image(spec)
        validate(back)
        assert (back.id, back.repo_tags, back.source) == (img.id, (), f"dir:{tmp_path / 'd'}")
        assert layer_sizes(back) == (10, 20)
        assert back.manifest_media_type == mediatypes.DOCKER_MANIFEST
    assert [i.id for i in list_images(f"dir:{tmp_path / 'd'}")] == [img.id]


def test_a_multi_platform_copy_picks_the_platform(tmp_path: Path) -> None:
    amd, arm = image(1), image(2, arch="arm64")
    d = SkopeoDir(tmp_path / "all")
    entries = [
        {**d.manifest(amd, instance=True), "platform": {"os": "linux", "architecture": "amd64"}},
        {**d.manifest(arm, instance=True), "platform": {"os": "linux", "architecture": "arm64"}},
    ]
    index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": entries}
    d.blob(json.dumps(index).encode(), mediatypes.OCI_INDEX, "manifest.json")
    for platform, want in (("linux/amd64", amd), ("linux/arm64", arm)):
        back = directory.read(tmp_path / "all", platform=Platform.parse(platform))
        validate(back)
        assert back.id == want.id
        assert back.raw_index is not None


def test_write_then_read_back(tmp_path: Path) -> None:
    img = image(5, 7, kind="zstd")
    where = locate(f"dir:{tmp_path / 'out'}", destination=True)
    write_image(img, where)
    assert (tmp_path / "out" / "version").read_bytes() == b"Directory Transport Version: 1.1\n"
    back = open_image(f"dir:{tmp_path / 'out'}")
    validate(back)
    assert back.id == img.id
    assert [x.diff_id for x in back.layers] == [x.diff_id for x in img.layers]


def test_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such directory"):
        open_image(f"dir:{tmp_path / 'missing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorruptImage, match=r"no manifest\.json"):
        open_image(f"dir:{tmp_path / 'empty'}")
    img = image(3)
    SkopeoDir(tmp_path / "d").manifest(img)
    config = tmp_path / "d" / img.id[7:]  # the config blob, named by its digest
    config.write_bytes(config.read_bytes().replace(b"amd64", b"arm64"))
    with pytest.raises(DigestMismatch):
        open_image(f"dir:{tmp_path / 'd'}")
    with pytest.raises(UsageError, match="takes no tag"):
        write_image(img, Location("dir", str(tmp_path / "x"), "v1"))


def test_an_unpacked_docker_archive_is_not_a_skopeo_directory(tmp_path: Path) -> None:
    SkopeoDir(tmp_path / "d").manifest(image(3))
    (tmp_path / "d" / "version").unlink()
    assert locate(str(tmp_path / "d")).transport == "docker-archive"
