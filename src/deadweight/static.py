"""In-memory images: layers from tar entries, images from layers. For tests and mutations.

``File``, ``Dir``, ``Symlink``, ``Hardlink``, ``Whiteout`` and ``Opaque`` describe layer
entries explicitly; :func:`layer` turns them into a tar (optionally gzip or zstd) and
:func:`image` assembles a valid image with a config whose history matches its layers.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from deadweight import mediatypes
from deadweight.digest import sha256_bytes
from deadweight.image import Image, Layer, assemble
from deadweight.spec.manifest import Descriptor

try:
    from backports import zstd as _zstd
except ImportError:  # pragma: no cover
    from compression import zstd as _zstd  # type: ignore[import-not-found,no-redef]


@dataclass(frozen=True, slots=True)
class File:
    path: str
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True, slots=True)
class Dir:
    path: str
    mode: int = 0o755


@dataclass(frozen=True, slots=True)
class Symlink:
    path: str
    target: str


@dataclass(frozen=True, slots=True)
class Hardlink:
    path: str
    target: str


@dataclass(frozen=True, slots=True)
class Fifo:
    path: str


@dataclass(frozen=True, slots=True)
class Whiteout:
    """Deletes ``path`` from lower layers (``DIR/.wh.NAME``)."""

    path: str


@dataclass(frozen=True, slots=True)
class Opaque:
    """Hides every lower-layer child of ``path`` (``DIR/.wh..wh..opq``)."""

    path: str


Entry = File | Dir | Symlink | Hardlink | Fifo | Whiteout | Opaque
Compression = Literal["none", "gzip", "zstd"]


def tar_bytes(entries: Sequence[Entry], mtime: int = 0) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            data = b""
            if isinstance(e, Whiteout):
                head, _, name = e.path.rstrip("/").rpartition("/")
                info = tarfile.TarInfo(f"{head}/.wh.{name}" if head else f".wh.{name}")
            elif isinstance(e, Opaque):
                info = tarfile.TarInfo(e.path.rstrip("/") + "/.wh..wh..opq")
            else:
                info = tarfile.TarInfo(e.path)
            if isinstance(e, File):
                data = e.data
                info.size = len(data)
                info.mode, info.uid, info.gid = e.mode, e.uid, e.gid
            elif isinstance(e, Dir):
                info.type, info.mode = tarfile.DIRTYPE, e.mode
            elif isinstance(e, Symlink):
                info.type, info.linkname = tarfile.SYMTYPE, e.target
            elif isinstance(e, Hardlink):
                info.type, info.linkname = tarfile.LNKTYPE, e.target
            elif isinstance(e, Fifo):
                info.type = tarfile.FIFOTYPE
            else:
                info.mode = 0o600
            info.mtime = mtime
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def compress(data: bytes, kind: Compression) -> bytes:
    if kind == "gzip":
        return gzip.compress(data, mtime=0)
    if kind == "zstd":
        return bytes(_zstd.compress(data))
    return data


_MEDIA = {
    "none": mediatypes.OCI_LAYER,
    "gzip": mediatypes.OCI_LAYER_GZIP,
    "zstd": mediatypes.OCI_LAYER_ZSTD,
}


def layer(entries: Sequence[Entry], compression: Compression = "none") -> Layer:
    raw = tar_bytes(entries)
    blob = compress(raw, compression)
    desc = Descriptor(_MEDIA[compression], sha256_bytes(blob), len(blob))
    return Layer(
        diff_id=sha256_bytes(raw), blob=desc, opener=lambda: io.BytesIO(blob), seekable=True
    )


@dataclass(frozen=True, slots=True)
class Step:
    """One history entry: an instruction and, unless ``empty``, the layer it wrote."""

    created_by: str
    layer: Layer | None = None
    created: str = "2026-11-27T03:58:52Z"
    comment: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def config_bytes(steps: Sequence[Step], **fields: Any) -> bytes:
    doc: dict[str, Any] = {
        "architecture": fields.pop("architecture", "amd64"),
        "os": fields.pop("os", "linux"),
        "config": fields.pop("config", {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]}),
        "created": fields.pop("created", steps[-1].created if steps else "1970-01-01T00:00:00Z"),
        "history": [],
        "rootfs": {
            "type": "layers",
            "diff_ids": [s.layer.diff_id for s in steps if s.layer is not None],
        },
    }
    for s in steps:
        h: dict[str, Any] = {"created": s.created, "created_by": s.created_by}
        if s.comment:
            h["comment"] = s.comment
        if s.layer is None:
            h["empty_layer"] = True
        h.update(s.extra)
        doc["history"].append(h)
    doc.update(fields)
    return json.dumps(doc, separators=(",", ":")).encode()


def image(steps: Sequence[Step], *, repo_tags: tuple[str, ...] = (), **fields: Any) -> Image:
    raw = config_bytes(steps, **fields)
    layers = [s.layer for s in steps if s.layer is not None]
    return assemble(raw, layers, repo_tags=repo_tags, source="static")


EMPTY = image([])
