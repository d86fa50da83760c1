"""``docker-archive:``: what ``docker save`` (and ``podman save``) writes.

Both layouts are read (docker-formats.md §8): the classic one (``manifest.json``,
``repositories``, ``<config-hex>.json``, ``<v1-id>/layer.tar``, possibly symlinked to
another layer's tar) and Docker 25+'s, which puts an OCI layout in the tar and points
``manifest.json`` at ``blobs/sha256/...``. Layers may be uncompressed, gzip or zstd;
the archive itself may be gzip or zstd compressed (it is then spooled once to a temp file).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deadweight import compression, mediatypes, scratch
from deadweight.digest import sha256_bytes, verify_bytes
from deadweight.errors import CorruptImage, DeadweightError, NotFound
from deadweight.image import Image, Layer, assemble
from deadweight.platform import Platform
from deadweight.reference import Reference, familiar
from deadweight.sources import Location
from deadweight.sources._files import DirFiles, Files, TarFiles, open_regular
from deadweight.spec.config import parse_config
from deadweight.spec.document import decode_json
from deadweight.spec.manifest import Descriptor
from deadweight.streams import CHUNK

_HEX = "0123456789abcdef"


class _SpooledTar(TarFiles):
    """A compressed archive, decompressed once into a temp file that lives with it."""

    def __init__(self, path: Path) -> None:
        spool, _ = scratch.unnamed()  # no name: a killed run leaves nothing behind
        with open(path, "rb") as raw:
            _, stream = compression.decompressed(raw, what=str(path))
            with stream:
                shutil.copyfileobj(stream, spool, CHUNK)
        spool.flush()
        self._spool = spool
        super().__init__(Path(f"/proc/self/fd/{spool.fileno()}"))
        self.name = str(path)


def open_container(path: Path) -> Files:
    """The members of an archive file (maybe compressed) or of a directory."""
    if path.is_dir():
        return DirFiles(path)
    try:
        with open_regular(path, str(path)) as f:
            head = f.read(4)
    except FileNotFoundError as exc:
        raise NotFound(f"{path}: no such file or directory") from exc
    except OSError as exc:
        raise NotFound(f"{path}: cannot read ({exc.strerror})") from exc
    if compression.sniff(head) != "none":
        return _SpooledTar(path)
    return TarFiles(path)


def _manifest_entries(files: Files) -> list[dict[str, Any]]:
    doc = decode_json(files.read("manifest.json"), f"{files.name}: manifest.json")
    if not isinstance(doc, list) or not all(isinstance(e, dict) for e in doc):
        raise CorruptImage(f"{files.name}: manifest.json is not a list of objects")
    return doc


def _config_id(member: str) -> str | None:
    """The digest a config member's name promises (``<hex>.json`` or ``blobs/sha256/<hex>``)."""
    base = member.rsplit("/", 1)[-1]
    hexpart = base[:-5] if base.endswith(".json") else base
    if len(hexpart) == 64 and all(c in _HEX for c in hexpart):
        return "sha256:" + hexpart
    return None


def _layer(files: Files, member: str, diff_id: str) -> Layer:
    def opener() -> Any:
        return files.open(member)

    size = files.size(member)
    with files.open(member) as f:
        kind = compression.sniff(f.read(4))
    media_type = {
        "none": mediatypes.DOCKER_LAYER,
        "gzip": mediatypes.DOCKER_LAYER_GZIP,
        "zstd": mediatypes.DOCKER_LAYER_ZSTD,
    }[kind]
    # An uncompressed layer's blob digest is its diff_id; for compressed ones the blob
    # digest is not recorded, so the blob is named by its diff_id and verified uncompressed.
    blob = Descriptor(media_type, diff_id if kind == "none" else "", size)
    return Layer(diff_id=diff_id, blob=blob, opener=opener, seekable=True)


def _diff_ids(files: Files, raw_config: bytes) -> object:
    """The config's ``rootfs.diff_ids``, from the one reading of it that ``assemble`` then
    reuses (an image of 100,000 layers: no second decoded copy, issue 16); a config that
    reading refuses is looked at as it comes, for this module's own message."""
    try:
        return list(parse_config(raw_config).diff_ids)
    except CorruptImage:
        pass
    config_doc = decode_json(raw_config, f"{files.name}: config")
    rootfs = config_doc.get("rootfs") if isinstance(config_doc, dict) else None
    return rootfs.get("diff_ids") if isinstance(rootfs, dict) else None


def _image(files: Files, entry: dict[str, Any], by_id: dict[str, str], source: str) -> Image:
    config_member = entry.get("Config")
    layer_members = entry.get("Layers")
    if not isinstance(config_member, str) or not isinstance(layer_members, list):
        raise CorruptImage(f"{files.name}: manifest.json entry without Config or Layers")
    raw_config = files.read(config_member)
    promised = _config_id(config_member)
    if promised is not None:
        verify_bytes(raw_config, promised, f"{files.name}: config {config_member}")
    diff_ids = _diff_ids(files, raw_config)
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_members):
        raise CorruptImage(
            f"{files.name}: config and manifest.json disagree on the number of layers"
        )
    # A member named again is the same layer: opened (to sniff it) once (issue 16: an
    # image of 100,000 layers naming one tar).
    made: dict[tuple[str, str], Layer] = {}
    layers = []
    for m, d in zip(layer_members, diff_ids, strict=True):
        key = (str(m), str(d))
        if key not in made:
            made[key] = _layer(files, *key)
        layers.append(made[key])
    tags = tuple(familiar(t) for t in entry.get("RepoTags") or () if isinstance(t, str))
    image_id = sha256_bytes(raw_config)
    ancestors: list[str] = []
    parent = entry.get("Parent")
    seen = {image_id}
    while isinstance(parent, str) and parent in by_id and parent not in seen:
        ancestors.append(parent)
        seen.add(parent)
        parent = by_id[parent]
    return assemble(
        raw_config,
        layers,
        image_id=image_id,
        repo_tags=tags,
        ancestors=tuple(ancestors),
        source=source,
    )


def images(path: Path) -> list[Image]:
    """Every image of a ``docker save`` archive, in manifest.json order."""
    files = open_container(path)
    if not files.exists("manifest.json"):
        raise CorruptImage(f"{path}: not a docker archive (no manifest.json)")
    entries = _manifest_entries(files)
    parents: dict[str, str] = {}
    for entry in entries:
        config = entry.get("Config")
        promised = _config_id(config) if isinstance(config, str) else None
        if promised is not None:
            parents[promised] = str(entry.get("Parent") or "")
    return [_image(files, e, parents, f"docker-archive:{path}") for e in entries]


def read(
    location: Location | Path, ref: str | None = None, *,
    platform: Platform | None = None, insecure: bool = False,
) -> Image:  # fmt: skip
    """One image of the archive (a ``docker-archive:`` location, or its path and ``ref``):
    the one tagged ``ref``, or the only one. ``platform`` and ``insecure`` are the other
    media's: an archive names each image by tag, and nothing is fetched."""
    if isinstance(location, Location):
        path, ref = Path(location.target), location.ref or None
    else:
        path = Path(location)
    found = images(path)
    if ref:
        wanted = _normal(ref)
        for image in found:
            if wanted in {_normal(t) for t in image.repo_tags}:
                return image
        prefix = ref if ref.startswith("sha256:") else "sha256:" + ref
        by_id = [i for i in found if i.id.startswith(prefix)] if len(prefix) > 7 else []
        if len({i.id for i in by_id}) > 1:
            raise NotFound(f"docker-archive:{path}: image ID prefix {ref!r} is ambiguous")
        if by_id:
            return by_id[0]
        names = ", ".join(t for i in found for t in i.repo_tags) or "(untagged)"
        raise NotFound(f"docker-archive:{path}: no image {ref!r} (it holds {names})")
    if len(found) == 1:
        return found[0]
    if not found:
        raise CorruptImage(f"docker-archive:{path}: the archive holds no image")
    names = ", ".join(t for i in found for t in i.repo_tags) or "untagged images"
    raise NotFound(
        f"docker-archive:{path}: holds {len(found)} images ({names}); name one with :REF"
    )


def _normal(ref: str) -> str:
    try:
        return str(Reference.parse(ref))
    except DeadweightError:
        return ref


def write(images_: Sequence[Image], location: Location | Path, *, insecure: bool = False) -> None:
    """Write a classic ``docker save`` archive (uncompressed layers), atomically. To a
    ``docker-archive:PATH[:TAG]`` location, the images are named by its tag alone (none:
    untagged); to a path, each keeps its ``repo_tags``."""
    if isinstance(location, Location):
        tags = (Reference.parse(location.ref).familiar,) if location.ref else ()
        images_ = [dataclasses.replace(image, repo_tags=tags) for image in images_]
        location = Path(location.target)
    path = Path(location)
    import json
    import tarfile

    from deadweight.digest import hex_of
    from deadweight.scratch import atomic_file
    from deadweight.sources._sink import add_bytes, add_stream

    manifest: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    written: set[str] = set()
    with atomic_file(path) as out, tarfile.open(fileobj=out, mode="w") as tar:
        for image in images_:
            config_name = hex_of(image.id) + ".json"
            add_bytes(tar, config_name, image.raw_config)
            members = []
            for layer in image.layers:
                member = f"{hex_of(layer.diff_id)}/layer.tar"
                if member not in written:
                    add_stream(tar, member, layer.open)
                    written.add(member)
                members.append(member)
            for tag in image.repo_tags:
                repo, _, name = tag.rpartition(":")
                top = hex_of(image.layers[-1].diff_id) if image.layers else ""
                repositories.setdefault(repo, {})[name] = top
            manifest.append(
                {
                    "Config": config_name,
                    "RepoTags": list(image.repo_tags) or None,
                    "Layers": members,
                }
            )
        add_bytes(
            tar, "manifest.json", json.dumps(manifest, separators=(",", ":")).encode() + b"\n"
        )
        if repositories:
            add_bytes(
                tar,
                "repositories",
                json.dumps(repositories, separators=(",", ":")).encode() + b"\n",
            )
