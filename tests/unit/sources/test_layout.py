"""``oci:`` and ``oci-archive:``: OCI image layouts (docker-formats.md §8.4)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from deadweight import mediatypes, static
from deadweight.analysis.sizes import layer_sizes
from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage, NotFound
from deadweight.image import Image
from deadweight.platform import Platform
from deadweight.sources import archive, layout, list_images, locate, open_image
from deadweight.spec.manifest import REF_NAME
from deadweight.validation import validate


class Layout:
    """A hand-made OCI layout directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True)

    def blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        digest = sha256_bytes(data)
        (self.root / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def manifest(
        self,
        img: Image,
        *,
        layer_media: str | None = None,
        manifest_media: str = mediatypes.OCI_MANIFEST,
        **extra: Any,
    ) -> dict[str, Any]:
        config = self.blob(img.raw_config, mediatypes.OCI_CONFIG)
        layers = []
        for layer in img.layers:
            with layer.open_blob() as f:
                layers.append(self.blob(f.read(), layer_media or layer.blob.media_type))
        doc = {"schemaVersion": 2, "mediaType": manifest_media, "config": config, "layers": layers}
        return self.blob(json.dumps(doc).encode(), manifest_media, **extra)

    def index(self, manifests: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        doc = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": manifests}
        return self.blob(json.dumps(doc).encode(), mediatypes.OCI_INDEX, **extra)

    def finish(self, manifests: list[dict[str, Any]]) -> Path:
        doc = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": manifests}
        (self.root / "index.json").write_text(json.dumps(doc))
        (self.root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        return self.root


def image(sizes: tuple[int, ...] = (10, 20), kind: static.Compression = "none", **f: Any) -> Image:
    steps = [
        static.Step(f"RUN {n}", static.layer([static.File(f"f{n}", b"q" * n)], kind)) for n in sizes
    ]
    return static.image(steps, **f)


def tag(name: str) -> dict[str, Any]:
    return {"annotations": {REF_NAME: name}}


def tar_dir(src: Path, dest: Path, arcname: str) -> Path:
    with tarfile.open(dest, "w") as tar:
        tar.add(src, arcname=arcname)
    return dest


# --- directories and archives -----------------------------------------------------------


def test_write_then_read_directory(tmp_path: Path) -> None:
    img = image(kind="gzip", repo_tags=("app:v1",))
    root = tmp_path / "app"
    layout.write([img], root)
    back = layout.read(root)
    assert back.id == img.id
    assert back.raw_config == img.raw_config
    assert back.repo_tags == ("app:v1",)
    assert back.manifest_media_type == mediatypes.OCI_MANIFEST
    assert back.raw_manifest is not None
    assert back.digest == sha256_bytes(back.raw_manifest)
    assert back.repo_digests == (f"app@{back.digest}",)
    assert back.raw_index is None
    assert [layer.diff_id for layer in back.layers] == list(img.config.diff_ids)
    assert [layer.blob for layer in back.layers] == [layer.blob for layer in img.layers]
    assert layer_sizes(back) == (10, 20)
    assert back.source == f"oci:{root}"
    validate(back).check()


def test_written_layout_files(tmp_path: Path) -> None:
    img = image(repo_tags=("app:v1",))
    root = tmp_path / "app"
    layout.write([img], root)
    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((root / "index.json").read_text())
    (entry,) = index["manifests"]
    assert entry["annotations"] == {REF_NAME: "v1"}
    blobs = {p.name for p in (root / "blobs" / "sha256").iterdir()}
    expected = {d.removeprefix("sha256:") for d in (img.id, entry["digest"], *img.config.diff_ids)}
    assert blobs == expected
    assert [p.name for p in tmp_path.iterdir()] == ["app"]  # no temp dir left behind


@pytest.mark.parametrize("arcname", [".", ""])
def test_oci_archive(tmp_path: Path, arcname: str) -> None:
    img = image(kind="zstd", repo_tags=("app:v1",))
    layout.write([img], tmp_path / "app")
    path = tar_dir(tmp_path / "app", tmp_path / "img.oci.tar", arcname)
    assert locate(str(path)).transport == "oci-archive"
    back = open_image(str(path))
    assert back.id == img.id
    assert back.repo_tags == ("img:v1",)  # named after the archive file
    assert back.source == f"oci-archive:{path}"
    assert layer_sizes(back) == (10, 20)
    assert open_image(f"oci-archive:{path}:v1").id == img.id


def test_bare_directory_is_an_oci_layout(tmp_path: Path) -> None:
    img = image()
    layout.write([img], tmp_path / "lay")
    assert locate(str(tmp_path / "lay")).transport == "oci"
    assert open_image(str(tmp_path / "lay")).id == img.id


# --- choosing an image ------------------------------------------------------------------


def two_tagged(tmp_path: Path) -> tuple[Path, Image, Image]:
    a = image((1,), repo_tags=("x:one",))
    b = image((2,), repo_tags=("x:two",))
    root = tmp_path / "two"
    layout.write([a, b], root)
    return root, a, b


def test_select_by_tag(tmp_path: Path) -> None:
    root, a, b = two_tagged(tmp_path)
    assert layout.read(root, "one").id == a.id
    assert layout.read(root, "two").id == b.id
    assert layout.read(root, "two:two").id == b.id  # the name the layout gives it
    assert open_image(f"oci:{root}:one").id == a.id
    assert [i.id for i in list_images(f"oci:{root}")] == [a.id, b.id]
    assert [i.id for i in list_images(f"oci:{root}:two")] == [b.id]


def test_select_by_digest(tmp_path: Path) -> None:
    root, a, b = two_tagged(tmp_path)
    index = json.loads((root / "index.json").read_text())
    digests = [m["digest"] for m in index["manifests"]]
    assert layout.read(root, "@" + digests[1]).id == b.id
    assert layout.read(root, digests[0]).id == a.id


def test_unknown_tag_lists_tags(tmp_path: Path) -> None:
    root, _, _ = two_tagged(tmp_path)
    with pytest.raises(NotFound) as err:
        layout.read(root, "three")
    assert str(err.value) == f"oci:{root}: no image 'three' (tags: one, two)"


def test_unknown_digest(tmp_path: Path) -> None:
    root, _, _ = two_tagged(tmp_path)
    with pytest.raises(NotFound) as err:
        layout.read(root, "@sha256:" + "0" * 64)
    assert str(err.value) == f"oci:{root}: no image '@sha256:{'0' * 64}' (tags: one, two)"


def test_several_images_need_a_tag(tmp_path: Path) -> None:
    root, _, _ = two_tagged(tmp_path)
    with pytest.raises(NotFound) as err:
        layout.read(root)
    assert str(err.value) == f"oci:{root}: holds 2 images (one, two); name one with :TAG"


def test_empty_index_is_corrupt(tmp_path: Path) -> None:
    root = Layout(tmp_path / "empty").finish([])
    with pytest.raises(CorruptImage) as err:
        layout.read(root)
    assert str(err.value) == f"oci:{root}: the layout holds no image"


def test_full_reference_in_ref_name_annotation(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "lay")
    img = image()
    root = lay.finish([lay.manifest(img, annotations={REF_NAME: "ghcr.io/org/app:2.1"})])
    back = layout.read(root)
    assert back.repo_tags == ("ghcr.io/org/app:2.1",)
    assert back.repo_digests == (f"ghcr.io/org/app@{back.digest}",)


def test_untagged_entry_has_no_names(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "lay")
    img = image()
    root = lay.finish([lay.manifest(img)])
    back = layout.read(root)
    assert (back.id, back.repo_tags, back.repo_digests) == (img.id, (), ())


# --- indexes and platforms --------------------------------------------------------------


def test_nested_index(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "nest")
    img = image()
    manifest = lay.manifest(img)
    inner = lay.index([manifest])
    outer = lay.index([inner], **tag("v1"))
    root = lay.finish([outer])
    back = layout.read(root, "v1")
    assert back.id == img.id
    assert back.digest == manifest["digest"]
    assert back.raw_index is not None
    assert sha256_bytes(back.raw_index) == inner["digest"]
    assert back.repo_digests == (f"nest@{inner['digest']}",)
    assert layer_sizes(back) == (10, 20)


def multi_platform(tmp_path: Path) -> tuple[Path, Image, Image]:
    lay = Layout(tmp_path / "multi")
    amd = image((1,), architecture="amd64")
    arm = image((2,), architecture="arm64", variant="v8")
    idx = lay.index(
        [
            lay.manifest(amd, platform={"os": "linux", "architecture": "amd64"}),
            lay.manifest(arm, platform={"os": "linux", "architecture": "arm64", "variant": "v8"}),
            lay.blob(
                b"{}",
                mediatypes.OCI_MANIFEST,
                platform={"os": "unknown", "architecture": "unknown"},
            ),
        ],
        **tag("latest"),
    )
    return lay.finish([idx]), amd, arm


@pytest.mark.parametrize(
    ("platform", "which"),
    [("linux/amd64", 0), ("linux/arm64", 1), ("linux/arm64/v8", 1), ("linux/aarch64", 1)],
)
def test_platform_selection(tmp_path: Path, platform: str, which: int) -> None:
    root, amd, arm = multi_platform(tmp_path)
    back = layout.read(root, platform=Platform.parse(platform))
    assert back.id == (amd, arm)[which].id
    assert back.config.architecture == ("amd64", "arm64")[which]
    assert layer_sizes(back) == ((1,), (2,))[which]


def test_missing_platform_lists_available(tmp_path: Path) -> None:
    root, _, _ = multi_platform(tmp_path)
    with pytest.raises(NotFound) as err:
        layout.read(root, platform=Platform("linux", "s390x"))
    assert str(err.value) == (
        f"{root}: no image for platform linux/s390x (available: linux/amd64, linux/arm64/v8)"
    )


def test_attestation_entries_are_not_candidates(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "att")
    img = image(architecture="riscv64")
    idx = lay.index(
        [
            lay.manifest(img, platform={"os": "linux", "architecture": "riscv64"}),
            lay.blob(
                b"{}",
                mediatypes.OCI_MANIFEST,
                platform={"os": "unknown", "architecture": "unknown"},
            ),
        ]
    )
    root = lay.finish([idx])
    assert layout.read(root).id == img.id  # the only real candidate, whatever the host


# --- media types ------------------------------------------------------------------------


def test_podman_uncompressed_layers_labelled_gzip(tmp_path: Path) -> None:
    """podman save --format oci-dir --uncompressed writes plain tars as ``+gzip``."""
    lay = Layout(tmp_path / "pod")
    img = image()
    root = lay.finish([lay.manifest(img, layer_media=mediatypes.OCI_LAYER_GZIP, **tag("v1"))])
    back = layout.read(root)
    assert [layer.blob.media_type for layer in back.layers] == [mediatypes.OCI_LAYER_GZIP] * 2
    assert [layer.blob.digest for layer in back.layers] == list(img.config.diff_ids)
    assert layer_sizes(back) == (10, 20)
    with back.layers[0].open() as f:
        assert sha256_bytes(f.read()) == img.config.diff_ids[0]


def test_docker_media_types(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "dock")
    img = image(kind="gzip")
    desc = lay.manifest(
        img,
        layer_media=mediatypes.DOCKER_LAYER_GZIP,
        manifest_media=mediatypes.DOCKER_MANIFEST,
    )
    root = lay.finish([desc])
    back = layout.read(root)
    assert back.manifest_media_type == mediatypes.DOCKER_MANIFEST
    assert layer_sizes(back) == (10, 20)


def test_write_converts_docker_layer_media_types_to_oci(tmp_path: Path) -> None:
    img = image()
    archive_path = tmp_path / "a.tar"
    archive.write([img], archive_path)
    from_archive = archive.read(archive_path)
    assert from_archive.layers[0].blob.media_type == mediatypes.DOCKER_LAYER
    layout.write([from_archive], tmp_path / "out")
    manifest = json.loads(layout.read(tmp_path / "out").raw_manifest or b"")
    assert [d["mediaType"] for d in manifest["layers"]] == [mediatypes.OCI_LAYER] * 2
    assert layer_sizes(layout.read(tmp_path / "out")) == layer_sizes(img)


def test_unsupported_layout_version(tmp_path: Path) -> None:
    root = tmp_path / "v2"
    layout.write([image()], root)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "2.0.0"}')
    with pytest.raises(CorruptImage) as err:
        layout.read(root)
    assert str(err.value) == f"{root}: unsupported oci-layout version '2.0.0'"


def test_missing_blob_is_not_found(tmp_path: Path) -> None:
    root = tmp_path / "lay"
    img = image()
    layout.write([img], root)
    (root / "blobs" / "sha256" / img.id.removeprefix("sha256:")).unlink()
    with pytest.raises(NotFound) as err:
        layout.read(root)
    assert str(err.value) == f"{root}: blob {img.id} is missing"
