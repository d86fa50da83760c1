"""Check every invariant an image must keep: the oracle that tests end with.

In the spirit of go-containerregistry's ``validate.Image``, computed independently of the
readers under test: the config's digest is the image ID; the manifest (when the medium has
one) names that config by digest, size and a config media type, and lists exactly the
image's layers with layer media types; every layer blob hashes to its digest and size,
decompresses as its media type says, and its tar hashes to the config's diff_id; the
history's non-empty rows match the layer count. Problems are collected, not raised one by
one, so a test failure shows all of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from deadweight import compression, mediatypes
from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage, DeadweightError
from deadweight.image import Image, Layer
from deadweight.spec.manifest import Manifest, parse
from deadweight.streams import CHUNK, ByteStream

_COMPRESSION = {
    mediatypes.OCI_LAYER_GZIP: "gzip",
    mediatypes.OCI_LAYER_ND_GZIP: "gzip",
    mediatypes.DOCKER_LAYER_GZIP: "gzip",
    mediatypes.DOCKER_FOREIGN_LAYER: "gzip",
    mediatypes.OCI_LAYER_ZSTD: "zstd",
    mediatypes.OCI_LAYER_ND_ZSTD: "zstd",
    mediatypes.DOCKER_LAYER_ZSTD: "zstd",
    mediatypes.OCI_LAYER: "none",
    mediatypes.OCI_LAYER_ND: "none",
    mediatypes.DOCKER_LAYER: "none",
}


@dataclass(frozen=True, slots=True)
class Validation:
    """What :func:`validate` found: every broken invariant, in the order checked."""

    problems: tuple[str, ...]
    layers_read: int

    @property
    def ok(self) -> bool:
        return not self.problems

    def check(self) -> None:
        """Raise :class:`CorruptImage` naming every problem, if there is any."""
        if self.problems:
            raise CorruptImage("invalid image: " + "; ".join(self.problems))


def validate(image: Image, *, layers: bool = True) -> Validation:
    """Check ``image``'s invariants; with ``layers``, read every layer blob to its end."""
    problems = [*_config_problems(image), *_manifest_problems(image)]
    read = 0
    if layers:
        for index, layer in enumerate(image.layers):
            problems.extend(_layer_problems(index, layer))
            read += 1
    return Validation(tuple(problems), read)


def _config_problems(image: Image) -> Iterator[str]:
    digest = sha256_bytes(image.raw_config)
    if image.id != digest:
        yield f"image ID {image.id} is not the config's digest {digest}"
    diff_ids = image.config.diff_ids
    if len(diff_ids) != len(image.layers):
        yield f"the config lists {len(diff_ids)} diff_ids for {len(image.layers)} layers"
    for index, (diff_id, layer) in enumerate(zip(diff_ids, image.layers, strict=False)):
        if layer.diff_id != diff_id:
            yield f"layer {index}: diff_id {layer.diff_id} is not the config's {diff_id}"
    history = image.config.history
    if history:
        filled = sum(1 for row in history if not row.empty_layer)
        if filled != len(image.layers):
            yield f"the history has {filled} non-empty rows for {len(image.layers)} layers"


def _manifest_problems(image: Image) -> Iterator[str]:
    if image.raw_manifest is None:
        return
    try:
        manifest = parse(image.raw_manifest, "manifest", image.manifest_media_type)
    except DeadweightError as exc:
        yield f"manifest: {exc}"
        return
    if not isinstance(manifest, Manifest):
        yield "manifest: an index where an image manifest belongs"
        return
    if image.manifest_media_type and manifest.media_type != image.manifest_media_type:
        yield (
            f"manifest: media type {manifest.media_type} is not the medium's "
            f"{image.manifest_media_type}"
        )
    config = manifest.config
    if config.digest != image.id:
        yield f"manifest: config digest {config.digest} is not the image ID {image.id}"
    if config.size != len(image.raw_config):
        yield f"manifest: config size {config.size} is not {len(image.raw_config)}"
    if config.media_type not in mediatypes.CONFIGS:
        yield f"manifest: config media type {config.media_type!r} is not a config's"
    if len(manifest.layers) != len(image.layers):
        yield f"manifest: {len(manifest.layers)} layers for {len(image.layers)} in the image"
    for index, (desc, layer) in enumerate(zip(manifest.layers, image.layers, strict=False)):
        if not mediatypes.is_layer(desc.media_type):
            yield f"manifest: layer {index} media type {desc.media_type!r} is not a layer's"
        blob = layer.blob
        if (desc.digest, desc.size) != (blob.digest, blob.size):
            yield (
                f"manifest: layer {index} is {desc.digest} ({desc.size} B) but the image "
                f"reads {blob.digest} ({blob.size} B)"
            )


def _drain(stream: ByteStream, head: bytes = b"") -> tuple[str, int]:
    """The sha256 and length of ``head`` and then everything ``stream`` holds."""
    digest = hashlib.sha256(head)
    total = len(head)
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        total += len(chunk)
    return "sha256:" + digest.hexdigest(), total


def _layer_problems(index: int, layer: Layer) -> list[str]:
    what = f"layer {index}"
    problems: list[str] = []
    try:
        with layer.opener() as raw:
            head = raw.read(4)
            blob_digest, blob_size = _drain(raw, head)
        if layer.blob.digest and blob_digest != layer.blob.digest:
            problems.append(f"{what}: blob hashes to {blob_digest}, not {layer.blob.digest}")
        if layer.blob.digest and blob_size != layer.blob.size:
            problems.append(f"{what}: blob holds {blob_size} B, not {layer.blob.size}")
        expected = _COMPRESSION.get(layer.blob.media_type)
        found = compression.sniff(head)
        if expected is not None and found != expected:
            problems.append(
                f"{what}: media type {layer.blob.media_type} says {expected}, the blob is {found}"
            )
        with compression.layer_stream(layer.opener(), verify=False) as tar:
            diff_id, _ = _drain(tar)
        if diff_id != layer.diff_id:
            problems.append(f"{what}: the tar hashes to {diff_id}, not {layer.diff_id}")
    except (DeadweightError, OSError, EOFError) as exc:
        problems.append(f"{what}: unreadable: {exc}")
    return problems
