"""One streaming pass over each layer for what deciding the keep set needs from file
contents: the loader facts of every live ELF file, the text of scripts, and the package
managers' and the loader's metadata.

Only files that are live in the merged tree are looked at (a file a later layer replaced
is skipped), and only the layers that hold such files are read. An ELF file (an executable
file, or one named like a library: ``*.so*``, a node addon ``*.node``, that starts with the
ELF magic) is copied to one temporary file (unlinked at once, on disk, never in memory);
pyelftools reads it from there only when the closure reaches it: parsing every ELF file of
a large image would cost more than reading the image (tens of milliseconds each).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import IO

from deadweight import scratch
from deadweight.errors import CorruptImage
from deadweight.filetree.paths import clean
from deadweight.filetree.tarstream import BLOCK, HEADER_ONLY, TarError, TarStream
from deadweight.filetree.tree import Tree
from deadweight.image import Image
from deadweight.minify.elf import ElfInfo, read_elf
from deadweight.progress import Progress
from deadweight.streams import CHUNK, Window

MAX_SCRIPT = 1 << 20  # a #! script larger than this is kept but not read
_REGULAR = (b"0", b"7", b"S")  # regular files (a sparse one is passed over)
MAX_META = 32 << 20
# Metadata read whole: the package databases, the loader's configuration, passwd.
_META = re.compile(
    r"^(?:var/lib/dpkg/status|var/lib/dpkg/info/[^/]+\.list|lib/apk/db/installed"
    r"|etc/ld\.so\.conf|etc/ld\.so\.conf\.d/[^/]+|etc/ld-musl-[^/]+\.path|etc/passwd)$"
    r"|(?:^|/)package\.json$|(?:^|/)package-lock\.json$"
    r"|\.dist-info/(?:RECORD|METADATA)$"
)


class ElfFiles(Mapping[str, ElfInfo]):
    """The ELF files of a tree, by tree path, read with pyelftools on first use from the
    temporary file that holds their bytes. A file pyelftools cannot read is not in it."""

    def __init__(self) -> None:
        # unlinked at once and closed with this object: nothing is left on disk
        self._spool: IO[bytes] = scratch.unnamed()[0]
        self._where: dict[str, tuple[int, int]] = {}
        self._info: dict[str, ElfInfo | None] = {}

    def start(self) -> int:
        """Where the next file's bytes go: write them with :meth:`write`, then :meth:`add`."""
        self._spool.seek(0, 2)
        return self._spool.tell()

    def write(self, piece: memoryview | bytes) -> None:
        self._spool.write(piece)

    def add(self, paths: list[str], start: int) -> None:
        """The file written since ``start``, under each of ``paths``."""
        end = self._spool.tell()
        for path in paths:
            self._where[path] = (start, end - start)
            self._info.pop(path, None)

    def discard(self, path: str) -> None:
        self._where.pop(path, None)
        self._info.pop(path, None)

    def magic(self, path: str) -> bool:
        """Whether ``path`` starts with the ELF magic (read or not)."""
        return path in self._where

    def get(self, path: str, default: ElfInfo | None = None) -> ElfInfo | None:  # type: ignore[override]
        if path not in self._info:
            where = self._where.get(path)
            if where is None:
                return default
            self._spool.flush()
            self._info[path] = read_elf(io.BufferedReader(Window(self._spool, *where)))
        found = self._info[path]
        return default if found is None else found

    def __getitem__(self, path: str) -> ElfInfo:
        found = self.get(path)
        if found is None:
            raise KeyError(path)
        return found

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path) is not None

    def __iter__(self) -> Iterator[str]:
        return iter([p for p in self._where if self.get(p) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True, slots=True)
class Scan:
    """Per live tree path: ``elf`` facts of ELF files, ``texts`` of scripts and metadata."""

    elf: ElfFiles
    texts: Mapping[str, bytes]

    def read(self, path: str) -> bytes | None:
        """What ``analysis.entrypoint`` asks: a script's text, or an ELF file's magic."""
        if self.elf.magic(path):
            return b"\x7fELF"
        return self.texts.get(path)


def _elf_candidate(path: str, mode: int) -> bool:
    base = path.rpartition("/")[2]
    return bool(mode & 0o111) or ".so" in base or base.endswith(".node")


def scan(image: Image, tree: Tree, *, progress: Progress | None = None) -> Scan:
    """Read what :class:`Scan` holds from ``image``, whose merged file system is ``tree``."""
    # the member that holds each live inode's bytes: (layer, path in that layer)
    want: dict[int, dict[str, list[str]]] = {}
    for path, node in tree.nodes.items():
        if node.kind not in ("file", "hardlink") or node.inode < 0:
            continue
        if not (_META.search(path) or _elf_candidate(path, node.mode) or path.endswith(".sh")):
            continue
        inode = tree.inodes[node.inode]
        want.setdefault(inode.layer, {}).setdefault(inode.path, []).append(path)
    elf = ElfFiles()
    texts: dict[str, bytes] = {}
    layers = sorted(want)
    for done, index in enumerate(layers):
        _read_layer(image, index, want[index], elf, texts)
        if progress is not None:
            progress(done + 1, len(layers))
    return Scan(elf, MappingProxyType(texts))


def _read_layer(
    image: Image,
    index: int,
    names: Mapping[str, list[str]],
    elf: ElfFiles,
    texts: dict[str, bytes],
) -> None:
    layer = image.layers[index]
    what = f"layer {layer.diff_id[:19]}"
    with layer.open() as stream:
        tar = TarStream(stream, what)
        try:
            while (m := tar.next()) is not None:
                size = 0 if m.type in HEADER_ONLY else m.size
                name, _ = clean(m.name)
                if name is None or name not in names or m.type not in _REGULAR or m.sparse:
                    tar.skip(size + (-size % BLOCK))
                    continue
                paths = names[name]
                for path in paths:  # a later member of the same name replaces this one
                    elf.discard(path)
                    texts.pop(path, None)
                kept = _Kept(name, size, elf)
                tar.stream_into(size, kept.take)
                tar.pad(size)
                kept.keep(paths, texts)
        except TarError as exc:
            raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
        while stream.read(CHUNK):  # to the end, so the layer's digest is verified
            pass


class _Kept:
    """What the scan keeps of one wanted file, fed piece by piece: an ELF file's bytes go
    to the spool, a script's or a metadata file's text (up to its limit) is kept, the
    rest passes. The first four bytes decide."""

    def __init__(self, name: str, size: int, elf: ElfFiles) -> None:
        meta = _META.search(name) is not None
        self.named = (meta or name.endswith(".sh")) and size <= (MAX_META if meta else MAX_SCRIPT)
        self.small = size <= MAX_SCRIPT  # a #! script is read when it is no larger
        self.elf = elf
        self.head = b""
        self.kind = ""  # "elf", "text" or "none", once the head is in
        self.start = 0
        self.text: list[bytes] = []

    def take(self, piece: memoryview | bytes) -> None:
        if not self.kind:
            wanted = 4 - len(self.head)
            self.head += bytes(piece[:wanted])
            piece = piece[wanted:]
            if len(self.head) < 4:
                return  # a head split between pieces: the rest comes next
            self._decide()
        if self.kind == "elf":
            self.elf.write(piece)
        elif self.kind == "text":
            self.text.append(bytes(piece))

    def _decide(self) -> None:
        if self.head == b"\x7fELF":
            self.kind = "elf"
            self.start = self.elf.start()
            self.elf.write(self.head)
        elif self.named or (self.head[:2] == b"#!" and self.small):
            self.kind = "text"
            self.text.append(self.head)
        else:
            self.kind = "none"

    def keep(self, paths: list[str], texts: dict[str, bytes]) -> None:
        if not self.kind:
            self._decide()  # a file shorter than four bytes
        if self.kind == "elf":
            self.elf.add(paths, self.start)
        elif self.kind == "text":
            texts.update(dict.fromkeys(paths, b"".join(self.text)))
