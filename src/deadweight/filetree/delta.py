"""What one layer does to the file system, read in one streaming pass over its tar.

A layer tar (OCI image-spec layer.md, "Representing Changes") adds or changes entries,
deletes lower ones with ``DIR/.wh.NAME`` whiteouts and hides every lower child of a
directory with ``DIR/.wh..wh..opq``. :func:`read_delta` turns the tar into a
:class:`LayerDelta`: entries in tar order, whiteouts, opaque directories, the unsafe names
it neutralised, and the content of the few small files a caller asked to keep.
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import xxhash

from deadweight import limits
from deadweight.errors import CorruptImage, UnsafeLayer
from deadweight.filetree.entry import Entry, Kind, Unsafe
from deadweight.filetree.paths import clean, parent, symlink_escapes
from deadweight.filetree.tarstream import (
    BLOCK,
    HEADER_ONLY,
    Member,
    TarError,
    TarStream,
)
from deadweight.streams import CHUNK, ByteStream

# A tar header may declare any size; a file larger than this is refused as hostile.
MAX_MEMBER = limits.TAR_MEMBER
# A tar header costs 512 bytes, so a 1 GB layer holds at most ~2M entries.
MAX_ENTRIES = limits.TAR_ENTRIES
# Real tars pad to a 10 KiB record; megabytes after the end marker are an attack.
MAX_TRAILING = limits.TAR_TRAILING
# Kept content of small metadata files, per layer.
MAX_CAPTURE_TOTAL = limits.TAR_CAPTURE_TOTAL

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
FORMAT_VERSION = 2  # 2: entries as arrays (issue 16)

HashName = Literal["sha256", "xxh3"]
# path -> how many bytes of it to keep (0: none); called for regular files only.
Capture = Callable[[str], int]
# Takes a batch of a layer's entries as they are read (``read_delta(sink=...)``); the list
# is the sink's to keep.
Sink = Callable[[list[Entry]], None]
# Entries handed to a sink at a time.
SINK_BATCH = 4096


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

    entries: Sequence[Entry] = ()
    whiteouts: tuple[str, ...] = ()
    opaques: tuple[str, ...] = ()
    unsafe: tuple[Unsafe, ...] = ()
    captured: tuple[Captured, ...] = ()
    size: int = 0
    hash: str = ""

    @property
    def members(self) -> int:
        """How many tar members the layer's changes are: entries, whiteouts and opaque
        markers (what stacking it costs)."""
        return len(self.entries) + len(self.whiteouts) + len(self.opaques)

    def to_bytes(self) -> bytes:
        """A stable encoding for the per-layer store (keyed by diff_id)."""
        return msgspec.json.encode({"v": FORMAT_VERSION, "delta": self}, enc_hook=_listed)

    @staticmethod
    def from_bytes(data: bytes | bytearray | memoryview | mmap.mmap) -> LayerDelta | None:
        """The delta encoded by :meth:`to_bytes` (in any buffer: bytes, or a map of the
        file holding them), or None for another format version or a damaged record;
        decoded a batch of entries at a time (:mod:`deadweight.filetree.record`)."""
        from deadweight.filetree.record import decode

        return decode(data)


def _listed(value: object) -> list[Any]:
    """Entries of another ``Sequence`` than a tuple (``record.StoredEntries``, decoded as
    they are iterated), encoded as a list of them (msgspec knows tuples and lists only)."""
    if isinstance(value, Sequence):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def shared(entries: tuple[Entry, ...]) -> None:
    """Equal modes, and the digests of empty files, made one object each.

    A decoder makes a new object of every one: an int for each mode (above 256, Python
    keeps no shared copy) and a digest string for each empty file, 120 of the 280 bytes
    an entry of a layer of a million empty files held (issue 16)."""
    Sharing().share(entries)


class Sharing:
    """:func:`shared` over entries that come a batch at a time."""

    def __init__(self) -> None:
        self._modes: dict[int, int] = {}
        self._empty: dict[str, str] = {}

    def share(self, entries: tuple[Entry, ...] | list[Entry]) -> None:
        modes, empty = self._modes, self._empty
        for entry in entries:
            mode = entry.mode
            entry.mode = modes.setdefault(mode, mode)
            if entry.size == 0 and entry.digest:
                digest = entry.digest
                entry.digest = empty.setdefault(digest, digest)


def _hasher(name: HashName | None) -> Callable[[], Any] | None:
    if name is None:
        return None
    if name == "xxh3":
        return xxhash.xxh3_128
    return hashlib.sha256


def _sha256_hex(data: memoryview | bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_ONE_SHOT: dict[str, Callable[[memoryview | bytes], str]] = {
    "xxh3": xxhash.xxh3_128_hexdigest,
    "sha256": _sha256_hex,
}
_KINDS: dict[bytes, Kind] = {
    b"0": "file",
    b"7": "file",  # contiguous file: a regular file everywhere but on Masscomp
    b"S": "file",  # GNU sparse
    b"1": "hardlink",
    b"2": "symlink",
    b"5": "dir",
}


def kind_of(type_: bytes) -> Kind:
    """The kind of entry a member of tar type ``type_`` makes."""
    return _KINDS.get(type_, "other")


Marker = Literal["opaque", "whiteout", "aufs", "nameless"]


def marked(path: str, base: str) -> tuple[Marker, str]:
    """What the marker at ``path`` (whose last component ``base`` starts with ``.wh.``)
    hides from lower layers: ``("opaque", dir)``, everything below ``dir``;
    ``("whiteout", path)``, that path; ``("aufs", "")``, nothing (``.wh..wh.plnk`` and
    friends are aufs bookkeeping); ``("nameless", "")``, nothing (a whiteout of no name)."""
    if base == OPAQUE:
        return "opaque", parent(path)
    if base.startswith(WHITEOUT + WHITEOUT):
        return "aufs", ""
    target = base[len(WHITEOUT) :]
    if target in ("", ".", ".."):
        return "nameless", ""
    return "whiteout", f"{parent(path)}/{target}" if parent(path) else target


class _Reader:
    def __init__(
        self,
        hash: HashName | None,
        capture: Capture | None,
        strict: bool,
        what: str,
        keep_entries: bool = True,
        sink: Sink | None = None,
    ):
        self.keep_entries = keep_entries
        self.sink = sink
        self.count = 0
        self.new_hash = _hasher(hash)
        self.one_shot = _ONE_SHOT[hash] if hash is not None else None
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
        # one string for every empty file: a layer of a million of them held a million
        # equal digests (issue 16)
        self.empty = f"{self.hash}:{self.one_shot(b'')}" if self.one_shot is not None else ""

    def flag(self, name: str, reason: str, action: Literal["dropped", "rewritten", "kept"]) -> None:
        if self.strict:
            raise UnsafeLayer(f"{self.what}: unsafe entry {name!r}: {reason}")
        self.unsafe.append(Unsafe(name, reason, action))

    def member(self, tar: TarStream, m: Member) -> None:
        """Record one member and consume its data (and padding) from ``tar``."""
        if m.size > MAX_MEMBER or m.size < 0 or m.real_size > MAX_MEMBER or m.real_size < 0:
            raise UnsafeLayer(
                f"{self.what}: tar header declares a {max(m.size, m.real_size)}-byte file"
            )
        data = 0 if m.type in HEADER_ONLY else m.size
        kind = _KINDS.get(m.type, "other")
        path, problem = clean(m.name)
        if path is None:
            self.flag(m.name, problem, "dropped")
            return self.skip(tar, data)
        if problem:
            self.flag(m.name, problem, "rewritten")
        if WHITEOUT in path:
            base = path.rpartition("/")[2]
            if base.startswith(WHITEOUT):
                self.whiteout(m.name, path, base)
                return self.skip(tar, data)
        if path == "":
            return self.skip(tar, data)  # the root itself ("./"): docker keeps its metadata
        link = ""
        if kind == "hardlink":
            target, why = clean(m.linkname)
            if target is None or target == "":
                self.flag(m.name, f"hardlink {why or 'to the root'}", "dropped")
                return self.skip(tar, data)
            link = target
        elif kind == "symlink":
            link = m.linkname
            self.size += len(link.encode("utf-8", "surrogateescape"))
            if symlink_escapes(path, link):
                self.flag(m.name, "symlink target escapes the root", "kept")
        digest = ""
        size = 0
        if kind == "file":
            size = m.real_size
            self.size += size
            digest = self.content(tar, m, path)
        else:
            self.skip(tar, data)
        if self.keep_entries:
            self.entries.append(
                Entry(path, kind, size, m.mode & 0o7777, m.uid, m.gid, link, digest)
            )
            if self.sink is not None and len(self.entries) >= SINK_BATCH:
                self.sink(self.entries)
                self.entries = []
        self.count += 1
        if self.count > MAX_ENTRIES:
            raise UnsafeLayer(f"{self.what}: more than {MAX_ENTRIES} entries")
        return None

    @staticmethod
    def skip(tar: TarStream, n: int) -> None:
        if n:
            tar.skip(n + (-n % BLOCK))

    def whiteout(self, name: str, path: str, base: str) -> None:
        kind, target = marked(path, base)
        if kind == "opaque":
            self.opaques.append(target)
        elif kind == "whiteout":
            self.whiteouts.append(target)
        elif kind == "nameless":
            self.flag(name, "whiteout of no name", "dropped")

    def content(self, tar: TarStream, m: Member, path: str) -> str:
        n = m.size
        keep = self.capture(path) if self.capture is not None else 0
        keep = max(0, min(keep, MAX_CAPTURE_TOTAL - self.captured_bytes))
        if m.sparse:  # stored regions only: neither comparable nor worth keeping
            self.skip(tar, n)
            return ""
        if n == 0:
            if keep:
                self.captured.append(Captured(path, b""))
            return self.empty_digest()
        if self.one_shot is None and keep == 0:
            self.skip(tar, n)
            return ""
        whole = tar.data(n)
        if whole is not None:  # the common case: the file lies in the buffer
            tar.pad(n)
            if keep:
                self.keep(path, bytes(whole[:keep]), n)
            return f"{self.hash}:{self.one_shot(whole)}" if self.one_shot is not None else ""
        h = self.new_hash() if self.new_hash is not None else None
        kept: list[bytes] = []
        held = 0

        def sink(chunk: memoryview | bytes) -> None:
            nonlocal held
            if h is not None:
                h.update(chunk)
            if held < keep:
                kept.append(bytes(chunk[: keep - held]))
                held += len(kept[-1])

        tar.stream_into(n, sink)
        tar.pad(n)
        if keep:
            self.keep(path, b"".join(kept), n)
        return f"{self.hash}:{h.hexdigest()}" if h is not None else ""

    def keep(self, path: str, data: bytes, size: int) -> None:
        self.captured.append(Captured(path, data, truncated=size > len(data)))
        self.captured_bytes += len(data)

    def empty_digest(self) -> str:
        return self.empty

    def result(self) -> LayerDelta:
        if self.sink is not None and self.entries:
            self.sink(self.entries)
            self.entries = []
        entries = tuple(self.entries)
        self.entries.clear()
        shared(entries)
        return LayerDelta(
            entries,
            tuple(self.whiteouts),
            tuple(self.opaques),
            tuple(self.unsafe),
            tuple(self.captured),
            self.size,
            self.hash,
        )


def read_delta(
    stream: ByteStream,
    *,
    hash: HashName | None = None,
    capture: Capture | None = None,
    strict: bool = False,
    what: str = "layer",
    entries: bool = True,
    sink: Sink | None = None,
) -> LayerDelta:
    """Read one uncompressed layer tar from ``stream``, once, front to back.

    ``hash`` names the digest of file data to record (none by default). ``capture`` says
    which files' content to keep and how much of it. Unsafe names (absolute, ``..``,
    hardlinks or symlinks leaving the root) are neutralised and listed in
    ``LayerDelta.unsafe``; with ``strict`` the first one raises :class:`UnsafeLayer`.
    The stream is read to its end, so a verifying reader can check the layer's digest.
    Without ``entries`` the delta lists none (its size and verdict are the same): for a
    caller that only wants the size, in flat memory. With ``sink``, the entries are handed
    to it in tar order, :data:`SINK_BATCH` at a time, and the delta lists none: a reader
    that writes them out as they come (the helper of ``deadweight.reading``) never holds
    them all (issue 16).
    """
    reader = _Reader(hash, capture, strict, what, entries, sink)
    source = stream
    tar = TarStream(source, what)
    try:
        while (m := tar.next()) is not None:
            reader.member(tar, m)
        trailing = len(tar.buf) - tar.pos
    except TarError as exc:
        raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
    while trailing <= MAX_TRAILING and (chunk := source.read(CHUNK)):
        trailing += len(chunk)
    if trailing > MAX_TRAILING:
        raise UnsafeLayer(f"{what}: more than {MAX_TRAILING} bytes after the end of the tar")
    return reader.result()
