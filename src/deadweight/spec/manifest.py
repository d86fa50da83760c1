"""Descriptors, manifests and indexes (OCI image-spec v1.1, Docker schema 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deadweight import mediatypes
from deadweight.digest import check
from deadweight.errors import CorruptImage, UnsupportedMediaType
from deadweight.platform import Platform
from deadweight.spec.document import decode_json

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    urls: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: Any, what: str) -> Descriptor:
        if not isinstance(obj, dict):
            raise CorruptImage(f"{what}: descriptor is not an object")
        digest = obj.get("digest")
        size = obj.get("size")
        if not isinstance(digest, str):
            raise CorruptImage(f"{what}: descriptor without a digest")
        if not isinstance(size, int) or size < 0:
            raise CorruptImage(f"{what}: descriptor {digest} without a valid size")
        plat = obj.get("platform")
        platform = None
        if isinstance(plat, dict):
            platform = Platform(
                str(plat.get("os", "")),
                str(plat.get("architecture", "")),
                str(plat.get("variant", "") or ""),
            )
        ann = obj.get("annotations") or {}
        return cls(
            media_type=str(obj.get("mediaType", "")),
            digest=check(digest),
            size=size,
            annotations={str(k): str(v) for k, v in ann.items()} if isinstance(ann, dict) else {},
            platform=platform,
            urls=tuple(obj.get("urls") or ()),
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True, slots=True)
class Index:
    media_type: str
    manifests: tuple[Descriptor, ...]


def sniff_media_type(doc: Mapping[str, Any]) -> str:
    """The media type a manifest document declares, or the one its shape implies."""
    media_type = doc.get("mediaType")
    if isinstance(media_type, str) and media_type:
        return media_type
    if "manifests" in doc:
        return mediatypes.OCI_INDEX
    if "config" in doc and "layers" in doc:
        return mediatypes.OCI_MANIFEST
    if doc.get("schemaVersion") == 1:
        return mediatypes.DOCKER_MANIFEST_V1
    return ""


def parse(raw: bytes, what: str = "manifest", media_type: str = "") -> Manifest | Index:
    doc = decode_json(raw, what)
    if not isinstance(doc, dict):
        raise CorruptImage(f"{what}: not a JSON object")
    kind = sniff_media_type(doc) or media_type
    if mediatypes.is_index(kind):
        items = doc.get("manifests")
        if not isinstance(items, list):
            raise CorruptImage(f"{what}: index without a 'manifests' list")
        return Index(kind, tuple(Descriptor.from_json(d, what) for d in items))
    if mediatypes.is_manifest(kind):
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise CorruptImage(f"{what}: manifest without a 'layers' list")
        config = Descriptor.from_json(doc.get("config"), what)
        return Manifest(kind, config, tuple(Descriptor.from_json(d, what) for d in layers))
    if kind in (mediatypes.DOCKER_MANIFEST_V1, mediatypes.DOCKER_MANIFEST_V1_SIGNED):
        raise UnsupportedMediaType(
            f"{what}: Docker schema 1 manifests are deprecated and not supported"
        )
    raise UnsupportedMediaType(f"{what}: unknown media type {kind or '(none)'!r}")
