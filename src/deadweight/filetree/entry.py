"""One file system object as a layer tar records it, with its path made safe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

Kind = Literal["file", "dir", "symlink", "hardlink", "other"]


class Entry(msgspec.Struct, array_like=True, gc=False):
    """A tar member of a layer, after its path has been normalised.

    ``path`` is relative to the image root, without a leading slash (``usr/bin/env``).
    ``size`` is the length of a regular file's data; 0 for every other kind. ``link`` is a
    symlink's target as written, or a hardlink's target path (normalised like ``path``).
    ``digest`` is ``ALGO:HEX`` of the file data when the reader was asked to hash, else "".

    A msgspec struct, encoded as an array (a layer's store record holds no field names)
    and not tracked by the cycle collector (it holds strings and numbers only): 80 bytes
    where a slotted dataclass took 96, and a layer of a million files 75 MB to pass from
    the helper that read it instead of 133 (issue 16). Never mutated but by
    ``delta.shared``; hashable.
    """

    path: str
    kind: Kind
    size: int = 0
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link: str = ""
    digest: str = ""

    def __hash__(self) -> int:
        return hash((self.path, self.kind, self.size, self.mode, self.uid, self.gid, self.link,
                     self.digest))  # fmt: skip

    @property
    def link_bytes(self) -> int:
        """Docker counts a symlink by the byte length of its target (docker-formats.md §3.4)."""
        if self.kind != "symlink":
            return 0
        return len(self.link.encode("utf-8", "surrogateescape"))


@dataclass(frozen=True, slots=True)
class Unsafe:
    """An entry that tried to leave the root, and what the reader did with it."""

    name: str
    reason: str
    action: Literal["dropped", "rewritten", "kept"]
