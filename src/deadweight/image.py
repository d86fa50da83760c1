"""The image model: immutable values with lazy, re-openable layer streams.

An :class:`Image` is what every medium produces: the raw config bytes (whose sha256 is the
image ID), the parsed config, an ordered tuple of :class:`Layer` (bottom first), and what
the medium knows about names. Opening an image reads only its manifest and config; layer
bytes are read when asked for, as a stream, through the layer's zero-argument opener.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from deadweight import compression
from deadweight.digest import VerifyingReader, sha256_bytes
from deadweight.errors import CorruptImage
from deadweight.spec.config import HistoryEntry, ImageConfig, parse_config
from deadweight.spec.manifest import Descriptor
from deadweight.streams import ByteStream

Opener = Callable[[], ByteStream]


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer: its diff_id, the stored blob (maybe compressed), and how to open it.

    ``blob`` describes the bytes as the medium stores them (``digest`` is verified when the
    whole blob is read; it is empty when the medium does not record it, as for compressed
    layers in a ``docker save`` archive, whose content is then verified by its diff_id).
    ``size`` is docker's per-layer size when the medium already knows it (an engine reports
    it); otherwise it is computed from the tar (see ``analysis.sizes``).
    """

    diff_id: str
    blob: Descriptor
    opener: Opener = field(repr=False, compare=False)
    size: int | None = None
    seekable: bool = False  # the opener gives a seekable file (archives, layouts on disk)

    def open_blob(self, verify: bool = True) -> ByteStream:
        """The stored bytes; reading to EOF verifies the blob digest and length."""
        raw = self.opener()
        if not verify or not self.blob.digest:
            return raw
        return VerifyingReader(
            raw, self.blob.digest, self.blob.size, what=f"layer {self.blob.digest[:19]}"
        )

    def open(self, verify: bool = True) -> ByteStream:
        """The uncompressed tar stream of this layer; reading to EOF verifies it."""
        return compression.layer_stream(
            self.opener(),
            blob_digest=self.blob.digest,
            blob_size=self.blob.size,
            diff_id=self.diff_id,
            verify=verify,
        )


@dataclass(frozen=True, slots=True)
class Image:
    """An immutable image as a medium found it."""

    raw_config: bytes = field(repr=False)
    config: ImageConfig = field(repr=False)
    layers: tuple[Layer, ...]
    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    raw_manifest: bytes | None = field(default=None, repr=False)
    manifest_media_type: str = ""
    raw_index: bytes | None = field(default=None, repr=False)
    ancestors: tuple[str, ...] = ()
    source: str = ""

    @property
    def digest(self) -> str | None:
        """The manifest digest, when the medium has a manifest."""
        return sha256_bytes(self.raw_manifest) if self.raw_manifest is not None else None

    @property
    def name(self) -> str:
        """How every command names the image in its output, one rule: its first repo tag
        (what docker shows), else where it was read (``source``, the location as given),
        else its short ID (``sha256:`` and 12 hex digits, as docker shows an untagged
        image)."""
        if self.repo_tags:
            return self.repo_tags[0]
        return self.source or self.id[:19]

    @property
    def history(self) -> tuple[HistoryEntry, ...] | None:
        return self.config.history

    @property
    def created(self) -> int:
        return self.config.created


def assemble(
    raw_config: bytes,
    layers: list[Layer] | tuple[Layer, ...],
    *,
    image_id: str | None = None,
    repo_tags: tuple[str, ...] = (),
    repo_digests: tuple[str, ...] = (),
    raw_manifest: bytes | None = None,
    manifest_media_type: str = "",
    raw_index: bytes | None = None,
    ancestors: tuple[str, ...] = (),
    source: str = "",
) -> Image:
    """Build an :class:`Image` and check that its layers match the config's diff_ids."""
    config = parse_config(raw_config)
    if len(config.diff_ids) != len(layers):
        raise CorruptImage(
            f"{source or 'image'}: the config lists {len(config.diff_ids)} layers "
            f"but the manifest has {len(layers)}"
        )
    fixed = tuple(
        layer if layer.diff_id == diff_id else _with_diff_id(layer, diff_id)
        for layer, diff_id in zip(layers, config.diff_ids, strict=True)
    )
    return Image(
        raw_config=raw_config,
        config=config,
        layers=fixed,
        id=image_id or sha256_bytes(raw_config),
        repo_tags=repo_tags,
        repo_digests=repo_digests,
        raw_manifest=raw_manifest,
        manifest_media_type=manifest_media_type,
        raw_index=raw_index,
        ancestors=ancestors,
        source=source,
    )


def _with_diff_id(layer: Layer, diff_id: str) -> Layer:
    if layer.diff_id:
        raise CorruptImage(
            f"layer {layer.blob.digest}: its diff_id {layer.diff_id} is not the config's {diff_id}"
        )
    return Layer(
        diff_id=diff_id,
        blob=layer.blob,
        opener=layer.opener,
        size=layer.size,
        seekable=layer.seekable,
    )
