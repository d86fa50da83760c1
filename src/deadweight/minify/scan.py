"""One streaming pass over each layer for what deciding the keep set needs from file
contents: the loader facts of every live ELF file, the text of scripts, and the package
managers' and the loader's metadata.

Only files that are live in the merged tree are looked at (a file a later layer replaced
is skipped), and only the layers that hold such files are read. An ELF candidate (an
executable file, or one named like a library: ``*.so*``, a node addon ``*.node``) is spooled
for pyelftools to a ``SpooledTemporaryFile``: in memory up to :data:`SPOOL_MEMORY`, on disk
above it, so no layer or big file is ever held whole in memory.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from deadweight.filetree.paths import clean
from deadweight.filetree.tree import Tree
from deadweight.image import Image
from deadweight.minify.elf import ElfInfo, read_elf

CHUNK = 1 << 20
SPOOL_MEMORY = 16 << 20
MAX_SCRIPT = 1 << 20  # a #! script larger than this is kept but not read
MAX_META = 32 << 20
# Metadata read whole: the package databases, the loader's configuration, passwd.
_META = re.compile(
    r"^(?:var/lib/dpkg/status|var/lib/dpkg/info/[^/]+\.list|lib/apk/db/installed"
    r"|etc/ld\.so\.conf|etc/ld\.so\.conf\.d/[^/]+|etc/ld-musl-[^/]+\.path|etc/passwd)$"
    r"|(?:^|/)package\.json$|(?:^|/)package-lock\.json$"
    r"|\.dist-info/(?:RECORD|METADATA)$"
)


@dataclass(frozen=True, slots=True)
class Scan:
    """Per live tree path: ``elf`` facts of ELF files, ``texts`` of scripts and metadata."""

    elf: Mapping[str, ElfInfo]
    texts: Mapping[str, bytes]

    def read(self, path: str) -> bytes | None:
        """What ``analysis.entrypoint`` asks: a script's text, or an ELF file's magic."""
        if path in self.elf:
            return b"\x7fELF"
        return self.texts.get(path)


def _elf_candidate(path: str, mode: int) -> bool:
    base = path.rpartition("/")[2]
    return bool(mode & 0o111) or ".so" in base or base.endswith(".node")


def scan(image: Image, tree: Tree, *, progress: Callable[..., None] | None = None) -> Scan:
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
    elf: dict[str, ElfInfo] = {}
    texts: dict[str, bytes] = {}
    layers = sorted(want)
    for done, index in enumerate(layers):
        _read_layer(image, index, want[index], elf, texts)
        if progress is not None:
            progress("scan", done + 1, len(layers))
    return Scan(MappingProxyType(elf), MappingProxyType(texts))


def _read_layer(
    image: Image,
    index: int,
    names: Mapping[str, list[str]],
    elf: dict[str, ElfInfo],
    texts: dict[str, bytes],
) -> None:
    with image.layers[index].open() as stream:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                name, _ = clean(member.name)
                if name is None or name not in names or not member.isreg():
                    continue
                src = tar.extractfile(member)
                assert src is not None
                head = src.read(4)
                paths = names[name]
                for path in paths:  # a later member of the same name replaces this one
                    elf.pop(path, None)
                    texts.pop(path, None)
                if head == b"\x7fELF":
                    with tempfile.SpooledTemporaryFile(SPOOL_MEMORY) as spool:
                        spool.write(head)
                        shutil.copyfileobj(src, spool, CHUNK)
                        spool.seek(0)
                        info = read_elf(spool)
                    if info is not None:
                        elf.update(dict.fromkeys(paths, info))
                    continue
                meta = _META.search(name) is not None
                limit = MAX_META if meta else MAX_SCRIPT
                if (meta or head[:2] == b"#!" or name.endswith(".sh")) and member.size <= limit:
                    data = head + src.read(limit)
                    texts.update(dict.fromkeys(paths, data))
        while stream.read(CHUNK):  # to the end, so the layer's digest is verified
            pass
