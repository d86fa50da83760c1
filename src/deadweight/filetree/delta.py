"""What one layer does to the file system, read in one streaming pass over its tar.

A layer tar (OCI image-spec layer.md, "Representing Changes") adds or changes entries,
deletes lower ones with ``DIR/.wh.NAME`` whiteouts and hides every lower child of a
directory with ``DIR/.wh..wh..opq``. :func:`read_delta` turns the tar into a
:class:`LayerDelta`: entries in tar order, whiteouts, opaque directories, the unsafe names
it neutralised, and the content of the few small files a caller asked to keep.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

import msgspec
import xxhash

from deadweight.errors import CorruptImage, UnsafeLayer
from deadweight.filetree.entry import Entry, Kind, Unsafe
from deadweight.filetree.paths import clean, parent, symlink_escapes

CHUNK = 1 << 20
# A tar header may declare any size; a file larger than this is refused as hostile.
MAX_MEMBER = 1 << 40
# A tar header costs 512 bytes, so a 1 GB layer holds at most ~2M entries.
MAX_ENTRIES = 2_000_000
# Real tars pad to a 10 KiB record; megabytes after the end marker are an attack.
MAX_TRAILING = 16 << 20
# Kept content of small metadata files, per layer.
MAX_CAPTURE_TOTAL = 64 << 20

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
FORMAT_VERSION = 1

HashName = Literal["sha256", "xxh3"]
# path -> how many bytes of it to keep (0: none); called for regular files only.
Capture = Callable[[str], int]


def default_hash() -> HashName:
    """xxh3 is 10-16x sha256; it only compares files, never verifies them."""
    return "xxh3"


@dataclass(frozen=True, slots=True)
class Captured:
    """The first bytes of a small file a caller asked to keep (``truncated`` if not all)."""

    path: str
    data: bytes
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class LayerDelta:
    """One layer's changes. ``size`` is docker's size of the layer (docker-formats.md §3.4)."""

    entries: tuple[Entry, ...] = ()
    whiteouts: tuple[str, ...] = ()
    opaques: tuple[str, ...] = ()
    unsafe: tuple[Unsafe, ...] = ()
    captured: tuple[Captured, ...] = ()
    size: int = 0
    hash: str = ""

    def to_bytes(self) -> bytes:
        """A stable encoding for the per-layer store (keyed by diff_id)."""
        return msgspec.json.encode({"v": FORMAT_VERSION, "delta": self})

    @staticmethod
    def from_bytes(data: bytes) -> LayerDelta | None:
        """The delta encoded by :meth:`to_bytes`, or None for another format version."""
        try:
            doc = msgspec.json.decode(data, type=_Stored)
        except msgspec.DecodeError:
            return None
        return doc.delta if doc.v == FORMAT_VERSION else None


class _Stored(msgspec.Struct):
    v: int
    delta: LayerDelta


def _hasher(name: HashName | None) -> Callable[[], Any] | None:
    if name is None:
        return None
    if name == "xxh3":
        return xxhash.xxh3_128
    return hashlib.sha256


def _kind(member: tarfile.TarInfo) -> Kind:
    if member.isreg():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    return "other"


class _Reader:
    def __init__(self, hash: HashName | None, capture: Capture | None, strict: bool, what: str):
        self.new_hash = _hasher(hash)
        self.hash = hash or ""
        self.capture = capture
        self.strict = strict
        self.what = what
        self.entries: list[Entry] = []
        self.whiteouts: list[str] = []
        self.opaques: list[str] = []
        self.unsafe: list[Unsafe] = []
        self.captured: list[Captured] = []
        self.captured_bytes = 0
        self.size = 0

    def flag(self, name: str, reason: str, action: Literal["dropped", "rewritten", "kept"]) -> None:
        if self.strict:
            raise UnsafeLayer(f"{self.what}: unsafe entry {name!r}: {reason}")
        self.unsafe.append(Unsafe(name, reason, action))

    def member(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        if m.size > MAX_MEMBER or m.size < 0:
            raise UnsafeLayer(f"{self.what}: tar header declares a {m.size}-byte file")
        path, problem = clean(m.name)
        if path is None:
            self.flag(m.name, problem, "dropped")
            return
        if problem:
            self.flag(m.name, problem, "rewritten")
        base = path.rpartition("/")[2]
        if base.startswith(WHITEOUT):
            self.whiteout(m.name, path, base)
            return
        if path == "":
            return  # the root itself ("./"): docker keeps the root's own metadata
        kind = _kind(m)
        link = ""
        if kind == "hardlink":
            target, why = clean(m.linkname)
            if target is None or target == "":
                self.flag(m.name, f"hardlink {why or 'to the root'}", "dropped")
                return
            link = target
        elif kind == "symlink":
            link = m.linkname
            self.size += len(link.encode("utf-8", "surrogateescape"))
            if symlink_escapes(path, link):
                self.flag(m.name, "symlink target escapes the root", "kept")
        digest = ""
        if kind == "file":
            self.size += m.size
            digest = self.content(tar, m, path)
        self.entries.append(
            Entry(
                path,
                kind,
                m.size if kind == "file" else 0,
                m.mode & 0o7777,
                m.uid,
                m.gid,
                link,
                digest,
            )
        )
        if len(self.entries) > MAX_ENTRIES:
            raise UnsafeLayer(f"{self.what}: more than {MAX_ENTRIES} entries")

    def whiteout(self, name: str, path: str, base: str) -> None:
        if base == OPAQUE:
            self.opaques.append(parent(path))
            return
        if base.startswith(WHITEOUT + WHITEOUT):
            return  # aufs bookkeeping (.wh..wh.plnk and friends), not a deletion
        target = base[len(WHITEOUT) :]
        if target in ("", ".", ".."):
            self.flag(name, "whiteout of no name", "dropped")
            return
        self.whiteouts.append(f"{parent(path)}/{target}" if parent(path) else target)

    def content(self, tar: tarfile.TarFile, m: tarfile.TarInfo, path: str) -> str:
        keep = self.capture(path) if self.capture is not None else 0
        keep = max(0, min(keep, MAX_CAPTURE_TOTAL - self.captured_bytes))
        if m.size == 0 or (self.new_hash is None and keep == 0):
            if keep and m.size == 0:
                self.captured.append(Captured(path, b""))
            return self.empty_digest() if m.size == 0 else ""
        h = self.new_hash() if self.new_hash is not None else None
        kept: list[bytes] = []
        held = 0
        f = tar.extractfile(m)
        assert f is not None
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            if h is not None:
                h.update(chunk)
            if held < keep:
                kept.append(chunk[: keep - held])
                held += len(kept[-1])
            elif h is None:
                break  # nothing more to learn; tarfile skips the rest
        if keep:
            data = b"".join(kept)
            self.captured.append(Captured(path, data, truncated=m.size > len(data)))
            self.captured_bytes += len(data)
        return f"{self.hash}:{h.hexdigest()}" if h is not None else ""

    def empty_digest(self) -> str:
        if self.new_hash is None:
            return ""
        return f"{self.hash}:{self.new_hash().hexdigest()}"

    def result(self) -> LayerDelta:
        return LayerDelta(
            tuple(self.entries),
            tuple(self.whiteouts),
            tuple(self.opaques),
            tuple(self.unsafe),
            tuple(self.captured),
            self.size,
            self.hash,
        )


class _Forward:
    """A forward-only "seekable" view of a stream, so tarfile can skip file data cheaply.

    tarfile's stream mode (``r|``) re-slices its whole buffer on every small read, which
    costs a megabyte copy per tar header; its file mode (``r:``) only ever seeks forward
    when members are read in order, which this view does by reading and discarding.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.pos = 0

    def read(self, n: int | None = -1) -> bytes:
        data = self.raw.read(n if n is not None and n >= 0 else -1)
        self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self.pos + offset
        if whence not in (0, 1) or target < self.pos:
            raise tarfile.ReadError("cannot seek backwards in a layer stream")
        while self.pos < target:
            chunk = self.raw.read(min(CHUNK, target - self.pos))
            if not chunk:
                break
            self.pos += len(chunk)
        return self.pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


def read_delta(
    stream: BinaryIO,
    *,
    hash: HashName | None = None,
    capture: Capture | None = None,
    strict: bool = False,
    what: str = "layer",
) -> LayerDelta:
    """Read one uncompressed layer tar from ``stream``, once, front to back.

    ``hash`` names the digest of file data to record (none by default). ``capture`` says
    which files' content to keep and how much of it. Unsafe names (absolute, ``..``,
    hardlinks or symlinks leaving the root) are neutralised and listed in
    ``LayerDelta.unsafe``; with ``strict`` the first one raises :class:`UnsafeLayer`.
    The stream is read to its end, so a verifying reader can check the layer's digest.
    """
    reader = _Reader(hash, capture, strict, what)
    try:
        with tarfile.open(fileobj=_Forward(stream), mode="r:") as tar:  # type: ignore[call-overload]
            while (m := tar.next()) is not None:
                reader.member(tar, m)
                tar.members.clear()  # tarfile keeps every header it read; we need none
    except tarfile.TarError as exc:
        raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
    except EOFError as exc:
        raise CorruptImage(f"{what}: truncated tar stream") from exc
    trailing = 0
    while chunk := stream.read(CHUNK):
        trailing += len(chunk)
        if trailing > MAX_TRAILING:
            raise UnsafeLayer(f"{what}: more than {MAX_TRAILING} bytes after the end of the tar")
    return reader.result()
