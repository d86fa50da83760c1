"""Push images to a registry (distribution-spec: "Pushing blobs", "Pushing manifests").

Blobs go first (each layer, then the config), so the registry never holds a manifest whose
blobs are missing: a blob the repository already has (``HEAD`` answers 200) is skipped,
any other is uploaded whole, a POST opening an upload session and one ``PUT ?digest=``
sending the bytes ("monolithic upload"), streamed from the layer's opener. The manifest
goes last; the ``Docker-Content-Digest`` the registry answers must be the hash of our bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, cast
from urllib.parse import urljoin

import requests

from deadweight import mediatypes, scratch
from deadweight.digest import is_digest, sha256_bytes
from deadweight.errors import (
    AuthError,
    CorruptImage,
    DeadweightError,
    NetworkError,
    NotFound,
    RegistryError,
    UsageError,
)
from deadweight.image import Image, Layer
from deadweight.reference import Reference
from deadweight.sources import Location
from deadweight.sources.registry.connection import Connection
from deadweight.sources.registry.transport import RETRYABLE, RetryPolicy, valid_url
from deadweight.spec import manifest as spec
from deadweight.streams import CHUNK, ByteStream, Reader

# An OCI manifest names OCI media types; Docker's layer types have exact equivalents.
_OCI_EQUIVALENT = {
    mediatypes.DOCKER_LAYER: mediatypes.OCI_LAYER,
    mediatypes.DOCKER_LAYER_GZIP: mediatypes.OCI_LAYER_GZIP,
    mediatypes.DOCKER_LAYER_ZSTD: mediatypes.OCI_LAYER_ZSTD,
    mediatypes.DOCKER_FOREIGN_LAYER: mediatypes.OCI_LAYER_ND_GZIP,
}


@dataclass(frozen=True, slots=True)
class _Blob:
    """A blob to push: its digest and size, and how to read its bytes."""

    digest: str
    size: int
    opener: Callable[[], ByteStream]
    what: str


def write(
    image: Image | Sequence[Image],
    ref: Reference | Location,
    *,
    insecure: bool = False,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
) -> str:
    """Push ``image`` (or a sequence of one, as the other media take) to ``ref`` (a
    ``docker://`` location or a reference: a tag, ``latest`` by default, or the digest it
    must have) and return its manifest digest.

    The image's own manifest is pushed as it is when it describes exactly this config and
    these layer blobs (so the digest is kept); otherwise an OCI manifest is built over them.
    """
    if isinstance(ref, Location):
        ref = ref.image_reference()
    if not isinstance(image, Image):
        if len(image) != 1:
            raise UsageError(f"docker://{ref}: one tag names one image, not {len(image)}")
        image = image[0]
    connection = Connection(
        ref, insecure=insecure, session=session, retry=retry, actions="pull,push"
    )
    pushed: list[tuple[_Blob, Layer]] = []
    for i, layer in enumerate(image.layers):
        with _stored(layer, f"layer {i + 1} of {len(image.layers)}") as blob:
            _push_blob(connection, blob)
            pushed.append((blob, layer))
    config = _Blob(
        sha256_bytes(image.raw_config),
        len(image.raw_config),
        lambda: io.BytesIO(image.raw_config),
        "the image config",
    )
    _push_blob(connection, config)
    raw, media_type = _reusable(image) or (_oci_manifest(config, pushed), mediatypes.OCI_MANIFEST)
    return _push_manifest(connection, ref, raw, media_type)


def _reusable(image: Image) -> tuple[bytes, str] | None:
    """The image's raw manifest and media type, if it names exactly its config and blobs."""
    if image.raw_manifest is None:
        return None
    try:
        document = spec.parse(image.raw_manifest, "manifest", image.manifest_media_type)
    except CorruptImage:
        return None
    if not isinstance(document, spec.Manifest):
        return None
    if (document.config.digest, document.config.size) != (image.id, len(image.raw_config)):
        return None
    found = [(d.digest, d.size) for d in document.layers]
    if found != [(layer.blob.digest, layer.blob.size) for layer in image.layers]:
        return None
    return image.raw_manifest, document.media_type


@contextmanager
def _stored(layer: Layer, what: str) -> Iterator[_Blob]:
    """The layer's stored blob. One without a recorded digest (a compressed layer of a
    ``docker save`` archive) is spooled to a temp file first to learn it."""
    if layer.blob.digest:
        yield _Blob(layer.blob.digest, layer.blob.size, layer.open_blob, what)
        return
    spool, reopen = scratch.unnamed()  # no name: a killed push leaves nothing behind
    with spool:
        digest, size = _spool(layer, spool)
        yield _Blob(digest, size, reopen, what)


def _spool(layer: Layer, out: IO[bytes]) -> tuple[str, int]:
    """Copy the layer's stored bytes to ``out``; their digest and size. The layer is read
    once more uncompressed, which checks its diff_id: a corrupt archive member must not
    reach the registry under a digest computed from its own bytes."""
    hasher = hashlib.sha256()
    size = 0
    with layer.open_blob() as src:
        while chunk := src.read(CHUNK):
            hasher.update(chunk)
            out.write(chunk)
            size += len(chunk)
    out.flush()
    with layer.open() as check:
        while check.read(CHUNK):
            pass
    return "sha256:" + hasher.hexdigest(), size


def _oci_manifest(config: _Blob, layers: list[tuple[_Blob, Layer]]) -> bytes:
    """An OCI image manifest over the config and the layer blobs (image-spec manifest.md)."""
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": config.digest,
            "size": config.size,
        },
        "layers": [
            {
                "mediaType": _OCI_EQUIVALENT.get(layer.blob.media_type, layer.blob.media_type)
                or mediatypes.OCI_LAYER,
                "digest": blob.digest,
                "size": blob.size,
            }
            for blob, layer in layers
        ],
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def _push_blob(connection: Connection, blob: _Blob) -> None:
    path = connection.ref.path
    try:
        connection.request(
            "HEAD", f"/v2/{path}/blobs/{blob.digest}", not_found=f"blob unknown: {blob.digest}"
        )
        return  # the repository has it already
    except NotFound:
        pass
    policy = connection.sender.retry
    for attempt in range(1, policy.attempts + 1):
        location = _start_upload(connection, blob)
        try:
            _finish_upload(connection, location, blob)
            return
        except (NetworkError, RegistryError) as exc:
            if attempt == policy.attempts or not _transient(exc):
                raise
        policy.sleep(policy.delay(attempt))


def _transient(exc: DeadweightError) -> bool:
    if isinstance(exc, AuthError):
        return False
    return isinstance(exc, NetworkError) or getattr(exc, "status", None) in RETRYABLE


def _start_upload(connection: Connection, blob: _Blob) -> str:
    """POST a new upload session; the URL to PUT the bytes to (its ``Location``)."""
    answer = connection.request("POST", f"/v2/{connection.ref.path}/blobs/uploads/", body=b"")
    location = answer.headers.get("Location", "")
    if not location:
        raise RegistryError(
            f"registry {connection.host} opened an upload for {blob.what} of "
            f"{connection.label} without a Location",
            answer.status,
        )
    try:
        return valid_url(urljoin(connection.base() + "/", location), "upload Location")
    except ValueError:
        raise RegistryError(f"upload Location is not a valid URL: {location[:100]!r}") from None


def _finish_upload(connection: Connection, location: str, blob: _Blob) -> None:
    """PUT the whole blob to the upload session, closing it (distribution-spec: a
    monolithic upload is ``PUT <location>?digest=<digest>`` with the bytes)."""
    url = f"{location}{'&' if '?' in location else '?'}digest={blob.digest}"

    def body() -> BinaryIO:
        return cast(BinaryIO, _Sized(blob.opener(), blob.size))

    answer = connection.request(
        "PUT",
        url,
        headers={"Content-Type": "application/octet-stream"},
        body=body,
    )
    stored = answer.headers.get("Docker-Content-Digest", "").strip()
    if is_digest(stored) and stored != blob.digest:
        raise RegistryError(
            f"registry {connection.host} stored {blob.what} of {connection.label} as {stored}, "
            f"not {blob.digest}",
            answer.status,
        )


class _Sized(Reader):
    """A blob stream with a length, so requests sends ``Content-Length`` (not chunked)."""

    def __init__(self, raw: ByteStream, size: int) -> None:
        self._raw = raw
        self._size = size

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1, /) -> bytes:
        return self._raw.read(n)

    def close(self) -> None:
        self._raw.close()


def _push_manifest(connection: Connection, ref: Reference, raw: bytes, media_type: str) -> str:
    digest = sha256_bytes(raw)
    if ref.digest and ref.digest != digest:
        raise RegistryError(
            f"{connection.label}: cannot push to {ref.digest}: the manifest's digest is {digest}"
        )
    target = ref.digest or ref.tag or "latest"
    answer = connection.request(
        "PUT",
        f"/v2/{connection.ref.path}/manifests/{target}",
        headers={"Content-Type": media_type},
        body=raw,
    )
    stored = answer.headers.get("Docker-Content-Digest", "").strip()
    if is_digest(stored) and stored != digest:
        raise RegistryError(
            f"registry {connection.host} stored the manifest of {connection.label}:{target} as "
            f"{stored}, not {digest}",
            answer.status,
        )
    return digest
