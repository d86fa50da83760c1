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
import shutil
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import IO

from deadweight import scratch
from deadweight.filetree.paths import clean
from deadweight.filetree.tree import Tree
from deadweight.image import Image
from deadweight.minify.elf import ElfInfo, read_elf
from deadweight.progress import Progress
from deadweight.streams import CHUNK, Window, as_file

MAX_SCRIPT = 1 << 20  # a #! script larger than this is kept but not read
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

    def add(self, paths: list[str], src: IO[bytes], head: bytes) -> None:
        spool = self._spool
        spool.seek(0, 2)
        start = spool.tell()
        spool.write(head)
        shutil.copyfileobj(src, spool, CHUNK)
        for path in paths:
            self._where[path] = (start, spool.tell() - start)
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
    with image.layers[index].open() as stream:
        with tarfile.open(fileobj=as_file(stream), mode="r|", bufsize=CHUNK) as tar:
            for member in tar:
                name, _ = clean(member.name)
                if name is None or name not in names or not member.isreg():
                    continue
                src = tar.extractfile(member)
                assert src is not None
                head = src.read(4)
                paths = names[name]
                for path in paths:  # a later member of the same name replaces this one
                    elf.discard(path)
                    texts.pop(path, None)
                if head == b"\x7fELF":
                    elf.add(paths, src, head)
                    continue
                meta = _META.search(name) is not None
                limit = MAX_META if meta else MAX_SCRIPT
                if (meta or head[:2] == b"#!" or name.endswith(".sh")) and member.size <= limit:
                    data = head + src.read(limit)
                    texts.update(dict.fromkeys(paths, data))
        while stream.read(CHUNK):  # to the end, so the layer's digest is verified
            pass
