"""``oci:`` and ``oci-archive:``: OCI image layouts (image-spec image-layout.md).

A layout is ``oci-layout`` + ``index.json`` + ``blobs/<alg>/<hex>``, as a directory or a
tar of one. Index entries may point to manifests or to nested indexes; a tag is the
``org.opencontainers.image.ref.name`` annotation. Every blob is verified by its digest:
JSON blobs when read, layers when streamed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deadweight import limits, mediatypes, scratch
from deadweight.digest import hex_of, sha256_bytes, verify_bytes
from deadweight.errors import CorruptImage, InvalidReference, NotFound, UnsupportedMediaType
from deadweight.image import Image, Layer, assemble
from deadweight.platform import Platform, host
from deadweight.reference import Reference
from deadweight.sources import Location
from deadweight.sources._files import Files
from deadweight.sources.archive import open_container
from deadweight.spec.document import decode_json
from deadweight.spec.manifest import CONTAINERD_NAME, REF_NAME, Descriptor, Index, Manifest, parse
from deadweight.streams import CHUNK

MAX_DEPTH = limits.INDEX_NESTING


def _blob_member(digest: str) -> str:
    alg = digest.split(":", 1)[0]
    return f"blobs/{alg}/{hex_of(digest)}"


def _blob(files: Files, desc: Descriptor) -> bytes:
    return verified_blob(files, _blob_member(desc.digest), desc.digest)


def verified_blob(files: Files, member: str, digest: str) -> bytes:
    """The blob ``member`` of ``files``, checked against ``digest`` (also ``dir:``'s)."""
    if not files.exists(member):
        raise NotFound(f"{files.name}: blob {digest} is missing")
    return verify_bytes(files.read(member), digest, f"{files.name}: blob {digest[:19]}")


def _check_layout(files: Files) -> None:
    if not files.exists("index.json"):
        raise CorruptImage(f"{files.name}: not an OCI layout (no index.json)")
    if files.exists("oci-layout"):
        doc = decode_json(files.read("oci-layout"), f"{files.name}: oci-layout")
        version = doc.get("imageLayoutVersion") if isinstance(doc, dict) else None
        if not isinstance(version, str) or not version.startswith("1."):
            raise CorruptImage(f"{files.name}: unsupported oci-layout version {version!r}")


def _layer(files: Files, desc: Descriptor) -> Layer:
    return blob_layer(files, desc, _blob_member(desc.digest))


def blob_layer(files: Files, desc: Descriptor, member: str) -> Layer:
    """The layer ``desc`` names, streamed from the blob ``member`` of ``files`` (also
    ``dir:``'s, whose blobs are named by their hex digest alone)."""
    if not mediatypes.is_layer(desc.media_type):
        raise UnsupportedMediaType(f"{files.name}: unknown layer media type {desc.media_type!r}")

    def opener() -> Any:
        return files.open(member)

    return Layer(diff_id="", blob=desc, opener=opener, seekable=True)


def _tag_of(desc: Descriptor) -> str:
    return desc.annotations.get(REF_NAME, "")


def _repo_tag(desc: Descriptor, layout_name: str) -> str:
    """The name an index entry gives its image (documented in the README)."""
    full = desc.annotations.get(CONTAINERD_NAME, "")
    tag = _tag_of(desc)
    for candidate in (full, tag if ("/" in tag or tag.count(":") == 1) else ""):
        if candidate:
            try:
                return Reference.parse(candidate).familiar
            except InvalidReference:  # an annotation that is not a reference
                continue
    if tag:
        return f"{layout_name}:{tag}"
    return ""


def _resolve(
    files: Files, desc: Descriptor, platform: Platform | None, depth: int = 0
) -> tuple[Descriptor, bytes, bytes | None]:
    """Follow nested indexes down to one manifest: (descriptor, raw manifest, raw index)."""
    if depth > MAX_DEPTH:
        raise CorruptImage(f"{files.name}: indexes nested deeper than {MAX_DEPTH}")
    raw = _blob(files, desc)
    doc = parse(raw, f"{files.name}: {desc.digest[:19]}", desc.media_type)
    if isinstance(doc, Manifest):
        return desc, raw, None
    child = pick(files, doc, platform)
    found, raw_manifest, raw_index = _resolve(files, child, platform, depth + 1)
    return found, raw_manifest, raw_index if raw_index is not None else raw


def pick(files: Files, index: Index, platform: Platform | None) -> Descriptor:
    """The entry of ``index`` for ``platform`` (the host's when None); the only one when
    the index holds one image and attestations (``unknown/unknown``)."""
    wanted = platform or host()
    candidates = [d for d in index.manifests if d.platform is None or d.platform.os != "unknown"]
    if len(candidates) == 1 and (platform is None or candidates[0].platform is None):
        return candidates[0]
    for d in candidates:
        if d.platform is not None and wanted.matches(d.platform):
            return d
    available = ", ".join(str(d.platform) for d in candidates if d.platform) or "none"
    raise NotFound(f"{files.name}: no image for platform {wanted} (available: {available})")


def _build(
    files: Files, top: Descriptor, platform: Platform | None, source: str, layout_name: str
) -> Image:
    desc, raw_manifest, raw_index = _resolve(files, top, platform)
    manifest = parse(raw_manifest, f"{files.name}: manifest", desc.media_type)
    assert isinstance(manifest, Manifest)
    raw_config = _blob(files, manifest.config)
    layers = [_layer(files, d) for d in manifest.layers]
    name = _repo_tag(top, layout_name)
    digest = sha256_bytes(raw_index) if raw_index is not None else desc.digest
    repo = name.rsplit(":", 1)[0] if name else ""
    return assemble(
        raw_config,
        layers,
        repo_tags=(name,) if name else (),
        repo_digests=(f"{repo}@{digest}",) if repo else (),
        raw_manifest=raw_manifest,
        manifest_media_type=manifest.media_type,
        raw_index=raw_index,
        source=source,
    )


def _index(files: Files) -> Index:
    _check_layout(files)
    doc = parse(files.read("index.json"), f"{files.name}: index.json", mediatypes.OCI_INDEX)
    if not isinstance(doc, Index):
        raise CorruptImage(f"{files.name}: index.json is not an image index")
    return doc


def _layout_name(path: Path) -> str:
    stem = path.name.split(".", 1)[0].lower() or "image"
    try:
        return Reference.parse(stem).familiar_name
    except InvalidReference:  # a path that is not a repository name
        return "oci"


def images(path: Path, platform: Platform | None = None, transport: str = "oci") -> list[Image]:
    """Every image the layout's index.json names, in index order."""
    files = open_container(path)
    index = _index(files)
    name = _layout_name(path)
    return [_build(files, d, platform, f"{transport}:{path}", name) for d in index.manifests]


def read(
    location: Location | Path, ref: str | None = None, platform: Platform | None = None,
    transport: str = "oci", *, insecure: bool = False,
) -> Image:  # fmt: skip
    """One image of an ``oci:`` or ``oci-archive:`` location (or of the layout at a path,
    with ``ref``): by tag (ref.name annotation), by ``@digest``, or the only one; an index
    is resolved to ``platform``. ``insecure`` is the registry's: nothing is fetched."""
    if isinstance(location, Location):
        path, ref, transport = Path(location.target), location.ref or None, location.transport
    else:
        path = Path(location)
    files = open_container(path)
    index = _index(files)
    name = _layout_name(path)
    source = f"{transport}:{path}"
    entries = list(index.manifests)
    if ref:
        if ref.startswith("@") or ref.startswith("sha256:"):
            digest = ref.lstrip("@")
            entries = [d for d in entries if d.digest == digest]
        else:
            entries = [d for d in entries if _tag_of(d) == ref or _repo_tag(d, name) == ref]
        if not entries:
            tags = ", ".join(sorted({_tag_of(d) for d in index.manifests if _tag_of(d)}))
            raise NotFound(f"{source}: no image {ref!r} (tags: {tags or 'none'})")
    if not entries:
        raise CorruptImage(f"{source}: the layout holds no image")
    if len(entries) > 1:
        tags = ", ".join(sorted({_tag_of(d) for d in entries if _tag_of(d)})) or "untagged"
        raise NotFound(f"{source}: holds {len(entries)} images ({tags}); name one with :TAG")
    return _build(files, entries[0], platform, source, name)


def write(images_: Sequence[Image], location: Location | Path, *, insecure: bool = False) -> None:
    """Write an OCI layout directory (blobs as the images store them), atomically; to an
    ``oci-archive:`` location, a tar of one (:func:`write_archive`).

    Each image gets an OCI manifest over its config and layer blobs; its first tag (the
    part after the last ``:``) becomes the ``org.opencontainers.image.ref.name``. To a
    location, the images are named by its tag alone (none: untagged).
    """
    if isinstance(location, Location):
        tags = (location.ref,) if location.ref else ()
        named = [dataclasses.replace(image, repo_tags=tags) for image in images_]
        if location.transport == "oci-archive":
            write_archive(named, Path(location.target))
        else:
            write(named, Path(location.target))
        return
    path = Path(location)
    import json

    from deadweight.scratch import atomic_dir

    with atomic_dir(path) as root:
        blobs = root / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        entries = []
        for image in images_:
            raw = write_blobs(image, blobs)
            digest = sha256_bytes(raw)
            (blobs / hex_of(digest)).write_bytes(raw)
            entry: dict[str, Any] = {
                "mediaType": mediatypes.OCI_MANIFEST,
                "digest": digest,
                "size": len(raw),
            }
            if image.repo_tags:
                entry["annotations"] = {REF_NAME: image.repo_tags[0].rpartition(":")[2]}
            entries.append(entry)
        index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": entries}
        (root / "index.json").write_bytes(json.dumps(index, separators=(",", ":")).encode())
        (root / "oci-layout").write_bytes(b'{"imageLayoutVersion":"1.0.0"}')


def write_blobs(image: Image, blobs: Path) -> bytes:
    """Write the image's config and layer blobs (as stored) into ``blobs``, each named by
    its hex digest, and return the OCI manifest over them (not written)."""
    import json

    config_digest = sha256_bytes(image.raw_config)
    (blobs / hex_of(config_digest)).write_bytes(image.raw_config)
    layers = []
    for layer in image.layers:
        with layer.open_blob() as src, open(blobs / ".part", "wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
            wrote = dst.tell()
        digest = layer.blob.digest or _digest_of(blobs / ".part")
        (blobs / ".part").replace(blobs / hex_of(digest))
        media = layer.blob.media_type
        if not media.startswith("application/vnd.oci."):
            media = _OCI_EQUIVALENT.get(media, mediatypes.OCI_LAYER)
        layers.append({"mediaType": media, "digest": digest, "size": wrote})
    manifest = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": config_digest,
            "size": len(image.raw_config),
        },
        "layers": layers,
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


_OCI_EQUIVALENT = {
    mediatypes.DOCKER_LAYER: mediatypes.OCI_LAYER,
    mediatypes.DOCKER_LAYER_GZIP: mediatypes.OCI_LAYER_GZIP,
    mediatypes.DOCKER_LAYER_ZSTD: mediatypes.OCI_LAYER_ZSTD,
    mediatypes.DOCKER_FOREIGN_LAYER: mediatypes.OCI_LAYER_ND_GZIP,
}


def _digest_of(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def write_archive(images_: Sequence[Image], path: Path) -> None:
    """Write an ``oci-archive``: a tar of an OCI layout, atomically.

    Members are sorted, with mtime 0 and no owner names, so the same images give the same
    archive bytes.
    """
    import tarfile
    import tempfile

    from deadweight.scratch import atomic_file

    path.parent.mkdir(parents=True, exist_ok=True)
    scratch.sweep(path.parent, path.name)
    # named with our PID, so that the next run can tell a killed one's leftover (scratch.py)
    prefix = f".{path.name}.{os.getpid()}."
    with tempfile.TemporaryDirectory(prefix=prefix, suffix=".part", dir=path.parent) as tmp:
        root = Path(tmp) / "layout"
        write(images_, root)
        names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
        with atomic_file(path) as out, tarfile.open(fileobj=out, mode="w") as tar:
            for name in names:
                info = tar.gettarinfo(str(root / name), arcname=name)
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                info.mode = 0o755 if info.isdir() else 0o644
                if info.isreg():
                    with open(root / name, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
