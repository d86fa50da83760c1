"""``dir:``: skopeo's directory transport (containers/image ``directory``).

A directory holds ``manifest.json`` (the image's manifest, Docker schema 2 or OCI, as
stored), a ``version`` file (``Directory Transport Version: 1.1``) and every blob as a file
named by its hex digest. A multi-platform copy (``skopeo copy --all``) stores the index as
``manifest.json`` and each platform's manifest as ``<hex>.manifest.json``. It names no
image: what is read from it is untagged. Every JSON blob is verified by its digest when
read, layers when streamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deadweight.digest import hex_of
from deadweight.errors import CorruptImage, NotFound, UsageError
from deadweight.image import Image, assemble
from deadweight.platform import Platform
from deadweight.sources import Location
from deadweight.sources._files import DirFiles
from deadweight.sources.layout import blob_layer, pick, verified_blob, write_blobs
from deadweight.spec.manifest import Manifest, parse

VERSION = b"Directory Transport Version: 1.1\n"
VERSION_PREFIX = b"Directory Transport Version:"


def is_directory_image(path: Path) -> bool:
    """Whether ``path`` is a directory skopeo's ``dir:`` transport wrote (its version file)."""
    try:
        with open(path / "version", "rb") as f:
            return f.read(len(VERSION_PREFIX)) == VERSION_PREFIX
    except OSError:
        return False


def read(
    location: Location | Path, ref: str | None = None, platform: Platform | None = None,
    *, insecure: bool = False,
) -> Image:  # fmt: skip
    """The image of a ``dir:`` location (or of the directory at a path); an index is
    resolved to ``platform``. ``ref`` and ``insecure`` are the other media's: a directory
    holds one image and nothing is fetched."""
    path = Path(location.target) if isinstance(location, Location) else Path(location)
    if not path.is_dir():
        raise NotFound(f"dir:{path}: no such directory")
    files = DirFiles(path)
    if not files.exists("manifest.json"):
        raise CorruptImage(f"dir:{path}: not an image directory (no manifest.json)")
    raw_manifest = files.read("manifest.json")
    doc = parse(raw_manifest, f"dir:{path}: manifest.json")
    raw_index = None
    if not isinstance(doc, Manifest):
        chosen = pick(files, doc, platform)
        raw_index = raw_manifest
        raw_manifest = verified_blob(files, f"{hex_of(chosen.digest)}.manifest.json", chosen.digest)
        doc = parse(raw_manifest, f"dir:{path}: manifest {chosen.digest[:19]}", chosen.media_type)
        if not isinstance(doc, Manifest):
            raise CorruptImage(f"dir:{path}: {chosen.digest[:19]} is not an image manifest")
    raw_config = verified_blob(files, hex_of(doc.config.digest), doc.config.digest)
    return assemble(
        raw_config,
        [blob_layer(files, d, hex_of(d.digest)) for d in doc.layers],
        raw_manifest=raw_manifest,
        manifest_media_type=doc.media_type,
        raw_index=raw_index,
        source=f"dir:{path}",
    )


def images(path: Path, platform: Platform | None = None) -> list[Image]:
    return [read(path, platform=platform)]


def write(images_: Sequence[Image], location: Location | Path, *, insecure: bool = False) -> None:
    """Write one image as skopeo's ``dir:`` does, atomically: its blobs as stored, an OCI
    manifest over them as ``manifest.json``, and the ``version`` file. A directory names no
    image, so a tag in the location is refused."""
    if isinstance(location, Location):
        if location.ref:
            raise UsageError(f"dir:{location.target}: a directory image takes no tag")
        path = Path(location.target)
    else:
        path = Path(location)
    if len(images_) != 1:
        raise UsageError(f"dir:{path}: a directory holds one image, not {len(images_)}")
    from deadweight.scratch import atomic_dir

    with atomic_dir(path) as root:
        (root / "manifest.json").write_bytes(write_blobs(images_[0], root))
        (root / "version").write_bytes(VERSION)
