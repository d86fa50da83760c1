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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

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

    items: tuple[Item, ...]
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
    tree = stacker.tree()
    return Stacking(keep, lower, tree, InodeSources(deltas, tree.inodes))


def _emitted_links(
    emitted: Sequence[Node],
    lower_live: dict[int, str],
    full_inodes: InodeSources,
) -> dict[str, Item]:
    """Items for every file and hardlink of the squashed range, grouped by inode."""
    groups: dict[int, list[str]] = {}
    out: dict[str, Item] = {}
    for node in emitted:
        if node.kind in ("file", "hardlink") and node.inode >= 0:
            groups.setdefault(node.inode, []).append(node.path)
        elif node.kind == "hardlink":  # its target was never seen: keep it as written
            out[node.path] = Item(node.path, "link", node.layer, node.link)
    layer_of = {n.path: n.layer for n in emitted}
    for inode, paths in groups.items():
        paths.sort()
        kept = lower_live.get(inode)
        if kept is not None:  # the file itself is still there below: link to it
            for p in paths:
                out[p] = Item(p, "link", layer_of[p], kept)
            continue
        src_layer, src_path, occurrence = full_inodes[inode]
        holder = paths[0]
        out[holder] = Item(holder, "data", src_layer, src_path, occurrence)
        for p in paths[1:]:
            out[p] = Item(p, "link", layer_of[p], holder)
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
    if dropped:  # a copy without them; none dropped (the common case): no copy at all
        gone = {n.path for n in dropped}
        live = {p: n for p, n in live.items() if p not in gone}
    dropped.sort(key=lambda n: n.path)
    still = {n.inode for n in live.values() if n.inode >= 0}
    freed: list[Dropped] = []
    for node in dropped:
        held = 0
        if node.inode >= 0 and node.inode not in still:
            still.add(node.inode)  # counted once, at its first dropped name
            held = inode_bytes[node.inode].bytes
        freed.append(Dropped(node.path, held, node.layer))

    emitted = [n for n in live.values() if n.layer >= keep]
    lower_live: dict[int, str] = {}
    for path, node in live.items():
        held = node.layer < keep and node.inode >= 0 and node.kind in ("file", "hardlink")
        if held and (node.inode not in lower_live or path < lower_live[node.inode]):
            lower_live[node.inode] = path
    items = _emitted_links(emitted, lower_live, inodes)
    for node in emitted:
        if node.path in items:
            continue
        action: Action = "implicit" if node.implicit else "copy"
        items[node.path] = Item(node.path, action, node.layer)
    for marker in _markers(lower, live, keep):
        items[marker_name(marker)] = marker
    ordered = tuple(items[k] for k in sorted(items))
    return Merge(ordered, tuple(freed))


class InodeSources:
    """inode -> (layer, path, occurrence) of the member that wrote it: the layer and path
    the stacked tree's inode records, and which member of that name in that layer it was
    (0 but where a layer holds a name more than once; only those are kept)."""

    def __init__(self, deltas: Sequence[LayerDelta], inodes: Mapping[int, Inode]) -> None:
        self.inodes = inodes
        self.repeated: dict[int, int] = {}
        # ``Stacker`` numbers inodes in entry order, one per regular file or symlink entry
        first = 0
        for delta in deltas:
            names: set[str] = set()
            twice: set[str] = set()
            files = 0
            for entry in delta.entries:
                if entry.path in names:
                    twice.add(entry.path)
                names.add(entry.path)
                if entry.kind in ("file", "symlink"):
                    files += 1
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
