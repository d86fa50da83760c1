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
from collections.abc import Iterable
from dataclasses import dataclass

from deadweight.analysis.bloat import Bloat, categorise
from deadweight.analysis.waste import Waste
from deadweight.filetree.tree import Node, Tree

LIMIT = 4000
PER_DIR = 40
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
    __slots__ = ("bytes", "count", "dirs", "files", "kinds", "name", "path")

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        self.dirs: dict[str, _Dir] = {}
        self.files: list[tuple[str, int, str]] = []  # name, bytes, kind
        self.bytes = 0
        self.count = 0
        self.kinds: dict[str, int] = {}


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


def _insert(root: _Dir, path: str, size: int, kind: str) -> None:
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
    here.files.append((parts[-1], size, kind))


def _ranked(kinds: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def byte_map(
    tree: Tree,
    *,
    waste: Waste | None = None,
    bloat: Bloat | None = None,
    base_layers: int = 0,
    limit: int = LIMIT,
    per_dir: int = PER_DIR,
) -> Region:
    """The map of ``tree`` (with ``waste``'s hidden bytes), at most about ``limit``
    regions. ``bloat`` supplies the findings that need more than a path (npm
    devDependencies, core dumps); the layers below ``base_layers`` are the base image's."""
    dev = {i.path for i in bloat.items if i.category == "npm-dev-dependencies"} if bloat else set()
    cores = {i.path for i in bloat.items if i.category == "core-dump"} if bloat else set()
    root = _Dir("/", "")
    inodes = tree.inodes
    for node in _first_inodes(tree):
        held = inodes[node.inode].bytes
        if held:
            _insert(root, node.path, held, kind_of(node, base_layers, dev, cores))
    for item in waste.items if waste else ():
        if item.bytes:
            _insert(root, item.path + " (hidden)", item.bytes, "waste")
    return _fold(root, max(1, limit), max(1, per_dir))


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
        regions += len(shown) + (1 if rest else 0)
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
    if rest:
        fold: dict[str, int] = {}
        files = 0
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
                f"({len(rest)} smaller)",
                f"{d.path}/*" if d.path else "*",
                sum(_size(e) for e in rest),
                ranked[0][0] if ranked else "app",
                ranked,
                files,
                folded=len(rest),
            )
        )
    return Region(d.name, d.path, d.bytes, kinds[0][0] if kinds else "app", kinds, d.count,
                  tuple(children), is_dir=True)  # fmt: skip
