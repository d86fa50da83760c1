"""Read images from a registry (distribution-spec: "Pulling manifests", "Pulling blobs",
"Listing tags").

Reading an image fetches its manifest (and, for an index, the one manifest for the wanted
platform) and its config; layer blobs are opened as streams only when asked for, and
``Layer.open_blob`` verifies their digests as they are read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import requests

from deadweight import limits, mediatypes
from deadweight.digest import check, is_digest, sha256_bytes, verify_bytes
from deadweight.errors import (
    CorruptImage,
    DeadweightError,
    DigestMismatch,
    NotFound,
    RegistryError,
    UnsupportedMediaType,
)
from deadweight.image import Image, Layer, assemble
from deadweight.platform import Platform, host
from deadweight.reference import Reference
from deadweight.sources import Location
from deadweight.sources.registry.connection import Connection
from deadweight.sources.registry.pages import pages
from deadweight.sources.registry.transport import RetryPolicy
from deadweight.spec import manifest as spec
from deadweight.spec.document import decode_json

MANIFEST_LIMIT = limits.MANIFEST_BYTES
CONFIG_LIMIT = limits.CONFIG_BYTES
TAGS_LIMIT = limits.TAGS_BYTES
MAX_PAGES = limits.TAG_PAGES

ErrorHandler = Callable[[str, DeadweightError], None]


def read(
    ref: Reference | Location,
    *,
    platform: Platform | None = None,
    insecure: bool = False,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
) -> Image:
    """Read ``ref`` (a ``docker://`` location, or a reference; by tag, ``latest`` when it
    names none, or by digest); an index is resolved to ``platform``, by default the
    host's, else its only image."""
    if isinstance(ref, Location):
        ref = ref.image_reference()
    connection = Connection(ref, insecure=insecure, session=session, retry=retry)
    return _read(connection, ref, platform)


def tags(
    ref: Reference,
    *,
    insecure: bool = False,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    page_size: int | None = None,
) -> list[str]:
    """Every tag of ``ref``'s repository, sorted (pages are followed through ``Link``; the
    registry's own order is not reliable: distribution 2.8 lists unpaginated tags unsorted)."""
    connection = Connection(ref, insecure=insecure, session=session, retry=retry)
    return _tags(connection, page_size)


def list_images(
    ref: Reference,
    *,
    platform: Platform | None = None,
    insecure: bool = False,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    on_error: ErrorHandler | None = None,
) -> list[Image]:
    """One image per tag of ``ref``'s repository. A tag that fails raises, unless
    ``on_error(tag, error)`` is given: then it is called (it may re-raise) and the tag skipped."""
    connection = Connection(ref, insecure=insecure, session=session, retry=retry)
    images: list[Image] = []
    for tag in _tags(connection, None):
        try:
            images.append(_read(connection, ref.with_tag(tag), platform))
        except DeadweightError as exc:
            if on_error is None:
                raise
            on_error(tag, exc)
    return images


def _read(connection: Connection, ref: Reference, platform: Platform | None) -> Image:
    if not ref.digest and not ref.tag:
        ref = ref.with_tag("latest")
    target = check(ref.digest) if ref.digest else ref.tag
    raw, content_type = _manifest(connection, ref, target)
    top_digest = sha256_bytes(raw)
    document = spec.parse(raw, f"manifest {_label(ref, target)}", content_type)
    raw_index: bytes | None = None
    if isinstance(document, spec.Index):
        raw_index = raw
        chosen = _choose(document, platform, _label(ref, target))
        raw, _ = _manifest(connection, ref, chosen.digest)
        document = spec.parse(raw, f"manifest {_label(ref, chosen.digest)}", chosen.media_type)
        if isinstance(document, spec.Index):
            raise UnsupportedMediaType(
                f"{_label(ref, chosen.digest)}: an index inside an index is not supported"
            )
    raw_config = _config(connection, ref, document.config)
    layers = [_layer(connection, ref, blob) for blob in document.layers]
    return assemble(
        raw_config,
        layers,
        raw_manifest=raw,
        manifest_media_type=document.media_type,
        raw_index=raw_index,
        repo_tags=(f"{ref.familiar_name}:{ref.tag}",) if ref.tag and not ref.digest else (),
        repo_digests=(f"{ref.familiar_name}@{top_digest}",),
        source=str(ref),
    )


def _label(ref: Reference, target: str) -> str:
    return f"{ref.name}@{target}" if is_digest(target) else f"{ref.name}:{target}"


def _manifest(connection: Connection, ref: Reference, target: str) -> tuple[bytes, str]:
    """The raw manifest and its Content-Type; its digest is checked when we know it."""
    label = _label(ref, target)
    answer = connection.get(
        f"/v2/{ref.path}/manifests/{target}",
        not_found=f"manifest unknown: {label}",
        headers={"Accept": mediatypes.ACCEPT_MANIFESTS},
        limit=MANIFEST_LIMIT,
    )
    raw = answer.body
    if len(raw) > MANIFEST_LIMIT:
        raise CorruptImage(f"manifest {label}: larger than {MANIFEST_LIMIT} bytes")
    actual = sha256_bytes(raw)
    if is_digest(target) and actual != target:
        raise DigestMismatch(f"manifest {label}: digest mismatch: got {actual}")
    claimed = answer.headers.get("Docker-Content-Digest", "").strip()
    if is_digest(claimed) and claimed != actual:
        raise DigestMismatch(
            f"manifest {label}: the registry names it {claimed} but its bytes hash to {actual}"
        )
    return raw, answer.headers.get("Content-Type", "").split(";", 1)[0].strip()


def _choose(index: spec.Index, wanted: Platform | None, label: str) -> spec.Descriptor:
    """The index entry for ``wanted`` (default: the host), else the index's only image."""
    images = [
        d
        for d in index.manifests
        if (mediatypes.is_manifest(d.media_type) or not d.media_type) and not _attestation(d)
    ]
    target = wanted or host()
    for descriptor in images:
        if descriptor.platform is not None and target.matches(descriptor.platform):
            return descriptor
    if wanted is None and len(images) == 1:
        return images[0]
    available = ", ".join(str(d.platform) for d in images if d.platform) or "none"
    raise NotFound(f"{label}: no image for platform {target} (available: {available})")


def _attestation(descriptor: spec.Descriptor) -> bool:
    """BuildKit's attestation manifests sit in indexes as platform ``unknown/unknown``."""
    if descriptor.annotations.get("vnd.docker.reference.type") == "attestation-manifest":
        return True
    plat = descriptor.platform
    return plat is not None and plat.os == "unknown" and plat.architecture == "unknown"


def _config(connection: Connection, ref: Reference, descriptor: spec.Descriptor) -> bytes:
    if descriptor.media_type not in mediatypes.CONFIGS:
        raise UnsupportedMediaType(
            f"{ref}: not a container image (config media type {descriptor.media_type!r})"
        )
    if descriptor.size > CONFIG_LIMIT:
        raise CorruptImage(f"{ref}: image config of {descriptor.size} bytes is too large")
    answer = connection.get(
        f"/v2/{ref.path}/blobs/{descriptor.digest}",
        not_found=f"blob unknown: {ref.name}@{descriptor.digest} (the image config)",
        headers={"Accept-Encoding": "identity"},
        limit=descriptor.size,
    )
    return verify_bytes(answer.body, descriptor.digest, f"image config of {ref}")


def _layer(connection: Connection, ref: Reference, descriptor: spec.Descriptor) -> Layer:
    if not mediatypes.is_layer(descriptor.media_type):
        raise UnsupportedMediaType(
            f"{ref}: layer {descriptor.digest} has unsupported media type {descriptor.media_type!r}"
        )
    return Layer(
        diff_id="",
        blob=descriptor,
        opener=functools.partial(connection.open_blob, descriptor.digest),
    )


def _tags(connection: Connection, page_size: int | None) -> list[str]:
    url = f"{connection.base()}/v2/{connection.ref.path}/tags/list"
    if page_size:
        url += f"?n={page_size}"
    found: set[str] = set()
    for body in pages(
        connection,
        url,
        what=f"{connection.label}: tag list",
        not_found=f"repository unknown: {connection.label}",
        limit=TAGS_LIMIT,
        max_pages=MAX_PAGES,
    ):
        found.update(_tag_page(body, connection.label))
    return sorted(found)


def _tag_page(body: bytes, label: str) -> list[str]:
    try:
        doc: Any = decode_json(body, f"tag list of {label}")
    except CorruptImage as exc:
        raise RegistryError(str(exc)) from exc
    if not isinstance(doc, dict):
        raise RegistryError(f"tag list of {label}: not a JSON object")
    page = doc.get("tags")
    if page is None:
        return []
    if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
        raise RegistryError(f"tag list of {label}: 'tags' is not a list of strings")
    return page
