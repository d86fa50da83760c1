"""What a squashed layer must hold: the entries, whiteouts and opaque markers that turn the
kept layers' file system into the original image's (minus the dropped paths).

Pure: it works on layer deltas only. The merged tree below the squash point and the merged
tree of the whole image are stacked with ``filetree.tree``; the squashed layer is their
difference (OCI image-spec layer.md, "Representing Changes"):

- every live node written at or above the squash point is emitted;
- a lower path that is gone needs a whiteout, unless its parent is gone or replaced too;
- a directory whose lower children are hidden gets one opaque marker instead of whiteouts,
  when nothing below it still comes from the kept layers;
- names of one inode (hardlinks) are emitted as one file, at the first name in path order,
  and hardlinks to it, so the target always precedes its links in the tar.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, overload

from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.paths import parent
from deadweight.filetree.tree import Inode, Node, Stacker, Tree

Action = Literal["copy", "data", "link", "implicit", "whiteout", "opaque"]


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of the squashed layer.

    ``copy``: the member at ``path`` in layer ``layer`` as it is (data included).
    ``data``: a regular file at ``path`` whose header and data are those of ``source`` in
    layer ``layer`` (the first name of an inode); a layer may hold a name more than once,
    so ``occurrence`` says which member. ``link``: a hardlink to ``source``, with
    the metadata of ``path`` in ``layer``. ``implicit``: a directory no tar listed.
    ``whiteout``/``opaque``: the markers for ``path``.
    """

    path: str
    action: Action
    layer: int = -1
    source: str = ""
    occurrence: int = 0  # of ``source`` among the members of that name in ``layer``


@dataclass(frozen=True, slots=True)
class Dropped:
    """A path ``drop`` removed, and the bytes that freed: its inode's bytes at the first
    dropped name (in path order) of an inode no kept name still uses, else 0."""

    path: str
    bytes: int
    layer: int


@dataclass(frozen=True, slots=True)
class Merge:
    """The squashed layer's items (sorted by path), and what was dropped from it."""

    items: Sequence[Item]
    dropped: tuple[Dropped, ...]

    @property
    def dropped_bytes(self) -> int:
        return sum(d.bytes for d in self.dropped)


@dataclass(frozen=True, slots=True)
class Stacking:
    """Layer deltas stacked once, for a squash above ``keep``: the file system of the kept
    layers (``lower``), the whole image's (``tree``), and where each inode was written."""

    keep: int
    lower: Mapping[str, Node]
    tree: Tree
    sources: InodeSources


def stacking(deltas: Sequence[LayerDelta], keep: int) -> Stacking:
    """Stack ``deltas`` once, noting the file system after the first ``keep`` of them."""
    stacker = Stacker()
    for delta in deltas[:keep]:
        stacker.apply(delta)
    lower = dict(stacker.nodes)
    for delta in deltas[keep:]:
        stacker.apply(delta)
    repeated = stacker.repeated
    tree = stacker.tree(last=True)
    return Stacking(keep, lower, tree, InodeSources(deltas, tree.inodes, repeated))


def _emitted_links(
    emitted: Sequence[Node],
    live: Mapping[str, Node],
    keep: int,
    full_inodes: InodeSources,
) -> list[Item | Node]:
    """Items for every file and hardlink of the squashed range, grouped by inode.

    Only an inode a hardlink names has more than one name: every other file is one item,
    made as it comes, and the groups (and the names still below ``keep``) are gathered for
    the linked inodes alone (a layer of a million files held a list and two map entries
    per file here, issue 16)."""
    linked = {n.inode for n in emitted if n.kind == "hardlink" and n.inode >= 0}
    groups: dict[int, list[Node]] = {}
    out: list[Item | Node] = []
    for node in emitted:
        kind, inode = node.kind, node.inode
        if kind != "file" and kind != "hardlink":
            continue
        if inode < 0:  # a hardlink whose target was never seen: kept as written
            out.append(Item(node.path, "link", node.layer, node.link))
        elif inode in linked:
            groups.setdefault(inode, []).append(node)
        elif kind == "file":  # its own inode's data: the node stands for the item (``Items``)
            out.append(node)
        else:
            src_layer, src_path, occurrence = full_inodes[inode]
            out.append(Item(node.path, "data", src_layer, src_path, occurrence))
    lower_live: dict[int, str] = {}  # the first name below ``keep`` of each linked inode
    if groups:
        for path, node in live.items():
            inode = node.inode
            held = node.layer < keep and inode in groups and node.kind in ("file", "hardlink")
            if held and (inode not in lower_live or path < lower_live[inode]):
                lower_live[inode] = path
    for inode, names in groups.items():
        names.sort(key=lambda n: n.path)
        kept = lower_live.get(inode)
        if kept is not None:  # the file itself is still there below: link to it
            out.extend(Item(n.path, "link", n.layer, kept) for n in names)
            continue
        src_layer, src_path, occurrence = full_inodes[inode]
        holder = names[0].path
        out.append(Item(holder, "data", src_layer, src_path, occurrence))
        out.extend(Item(n.path, "link", n.layer, holder) for n in names[1:])
    return out


def merge(
    deltas: Sequence[LayerDelta],
    keep: int,
    drop: Callable[[str], bool] | None = None,
    *,
    drop_dirs: bool = False,
    stacked: Stacking | None = None,
) -> Merge:
    """The squashed layer for layers ``keep..`` of ``deltas`` over the ``keep`` below.

    ``drop`` removes non-directory paths written at or above ``keep`` (directories stay, so
    their modes and owners do too); with ``drop_dirs`` it removes directories as well (the
    caller keeps every directory above a path it keeps). ``stacked`` is the stacking of
    ``deltas`` when the caller already has it.
    """
    if stacked is None or stacked.keep != keep:
        stacked = stacking(deltas, keep)
    lower = stacked.lower
    live: Mapping[str, Node] = stacked.tree.nodes
    inodes = stacked.sources
    inode_bytes = stacked.tree.inodes

    dropped: list[Node] = []
    if drop is not None:
        for path, node in live.items():
            if node.layer >= keep and (drop_dirs or node.kind != "dir") and drop(path):
                dropped.append(node)
    freed: list[Dropped] = []
    if dropped:  # a view without them; none dropped (the common case): the tree itself
        live = _Without(live, {n.path for n in dropped})
        dropped.sort(key=lambda n: n.path)
        # only an inode a hardlink names has another name that may still hold it: the set
        # is of those alone (issue 16: a set of every inode of a million files)
        whole = stacked.tree.nodes.values()
        linked = {n.inode for n in whole if n.kind == "hardlink" and n.inode >= 0}
        still = {n.inode for n in live.values() if n.inode in linked} if linked else set()
        for node in dropped:
            held = 0
            if node.inode >= 0 and node.inode not in still:
                still.add(node.inode)  # counted once, at its first dropped name
                held = inode_bytes[node.inode].bytes
            freed.append(Dropped(node.path, held, node.layer))
        del still, linked

    emitted = [n for n in live.values() if n.layer >= keep]
    items = _emitted_links(emitted, live, keep, inodes)
    for node in emitted:
        if node.kind != "file" and node.kind != "hardlink":
            items.append(node)  # copied, or an implicit directory (see ``Items``)
    del emitted
    items.extend(_markers(lower, live, keep))
    # one item per key: emitted paths are distinct, and no live path is a marker's name
    items.sort(key=_sort_key)
    return Merge(Items(items, inodes, live), tuple(freed))


def _sort_key(raw: Item | Node) -> str:
    return raw.path if isinstance(raw, Node) else item_key(raw)


K = TypeVar("K")


class ItemView(Sequence[Item], Generic[K]):
    """Items made as they are read, each from what the merge kept for it (``_kept``) by
    ``_item``: a merge holds no :class:`Item` per file (issue 16)."""

    __slots__ = ()

    def _kept(self) -> Sequence[K]:
        raise NotImplementedError

    def _item(self, kept: K) -> Item:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Item]: ...
    def __getitem__(self, index: int | slice) -> Item | Sequence[Item]:
        if isinstance(index, slice):
            return [self._item(k) for k in self._kept()[index]]
        return self._item(self._kept()[index])

    def __len__(self) -> int:
        return len(self._kept())

    def __iter__(self) -> Iterator[Item]:
        make = self._item
        return (make(k) for k in self._kept())


class Items(ItemView["Item | Node"]):
    """A merge's items, made as they are read: most items are a node of the merged tree
    as it is (a directory, symlink or other object copied, an implicit directory, a file
    with its own inode's data), so the node stands for the item and no object repeats it
    (issue 16: an item per file of a million)."""

    __slots__ = ("_raw", "_sources", "live")

    def __init__(
        self, raw: list[Item | Node], sources: InodeSources, live: Mapping[str, Node]
    ) -> None:
        self._raw, self._sources, self.live = raw, sources, live

    @property
    def inodes(self) -> int:
        """How many inodes the merged tree numbered."""
        return len(self._sources.inodes)

    def single(self, layer: int) -> bool:
        """Whether ``layer`` holds each name once (so a file's member is the one of its name)."""
        twice = self._sources.layers
        return twice is not None and layer not in twice

    @property
    def raw(self) -> Sequence[Item | Node]:
        """The items as kept: an :class:`Item`, or the node that stands for one."""
        return self._raw

    @property
    def repeated(self) -> Mapping[int, int]:
        """inode -> which member of its name in its layer wrote it, where not the first."""
        return self._sources.repeated

    def _kept(self) -> Sequence[Item | Node]:
        return self._raw

    def _item(self, raw: Item | Node) -> Item:
        if not isinstance(raw, Node):
            return raw
        entry = raw.entry
        if entry.kind == "file":  # its inode was written at its own path and layer
            path = entry.path
            return Item(path, "data", raw.layer, path, self._sources.repeated.get(raw.inode, 0))
        return Item(entry.path, "implicit" if raw.implicit else "copy", raw.layer)


class _Without(Mapping[str, Node]):
    """``nodes`` without the paths in ``gone``, without copying the rest."""

    def __init__(self, nodes: Mapping[str, Node], gone: set[str]) -> None:
        self.nodes, self.gone = nodes, gone

    def __getitem__(self, path: str) -> Node:
        if path in self.gone:
            raise KeyError(path)
        return self.nodes[path]

    def get(self, path: str, default: Any = None) -> Any:
        return default if path in self.gone else self.nodes.get(path, default)

    def __contains__(self, path: object) -> bool:
        return path not in self.gone and path in self.nodes

    def __iter__(self) -> Iterator[str]:
        return (p for p in self.nodes if p not in self.gone)

    def __len__(self) -> int:
        return len(self.nodes) - len(self.gone)

    def items(self) -> Iterator[tuple[str, Node]]:  # type: ignore[override]
        return ((p, n) for p, n in self.nodes.items() if p not in self.gone)

    def values(self) -> Iterator[Node]:  # type: ignore[override]
        return (n for p, n in self.nodes.items() if p not in self.gone)


class InodeSources:
    """inode -> (layer, path, occurrence) of the member that wrote it: the layer and path
    the stacked tree's inode records, and which member of that name in that layer it was
    (0 but where a layer holds a name more than once; only those are kept).

    ``layers`` are the indexes of the layers that may hold a name twice (the stacker
    notes them, ``Stacker.repeated``); only those are searched for the names (issue 16: a
    set of every name of a million-file layer), None: every layer."""

    def __init__(
        self,
        deltas: Sequence[LayerDelta],
        inodes: Mapping[int, Inode],
        layers: Collection[int] | None = None,
    ) -> None:
        self.inodes, self.layers = inodes, layers
        self.repeated: dict[int, int] = {}
        # ``Stacker`` numbers inodes in entry order, one per regular file or symlink entry
        first = 0
        for index, delta in enumerate(deltas):
            files = sum(1 for e in delta.entries if e.kind == "file" or e.kind == "symlink")
            if layers is None or index in layers:
                names: set[str] = set()
                twice: set[str] = set()
                for entry in delta.entries:
                    if entry.path in names:
                        twice.add(entry.path)
                    names.add(entry.path)
                del names
                if twice:
                    self._number(delta, first, twice)
            first += files

    def _number(self, delta: LayerDelta, first: int, twice: set[str]) -> None:
        seen: dict[str, int] = {}
        inode = first
        for entry in delta.entries:
            if entry.path in twice:
                n = seen.get(entry.path, 0)
                seen[entry.path] = n + 1
                if n and entry.kind in ("file", "symlink"):
                    self.repeated[inode] = n
            if entry.kind in ("file", "symlink"):
                inode += 1

    def __getitem__(self, inode: int) -> tuple[int, str, int]:
        found = self.inodes[inode]
        return found.layer, found.path, self.repeated.get(inode, 0)


def item_key(item: Item) -> str:
    """Where ``item`` sorts in the squashed layer: its path, or its marker's name."""
    return marker_name(item) if item.action in ("whiteout", "opaque") else item.path


def marker_name(item: Item) -> str:
    if item.action == "opaque":
        return f"{item.path}/.wh..wh..opq"
    up, _, base = item.path.rpartition("/")
    return f"{up}/.wh.{base}" if up else f".wh.{base}"


def _markers(lower: Mapping[str, Node], live: Mapping[str, Node], keep: int) -> list[Item]:
    """Whiteouts and opaque markers hiding the lower paths that are gone."""

    def merged_dir(path: str) -> bool:  # a directory in both: lower children show through
        if path == "":
            return True
        a, b = lower.get(path), live.get(path)
        return a is not None and b is not None and a.kind == "dir" and b.kind == "dir"

    gone = [p for p in lower if p not in live and merged_dir(parent(p))]
    if not gone:
        return []
    anchored: set[str] = set()  # directories with something below still from the kept layers
    for path, node in live.items():
        if node.layer < keep:
            p = parent(path)
            while p and p not in anchored:
                anchored.add(p)
                p = parent(p)
    opaque: set[str] = set()
    for path in sorted({parent(p) for p in gone} - {""}):
        if _below_any(path, opaque):
            continue
        top = path
        while parent(top) and _opaque_ok(parent(top), live, anchored, keep, merged_dir):
            top = parent(top)
        if _opaque_ok(top, live, anchored, keep, merged_dir):
            opaque.add(top)
    out = [Item(o, "opaque") for o in sorted(opaque)]
    for p in gone:
        if not _below_any(p, opaque):
            out.append(Item(p, "whiteout"))
    return out


def _below_any(path: str, tops: set[str]) -> bool:
    """Whether a strict ancestor of ``path`` is in ``tops`` (a walk up, not a scan)."""
    p = parent(path)
    while p:
        if p in tops:
            return True
        p = parent(p)
    return False


def _opaque_ok(
    path: str,
    live: Mapping[str, Node],
    anchored: set[str],
    keep: int,
    merged_dir: Callable[[str], bool],
) -> bool:
    node = live.get(path)
    return merged_dir(path) and node is not None and node.layer >= keep and path not in anchored
