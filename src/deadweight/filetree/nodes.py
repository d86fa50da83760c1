"""The merged tree's records, kept small: a node refers to its layer's entry instead of
copying its fields, and inodes are columns rather than an object each.

A layer of a million files (issue 16) made a node of eleven fields (120 bytes), an inode
object and two map entries per file beside the entry that already held the same fields;
the stacking of such a layer took about 380 bytes a file. Here a node is three fields
(40 bytes, untracked by the cycle collector) and an inode 24 bytes of arrays and a list;
an :class:`Inode` is made when one is asked for.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import msgspec

from deadweight.filetree.entry import Entry, Kind


class Node(msgspec.Struct, gc=False):
    """A path of the merged tree: its entry, the layer that wrote it, and its inode.

    For a hardlink, ``size`` and ``digest`` are those of the file it names (its inode's
    content); ``inode`` is -1 for directories and other objects that hold no bytes;
    ``implicit`` for a directory no tar listed (an :class:`ImplicitNode`). Never mutated;
    equal and hashed by its fields. A msgspec struct the cycle collector does not track
    (it refers to its entry and, for a hardlink, an older node: no cycle): 40 bytes where
    a slotted class took 56 (issue 16).
    """

    entry: Entry
    layer: int
    inode: int = -1
    implicit: ClassVar[bool] = False

    @property
    def path(self) -> str:
        return self.entry.path

    @property
    def kind(self) -> Kind:
        return self.entry.kind

    @property
    def size(self) -> int:
        return self.entry.size

    @property
    def mode(self) -> int:
        return self.entry.mode

    @property
    def uid(self) -> int:
        return self.entry.uid

    @property
    def gid(self) -> int:
        return self.entry.gid

    @property
    def link(self) -> str:
        return self.entry.link

    @property
    def digest(self) -> str:
        return self.entry.digest

    def _fields(self) -> tuple[object, ...]:
        return (self.path, self.kind, self.size, self.mode, self.uid, self.gid, self.link,
                self.digest, self.layer, self.inode, self.implicit)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        names = ("path", "kind", "size", "mode", "uid", "gid", "link", "digest", "layer",
                 "inode", "implicit")  # fmt: skip
        shown = ", ".join(f"{k}={v!r}" for k, v in zip(names, self._fields(), strict=True))
        return f"Node({shown})"


class ImplicitNode(Node, gc=False):
    """A directory no tar listed: made for the parents of a path."""

    implicit: ClassVar[bool] = True


class LinkNode(Node, gc=False):
    """A hardlink to a file seen: its size and digest are the file's (``target``)."""

    target: Node | None = None  # always given; a default only because ``inode`` has one

    @property
    def size(self) -> int:
        assert self.target is not None
        return self.target.size

    @property
    def digest(self) -> str:
        assert self.target is not None
        return self.target.digest


# Not frozen: a frozen dataclass sets each field through object.__setattr__, 6x the cost
# of a plain one. Never mutated; hashable.
@dataclass(slots=True, unsafe_hash=True)
class Inode:
    """Bytes as docker counts them: a file's length or a symlink's target length."""

    bytes: int
    layer: int
    path: str


class Inodes(Mapping[int, Inode]):
    """inode number -> :class:`Inode`, numbered from 0 in the order they are added, kept
    as three columns, and how many names still refer to each (``refs``)."""

    __slots__ = ("held", "layers", "paths", "refs")

    def __init__(self) -> None:
        self.held = array("q")
        self.layers = array("i")
        self.paths: list[str] = []
        self.refs = Refs()

    def add(self, held: int, layer: int, path: str) -> int:
        """A new inode with one name; its number."""
        number = len(self.paths)
        self.held.append(held)
        self.layers.append(layer)
        self.paths.append(path)
        self.refs.counts.append(1)
        return number

    def __getitem__(self, inode: int) -> Inode:
        if not isinstance(inode, int) or not 0 <= inode < len(self.paths):
            raise KeyError(inode)
        return Inode(self.held[inode], self.layers[inode], self.paths[inode])

    def __contains__(self, inode: object) -> bool:
        return isinstance(inode, int) and 0 <= inode < len(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.paths)))

    def copy(self) -> Inodes:
        new = Inodes()
        new.held, new.layers, new.paths = (
            array("q", self.held),
            array("i", self.layers),
            [*self.paths],
        )
        new.refs = self.refs.copy()
        return new


class Refs:
    """How many live names each inode has; an inode with none is not ``in`` it."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts = array("i")

    def __contains__(self, inode: object) -> bool:
        counts = self.counts
        return isinstance(inode, int) and 0 <= inode < len(counts) and counts[inode] > 0

    def __getitem__(self, inode: int) -> int:
        if inode not in self:
            raise KeyError(inode)
        return self.counts[inode]

    def __setitem__(self, inode: int, count: int) -> None:
        self.counts[inode] = count

    def __delitem__(self, inode: int) -> None:
        self.counts[inode] = 0

    def __len__(self) -> int:
        return sum(1 for n in self.counts if n > 0)

    def copy(self) -> Refs:
        new = Refs()
        new.counts = array("i", self.counts)
        return new
