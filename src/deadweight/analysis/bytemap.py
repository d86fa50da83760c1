"""Where the bytes sit: the final file system, and the bytes later layers hid, as a tree of
directories in which every part says what its bytes are, small entries folded together so
that the tree stays small enough to draw (issue 15: the HTML report's treemap).

A file's bytes are ``waste`` (written, then hidden by a later layer: they sit at the path
that hid them), a bloat category (as :func:`~deadweight.analysis.bloat.bloat` assigns it),
``base`` (written by the base image's layers) or ``app``. Each live inode is counted once,
at its first path in path order, as docker and ``Tree.dir_sizes`` count it.

Folding is best first: the largest directory not yet opened is opened next, showing its
``per_dir`` largest entries and one folded entry for the rest, until the map holds
``limit`` regions; a directory left closed is a leaf holding all its bytes. So the map of
an image with a million files has as many regions as one with a thousand, and the bytes
of every region still add up to its parent's.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from deadweight.analysis.bloat import Bloat, categorise
from deadweight.analysis.waste import Waste
from deadweight.filetree import partition
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.tree import Node, Tree, stack

LIMIT = 4000
PER_DIR = 40
_SLACK = 16  # files a directory keeps beyond twice ``per_dir`` before it sorts them
MAX_DEPTH = 64  # deeper directories stay closed (hostile trees; and nobody reads them)


@dataclass(frozen=True, slots=True)
class Region:
    """A directory, a file or a fold of small entries (``folded`` of them).

    ``path`` is the tree's (no leading slash; "" for the root); a fold's is its
    directory's path followed by ``/*``. ``kind`` is what most of its bytes are; ``kinds``
    holds every kind's bytes, largest first. ``files`` counts the files below.
    """

    name: str
    path: str
    bytes: int
    kind: str
    kinds: tuple[tuple[str, int], ...]
    files: int
    children: tuple[Region, ...] = ()
    folded: int = 0
    is_dir: bool = False


class _Dir:
    """A directory of the map: its totals, its directories, and its largest files (a
    file that ``per_dir`` larger ones push out can only be folded: it is kept as sums)."""

    __slots__ = (
        "bytes", "count", "dirs", "files", "kinds", "more", "more_bytes", "more_kinds", "name",
        "path",
    )  # fmt: skip

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        self.dirs: dict[str, _Dir] = {}
        self.files: list[tuple[str, int, str]] = []  # name, bytes, kind
        self.bytes = 0
        self.count = 0
        self.kinds: dict[str, int] = {}
        self.more = self.more_bytes = 0  # files pushed out of ``files``, as sums
        self.more_kinds: dict[str, int] = {}

    def add_file(self, name: str, size: int, kind: str, per_dir: int) -> None:
        files = self.files
        files.append((name, size, kind))
        if len(files) >= 2 * per_dir + _SLACK:  # sorted now and then: linear in the files
            files.sort(key=_file_order)
            for _, b, k in files[per_dir:]:
                self.more += 1
                self.more_bytes += b
                self.more_kinds[k] = self.more_kinds.get(k, 0) + b
            del files[per_dir:]


def _file_order(f: tuple[str, int, str]) -> tuple[int, str]:
    return -f[1], f[0]  # as the fold ranks entries: bytes descending, then name


def _first_inodes(tree: Tree) -> Iterable[Node]:
    first: dict[int, Node] = {}
    for path, node in tree.nodes.items():
        if node.inode >= 0:
            seen = first.get(node.inode)
            if seen is None or path < seen.path:
                first[node.inode] = node
    return first.values()


def _under(path: str, tops: set[str]) -> bool:
    p = path
    while p:
        if p in tops:
            return True
        p = p.rpartition("/")[0]
    return False


def kind_of(node: Node, base_layers: int, dev: set[str], cores: set[str]) -> str:
    """What a live file's bytes are, as the analysis classes them."""
    if node.layer < base_layers:
        return "base"
    if node.path in cores:
        return "core-dump"
    if dev and "node_modules/" in node.path and _under(node.path, dev):
        return "npm-dev-dependencies"
    found = categorise(node.path)
    return found[0] if found else "app"


def _insert(root: _Dir, path: str, size: int, kind: str, per_dir: int) -> None:
    parts = path.split("/")
    here = root
    for depth, part in enumerate(parts[:-1]):
        here.bytes += size
        here.count += 1
        here.kinds[kind] = here.kinds.get(kind, 0) + size
        nxt = here.dirs.get(part)
        if nxt is None:
            nxt = here.dirs[part] = _Dir(part, "/".join(parts[: depth + 1]))
        here = nxt
    here.bytes += size
    here.count += 1
    here.kinds[kind] = here.kinds.get(kind, 0) + size
    here.add_file(parts[-1], size, kind, per_dir)


def _ranked(kinds: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def byte_map(
    deltas: Sequence[LayerDelta],
    *,
    waste: Waste | None = None,
    bloat: Bloat | None = None,
    base_layers: int = 0,
    limit: int = LIMIT,
    per_dir: int = PER_DIR,
) -> Region:
    """The map of the tree ``deltas`` stack (with ``waste``'s hidden bytes), at most about
    ``limit`` regions. ``bloat`` supplies the findings that need more than a path (npm
    devDependencies, core dumps); the layers below ``base_layers`` are the base image's.

    Past ``partition.SIZE`` members the tree is never held: it is stacked a range of paths
    at a time, each range's own live inodes inserted (an inode named in several ranges, by
    the one that owns its first name), in memory that grows with the directories, not the
    files (issue 16)."""
    if partition.large(deltas):
        try:
            trees = ((tree, part.holds_own) for part, tree in partition.stacked_parts(
                deltas, partition.SIZE))  # fmt: skip
            return _mapped(trees, waste, bloat, base_layers, limit, per_dir)
        except partition.Irregular:  # tar order decides: the whole tree
            pass
    return _mapped([(stack(deltas), _every)], waste, bloat, base_layers, limit, per_dir)


def _every(_: str) -> bool:
    return True


def _mapped(
    trees: Iterable[tuple[Tree, Callable[[str], bool]]],
    waste: Waste | None,
    bloat: Bloat | None,
    base_layers: int,
    limit: int,
    per_dir: int,
) -> Region:
    """The map of the live inodes of ``trees`` whose first name each one's predicate owns,
    and of ``waste``."""
    dev = {i.path for i in bloat.items if i.category == "npm-dev-dependencies"} if bloat else set()
    cores = {i.path for i in bloat.items if i.category == "core-dump"} if bloat else set()
    per_dir = max(1, per_dir)
    root = _Dir("/", "")
    for tree, owns in trees:
        inodes = tree.inodes
        for node in _first_inodes(tree):
            held = inodes[node.inode].bytes
            if held and owns(node.path):
                _insert(root, node.path, held, kind_of(node, base_layers, dev, cores), per_dir)
    for item in waste.items if waste else ():
        if item.bytes:
            _insert(root, item.path + " (hidden)", item.bytes, "waste", per_dir)
    return _fold(root, max(1, limit), per_dir)


def _fold(root: _Dir, limit: int, per_dir: int) -> Region:
    opened: dict[str, list[_Dir | tuple[str, int, str]]] = {}
    folds: dict[str, list[_Dir | tuple[str, int, str]]] = {}
    regions = 1
    heap: list[tuple[int, str, _Dir]] = [(-root.bytes, root.path, root)]
    while heap and regions < limit:
        _, _, here = heapq.heappop(heap)
        entries: list[_Dir | tuple[str, int, str]] = [*here.dirs.values(), *here.files]
        entries.sort(key=lambda e: (-_size(e), _name(e)))
        shown, rest = entries[:per_dir], entries[per_dir:]
        opened[here.path] = shown
        folds[here.path] = rest
        regions += len(shown) + (1 if rest or here.more else 0)
        for e in shown:
            if isinstance(e, _Dir) and (e.dirs or e.files) and e.path.count("/") < MAX_DEPTH:
                heapq.heappush(heap, (-e.bytes, e.path, e))
    return _build(root, opened, folds)


def _size(e: _Dir | tuple[str, int, str]) -> int:
    return e.bytes if isinstance(e, _Dir) else e[1]


def _name(e: _Dir | tuple[str, int, str]) -> str:
    return e.name if isinstance(e, _Dir) else e[0]


def _build(
    d: _Dir,
    opened: dict[str, list[_Dir | tuple[str, int, str]]],
    folds: dict[str, list[_Dir | tuple[str, int, str]]],
) -> Region:
    kinds = _ranked(d.kinds)
    shown = opened.get(d.path)
    if shown is None:
        return Region(d.name, d.path, d.bytes, kinds[0][0] if kinds else "app", kinds, d.count,
                      is_dir=True)  # fmt: skip
    children: list[Region] = []
    for e in shown:
        if isinstance(e, _Dir):
            children.append(_build(e, opened, folds))
        else:
            path = f"{d.path}/{e[0]}" if d.path else e[0]
            children.append(Region(e[0], path, e[1], e[2], ((e[2], e[1]),), 1))
    rest = folds.get(d.path) or []
    if rest or d.more:  # the entries not shown, and the files only counted (``_Dir.more``)
        fold = dict(d.more_kinds)
        files = d.more
        for e in rest:
            if isinstance(e, _Dir):
                files += e.count
                for k, b in e.kinds.items():
                    fold[k] = fold.get(k, 0) + b
            else:
                files += 1
                fold[e[2]] = fold.get(e[2], 0) + e[1]
        ranked = _ranked(fold)
        children.append(
            Region(
                f"({len(rest) + d.more} smaller)",
                f"{d.path}/*" if d.path else "*",
                sum(_size(e) for e in rest) + d.more_bytes,
                ranked[0][0] if ranked else "app",
                ranked,
                files,
                folded=len(rest) + d.more,
            )
        )
    return Region(d.name, d.path, d.bytes, kinds[0][0] if kinds else "app", kinds, d.count,
                  tuple(children), is_dir=True)  # fmt: skip
