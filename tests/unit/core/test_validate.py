"""deadweight.validate: the oracle finds each broken invariant and passes valid images."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from deadweight import mediatypes, static
from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage
from deadweight.image import Image, Layer, assemble
from deadweight.validation import validate


def _image(compression: static.Compression = "gzip") -> Image:
    return static.image(
        [
            static.Step(
                "ADD rootfs /", static.layer([static.File("etc/os", b"x" * 100)], compression)
            ),
            static.Step("ENV A=1"),
            static.Step("RUN y", static.layer([static.File("app/y", b"y" * 10)], compression)),
        ]
    )


def _manifest(image: Image, **changes: object) -> bytes:
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": image.id,
            "size": len(image.raw_config),
        },
        "layers": [
            {"mediaType": la.blob.media_type, "digest": la.blob.digest, "size": la.blob.size}
            for la in image.layers
        ],
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def _with_manifest(image: Image, raw: bytes) -> Image:
    return dataclasses.replace(image, raw_manifest=raw, manifest_media_type=mediatypes.OCI_MANIFEST)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_a_valid_image_passes_and_every_layer_is_read(compression: static.Compression) -> None:
    image = _with_manifest(_image(compression), b"")
    image = _with_manifest(image, _manifest(image))
    result = validate(image)
    assert result.problems == ()
    assert result.ok
    assert result.layers_read == 2
    result.check()


def test_without_layers_nothing_is_read() -> None:
    assert validate(_image(), layers=False).layers_read == 0


def test_an_id_that_is_not_the_config_digest() -> None:
    image = dataclasses.replace(_image(), id="sha256:" + "0" * 64)
    result = validate(image, layers=False)
    assert any("is not the config's digest" in p for p in result.problems)
    with pytest.raises(CorruptImage, match="invalid image"):
        result.check()


def test_a_blob_whose_bytes_are_not_its_digest() -> None:
    image = _image("gzip")
    good = image.layers[1]
    data = good.opener().read()
    flipped = data[:-9] + bytes([data[-9] ^ 1]) + data[-8:]
    bad = dataclasses.replace(good, opener=lambda: io.BytesIO(flipped))
    image = dataclasses.replace(image, layers=(image.layers[0], bad))
    problems = validate(image).problems
    assert any(p.startswith("layer 1: blob hashes to") for p in problems), problems


def test_a_media_type_that_lies_about_compression() -> None:
    image = _image("gzip")
    layer = image.layers[0]
    lying = dataclasses.replace(
        layer, blob=dataclasses.replace(layer.blob, media_type=mediatypes.OCI_LAYER_ZSTD)
    )
    image = dataclasses.replace(image, layers=(lying, image.layers[1]))
    problems = validate(image).problems
    assert any("says zstd, the blob is gzip" in p for p in problems), problems


def test_a_tar_that_is_not_its_diff_id() -> None:
    image = _image("none")
    other = static.layer([static.File("etc/os", b"z" * 100)], "none")
    swapped = Layer(
        diff_id=image.layers[0].diff_id, blob=other.blob, opener=other.opener, seekable=True
    )
    image = dataclasses.replace(image, layers=(swapped, image.layers[1]))
    problems = validate(image).problems
    assert any(p.startswith("layer 0: the tar hashes to") for p in problems), problems


def test_history_rows_that_do_not_match_the_layers() -> None:
    image = _image()
    doc = json.loads(image.raw_config)
    doc["history"].append({"created_by": "RUN lost"})
    raw = json.dumps(doc).encode()
    broken = assemble(raw, list(image.layers))
    problems = validate(broken, layers=False).problems
    assert problems == ("the history has 3 non-empty rows for 2 layers",)


def test_manifest_problems_are_each_named() -> None:
    image = _image()
    wrong_config = {"mediaType": "text/plain", "digest": sha256_bytes(b"x"), "size": 1}
    raw = _manifest(image, config=wrong_config, layers=[])
    problems = validate(_with_manifest(image, raw), layers=False).problems
    assert any("config digest" in p for p in problems)
    assert any("config size 1" in p for p in problems)
    assert any("config media type 'text/plain'" in p for p in problems)
    assert any("0 layers for 2" in p for p in problems)


def test_a_manifest_layer_that_is_not_the_image_layer() -> None:
    image = _image()
    layers = [
        {"mediaType": "application/json", "digest": sha256_bytes(b"a"), "size": 1},
        {
            "mediaType": image.layers[1].blob.media_type,
            "digest": image.layers[1].blob.digest,
            "size": image.layers[1].blob.size,
        },
    ]
    problems = validate(_with_manifest(image, _manifest(image, layers=layers)), layers=False)
    assert any("layer 0 media type 'application/json'" in p for p in problems.problems)
    assert any(p.startswith("manifest: layer 0 is sha256:") for p in problems.problems)


def test_an_unreadable_layer_is_a_problem_not_a_crash() -> None:
    image = _image()

    def broken() -> io.BytesIO:
        raise OSError("gone")

    layer = dataclasses.replace(image.layers[0], opener=broken)
    image = dataclasses.replace(image, layers=(layer, image.layers[1]))
    problems = validate(image).problems
    assert problems == ("layer 0: unreadable: gone",)
