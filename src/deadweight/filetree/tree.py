"""Stacking layer deltas into the merged file system, as overlayfs presents it.

Whiteouts and opaque markers hide what *lower* layers hold (OCI image-spec layer.md,
"Whiteouts": they apply before the layer's own entries, and never to entries of the same
layer). A non-directory replaces whatever was at its path, a whole directory included; a
directory over a directory only changes its metadata. Parents a tar omits are created as
directories, replacing a lower non-directory in the way.

Every node remembers the layer that wrote it and the *inode* that holds its bytes:
hardlinks share their target's inode, so bytes are counted once and are wasted only when
the last name of an inode is hidden. :class:`Stacker` reports each hidden node as a
:class:`Hidden` event; :func:`stack` keeps only the result.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from deadweight import limits
from deadweight.errors import UnsafeLayer
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.entry import Entry
from deadweight.filetree.nodes import ImplicitNode, Inode, Inodes, LinkNode, Node, Refs
from deadweight.filetree.paths import ROOT, parent

__all__ = ["Hidden", "Inode", "Node", "Stacker", "Tree", "stack", "stack_all"]

How = Literal["whiteout", "opaque", "replaced"]


# Not frozen: a frozen dataclass sets each field through object.__setattr__, 6x the cost
# of a plain one, and tens of thousands are built per layer. Never mutated; hashable.
@dataclass(slots=True, unsafe_hash=True)
class Hidden:
    """``node`` stopped being visible in layer ``by_layer``; ``last`` if its inode is gone."""

    node: Node
    by_layer: int
    how: How
    last: bool


@dataclass(frozen=True, slots=True)
class Tree:
    """A merged file system: path → node, with directories' children for walking."""

    nodes: Mapping[str, Node]
    inodes: Mapping[int, Inode] = field(default_factory=dict)
    _dir_sizes: list[dict[str, int]] = field(
        default_factory=list, repr=False, compare=False, hash=False
    )

    def __contains__(self, path: object) -> bool:
        return path in self.nodes

    def get(self, path: str) -> Node | None:
        return self.nodes.get(path)

    def files(self) -> Iterator[Node]:
        """Regular files (hardlinks to them included), in path order."""
        for path in sorted(self.nodes):
            node = self.nodes[path]
            if node.kind in ("file", "hardlink"):
                yield node

    def first_names(self) -> Iterator[tuple[str, Node]]:
        """Each live inode once, at its first path in path order, as (path, node).

        An inode with one name (nearly all) is yielded as it is met; only those with
        several names are held until the walk ends, to pick their first: a map of every
        inode took ~80 bytes a file of a million (issue 16)."""
        inodes, nodes = self.inodes, self.nodes
        names: array[int] | None = None
        if isinstance(inodes, Inodes):  # numbered from 0: how many names each has
            names = array("i", bytes(4 * len(inodes)))
            for node in nodes.values():
                if node.inode >= 0:
                    names[node.inode] += 1
        first: dict[int, tuple[str, Node]] = {}
        for path, node in nodes.items():
            inode = node.inode
            if inode < 0:
                continue
            if names is not None and names[inode] == 1:
                yield path, node
                continue
            seen = first.get(inode)
            if seen is None or path < seen[0]:
                first[inode] = (path, node)
        yield from first.values()

    def held(self, inode: int) -> int:
        """The bytes ``inode`` holds (read from the column, no :class:`Inode` made)."""
        inodes = self.inodes
        return inodes.held[inode] if isinstance(inodes, Inodes) else inodes[inode].bytes

    def dir_sizes(self) -> Mapping[str, int]:
        """Bytes below each directory ("" is the root), each inode counted once, at its
        first path in path order. Computed once per tree."""
        cached = self._dir_sizes
        if cached:
            return cached[0]
        # each inode into its directory, then each directory into its parent, deepest first
        totals: dict[str, int] = {}
        held = self.held
        for path, node in self.first_names():
            up = path.rpartition("/")[0]
            totals[up] = totals.get(up, 0) + held(node.inode)
        closed: set[str] = set()
        for d in list(totals):
            while d not in closed:
                closed.add(d)
                if not d:
                    break
                d = d.rpartition("/")[0]
                totals.setdefault(d, 0)
        for d in sorted(totals, key=lambda p: p.count("/") if p else -1, reverse=True):
            if d:
                totals[d.rpartition("/")[0]] += totals[d]
        cached.append(totals)
        return totals

    def size(self) -> int:
        """Docker's size of a squash of this tree: each live inode counted once."""
        held = self.held
        return sum(held(node.inode) for _, node in self.first_names())


class Stacker:
    """Applies deltas bottom-up; keeps the merged tree and inode reference counts.

    The children of each directory are indexed only once something needs them (a
    whiteout, an opaque directory or a replaced path): a layer that only adds never
    builds the index (issue 16: a set entry per path)."""

    def __init__(self, *, bounded: bool = True) -> None:
        self.nodes: dict[str, Node] = {}
        self.bounded = bounded  # refuse more than limits.IMAGE_ENTRIES members (apply)
        self._children: dict[str, set[str]] | None = None
        self.inodes = Inodes()
        self.layer = -1
        self.repeated: set[int] = set()  # layers that wrote some name more than once
        self.members = 0  # entries, whiteouts and opaque markers of the layers so far

    @property
    def refs(self) -> Refs:
        return self.inodes.refs

    @property
    def children(self) -> dict[str, set[str]]:
        """Directory -> the paths directly below it (built on first use, then kept)."""
        index = self._children
        if index is None:
            index = self._children = {ROOT: set()}
            for path, node in self.nodes.items():
                _index(index, path, path.rpartition("/")[0], node.kind)
        return index

    @children.setter
    def children(self, index: dict[str, set[str]]) -> None:
        self._children = index

    def fork(self, *, children: bool = False) -> Stacker:
        """An independent copy (nodes and inodes are never changed in place: the maps
        and the children sets are what a later layer changes); with ``children``, the
        children index is built first, so both keep it."""
        new = Stacker(bounded=self.bounded)
        new.nodes = dict(self.nodes)
        index = self.children if children else self._children
        if index is not None:
            new._children = {k: set(v) for k, v in index.items()}
        new.inodes = self.inodes.copy()
        new.layer = self.layer
        new.repeated = set(self.repeated)
        new.members = self.members
        return new

    def apply(self, delta: LayerDelta, implied: Iterable[str] = ()) -> list[Hidden]:
        """Stack one more layer; return what it hid, in the order it hid it.

        ``implied`` are directories the layer creates where they are missing, for paths
        below them that it writes but that this stacking is not given (a part of the
        image, :mod:`deadweight.filetree.partition`): made after the whiteouts, before the
        entries.

        Raises :class:`UnsafeLayer` once the layers stacked hold more than
        ``limits.IMAGE_ENTRIES`` members in all, unless made unbounded: the merged tree is
        held whole, a few hundred bytes a path, and no real image comes near (issue 16)."""
        self.members += delta.members
        if self.bounded:
            check_members(self.members)
        self.layer += 1
        hidden: list[Hidden] = []
        for path in delta.whiteouts:
            if path in self.nodes:
                self._remove(path, "whiteout", hidden)
        for path in delta.opaques:
            for child in sorted(self.children.get(path, ())):
                self._remove(child, "opaque", hidden)
        for path in sorted(implied):
            node = self.nodes.get(path)
            if node is None or node.kind != "dir":
                self._ensure_parents(path + "/\x00", hidden)
        for entry in delta.entries:
            self._add(entry, hidden)
        return hidden

    def tree(self, *, last: bool = False) -> Tree:
        """The merged tree so far; ``last``: the stacker is done with, so the tree takes its
        maps without copying them (two fewer maps of every path at once, issue 16)."""
        if not last:
            return Tree(MappingProxyType(dict(self.nodes)), self.inodes.copy())
        tree = Tree(MappingProxyType(self.nodes), self.inodes)
        self.nodes, self.inodes, self._children = {}, Inodes(), None
        return tree

    def _add(self, entry: Entry, hidden: list[Hidden]) -> None:
        # the hot loop of stacking: node, inode and children bookkeeping inlined
        path, kind, nodes = entry.path, entry.kind, self.nodes
        up = path.rpartition("/")[0]
        if up:
            above = nodes.get(up)
            if above is None or above.kind != "dir":
                self._ensure_parents(path, hidden)
        old = nodes.get(path)
        if old is not None:
            if old.layer == self.layer and not old.implicit:
                self.repeated.add(self.layer)
            if not (old.kind == "dir" and kind == "dir"):
                self._remove(path, "replaced", hidden)
        node: Node
        if kind == "file" or kind == "symlink":
            held = entry.size if kind == "file" else entry.link_bytes
            node = Node(entry, self.layer, self.inodes.add(held, self.layer, path))
        elif kind == "hardlink":
            target = nodes.get(entry.link)
            if target is not None and target.inode >= 0:
                node = LinkNode(entry, self.layer, target.inode, target)
                self.inodes.refs.counts[target.inode] += 1
            else:
                node = Node(entry, self.layer)
        else:
            node = Node(entry, self.layer)
        nodes[path] = node
        if self._children is not None:
            _index(self._children, path, up, kind)

    def _ensure_parents(self, path: str, hidden: list[Hidden]) -> None:
        missing: list[str] = []
        p = parent(path)
        while p != ROOT:
            node = self.nodes.get(p)
            if node is not None and node.kind == "dir":
                break
            missing.append(p)
            p = parent(p)
        for p in reversed(missing):
            if p in self.nodes:
                self._remove(p, "replaced", hidden)
            self._put(ImplicitNode(Entry(p, "dir", 0, 0o755), self.layer), parent(p))

    def _put(self, node: Node, up: str) -> None:
        path = node.path
        self.nodes[path] = node
        if self._children is not None:
            _index(self._children, path, up, node.kind)

    def _remove(self, path: str, how: How, hidden: list[Hidden]) -> None:
        """Hide ``path`` and everything below it, deepest first."""
        children = self.children
        for child in sorted(children.pop(path, ())):
            self._remove(child, how, hidden)
        node = self.nodes.pop(path)
        if node.layer == self.layer and not node.implicit:  # the name may come again
            self.repeated.add(self.layer)
        siblings = children.get(parent(path))
        if siblings is not None:
            siblings.discard(path)
        last = False
        if node.inode >= 0:
            counts = self.inodes.refs.counts
            counts[node.inode] -= 1
            last = counts[node.inode] == 0
        hidden.append(Hidden(node, self.layer, how, last))


def check_members(members: int) -> None:
    """Raise :class:`UnsafeLayer` for more than ``limits.IMAGE_ENTRIES`` members (entries,
    whiteouts and opaque markers) in an image's layers."""
    if members > limits.IMAGE_ENTRIES:
        raise UnsafeLayer(
            f"the image's layers hold more than {limits.IMAGE_ENTRIES:,} entries in all "
            "(deadweight.limits.IMAGE_ENTRIES): refused"
        )


def stack(deltas: Iterable[LayerDelta], *, bounded: bool = True) -> Tree:
    """The merged file system of ``deltas``, bottom layer first (``bounded``: see
    :meth:`Stacker.apply`)."""
    stacker = Stacker(bounded=bounded)
    for delta in deltas:
        stacker.apply(delta)
    return stacker.tree(last=True)


def stack_all(deltas: Sequence[LayerDelta]) -> list[Tree]:
    """The merged tree at every layer (``[i]`` is the file system after layer ``i``)."""
    stacker = Stacker()
    out = []
    for delta in deltas:
        stacker.apply(delta)
        out.append(stacker.tree())
    return out


def _index(index: dict[str, set[str]], path: str, up: str, kind: str) -> None:
    """Note ``path`` (of ``kind``) below the directory ``up`` in a children ``index``."""
    siblings = index.get(up)
    if siblings is None:
        siblings = index[up] = set()
    siblings.add(path)
    if kind == "dir" and path not in index:
        index[path] = set()
