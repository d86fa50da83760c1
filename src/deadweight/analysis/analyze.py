"""``analyze``: read every layer once, stack, and account for every byte.

Reading is :mod:`deadweight.reading`'s (one streaming pass per layer, cached by diff_id).
:func:`analyze_deltas` is pure and does everything else. :func:`analyze` runs both as a
pipeline: a layer is stacked while the layers above it are still being read.
"""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import MappingProxyType

import msgspec

from deadweight.analysis import packages as pkgs
from deadweight.analysis.bloat import CORE_NAME, Bloat, BloatCounter, bloat
from deadweight.analysis.efficiency import Dangling, DiveCounter, DiveFigures
from deadweight.analysis.instructions import layer_instructions
from deadweight.analysis.packages import Package
from deadweight.analysis.recommend import recommend
from deadweight.analysis.report import Analysis, LayerReport, SizeItem, UnsafeItem
from deadweight.analysis.waste import Cause, Waste, classify, summarise
from deadweight.cache import LayerCache
from deadweight.filetree import partition
from deadweight.filetree.delta import HashName, LayerDelta
from deadweight.filetree.entry import Entry
from deadweight.filetree.nodes import Inodes, Node
from deadweight.filetree.tree import Hidden, Stacker, Tree, check_members
from deadweight.image import Image
from deadweight.progress import Progress
from deadweight.reading import iter_deltas, paused_gc

TOP = 20


def ignore_matcher(globs: Sequence[str]) -> Callable[[str], bool] | None:
    """Paths matching a glob (``*`` crosses ``/``) or lying below a matching directory."""
    pats = [g.strip().lstrip("/") for g in globs if g.strip().lstrip("/")]
    if not pats:
        return None
    rules = [(p, p.rstrip("/") + "/*") for p in pats]

    def match(path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, a) or fnmatch.fnmatchcase(path, b) for a, b in rules)

    return match


def analyze(
    image: Image,
    *,
    store: LayerCache | None = None,
    progress: Progress | None = None,
    base_layers: int = 0,
    ignore: Sequence[str] = (),
    hash: HashName | None = None,
) -> Analysis:
    """Analyze ``image``: read its layers (once each) and account for every byte.

    Each layer is stacked as soon as it and those below it are read, while the next ones
    are read.
    """
    with paused_gc():
        return analyze_read(
            image,
            # a large layer's entries left in its record, decoded each time they are read:
            # a range of paths at a time, the stacking never holds them all (issue 16)
            iter_deltas(
                image, capture=pkgs.capture, store=store, progress=progress, hash=hash, lazy=True
            ),
            base_layers=base_layers,
            ignore=ignore,
        )


def analyze_read(
    image: Image,
    deltas: Iterable[LayerDelta],
    *,
    base_layers: int = 0,
    ignore: Sequence[str] = (),
) -> Analysis:
    """What :func:`analyze` says of ``image``, from its layers' deltas read elsewhere (a
    fleet scan reads each shared layer once, on other machines; the CLI's byte map reads
    the same ones), bottom first."""
    return analyze_deltas(
        deltas,
        instructions=layer_instructions(image),
        diff_ids=tuple(layer.diff_id for layer in image.layers),
        image=image.name,
        image_id=image.id,
        base_layers=base_layers,
        ignore=ignore,
    )


def analyze_deltas(
    deltas: Iterable[LayerDelta],
    *,
    instructions: Sequence[str] = (),
    diff_ids: Sequence[str] = (),
    image: str = "",
    image_id: str = "",
    base_layers: int = 0,
    ignore: Sequence[str] = (),
) -> Analysis:
    """Everything ``analyze`` reports, from layer deltas alone."""
    with paused_gc():
        return _analyze_deltas(
            deltas,
            instructions=instructions,
            diff_ids=diff_ids,
            image=image,
            image_id=image_id,
            base_layers=base_layers,
            ignore=ignore,
        )


class _Large(Exception):
    """The layers hold more than ``partition.SIZE`` members: stack them in parts."""


def _analyze_deltas(
    layers_in: Iterable[LayerDelta],
    *,
    instructions: Sequence[str],
    diff_ids: Sequence[str],
    image: str,
    image_id: str,
    base_layers: int,
    ignore: Sequence[str],
) -> Analysis:
    """Each layer stacked as it comes, while the layers above it are read; once the
    layers hold more than ``partition.SIZE`` members, all of them stacked again a range
    of paths at a time (:func:`_partitioned`), or whole if a layer is irregular for that."""
    held: list[LayerDelta] = []
    source = iter(layers_in)

    def counted() -> Iterator[LayerDelta]:
        members = 0
        for delta in source:
            held.append(delta)
            members += delta.members
            if members > partition.SIZE:
                raise _Large
            yield delta

    said = (instructions, diff_ids, image, image_id, base_layers, ignore)
    try:
        return _stacked_whole(counted(), *said)
    except _Large:
        pass
    held.extend(source)
    try:
        return _partitioned(held, *said)
    except partition.Irregular:
        return _stacked_whole(held, *said)


def _stacked_whole(
    layers_in: Iterable[LayerDelta],
    instructions: Sequence[str],
    diff_ids: Sequence[str],
    image: str,
    image_id: str,
    base_layers: int,
    ignore: Sequence[str],
) -> Analysis:
    skip = ignore_matcher(ignore)
    stacker = Stacker()
    events: list[tuple[Hidden, Cause, int]] = []
    reports: list[tuple[int, int, int, int, int, int]] = []
    dive = DiveCounter()
    # each layer without its entries once stacked (what is left of them is the tree's):
    # its size, unsafe names and captured files, and its largest files (issue 16)
    deltas: list[LayerDelta] = []
    written: list[tuple[SizeItem, ...]] = []
    for delta in layers_in:
        deltas.append(LayerDelta(captured=delta.captured, unsafe=delta.unsafe, size=delta.size))
        written.append(_largest_written(delta, 5))
        before = {e.path for e in delta.entries if e.path in stacker.nodes}
        hidden = stacker.apply(delta)
        dive.add(delta, unique=stacker.layer not in stacker.repeated)
        reports.append(_layer_changes(stacker, delta, before, hidden))
        del delta
        held_by = stacker.inodes.held  # the column: no Inode made per lookup
        for h in hidden:
            if h.last:
                held = held_by[h.node.inode]
                if held:
                    events.append((h, classify(h, stacker.nodes.get(h.node.path)), held))
    tree = stacker.tree(last=True)  # the stacker is done: its maps, not a copy (issue 16)
    del stacker
    said, waste = _summarised(events, instructions, len(deltas), base_layers, skip)
    packages, found = _packages_and_bloat(deltas, tree, skip, base_layers)
    return _assemble(
        deltas,
        said,
        diff_ids,
        image=image,
        image_id=image_id,
        base_layers=base_layers,
        ignore=ignore,
        waste=waste,
        reports=reports,
        written=written,
        final_size=tree.size(),
        largest_files=_largest_files(tree, skip),
        largest_dirs=_largest_dirs(tree, skip),
        packages=packages,
        bloat=found,
        dive=dive.figures(),
    )


def _summarised(
    events: list[tuple[Hidden, Cause, int]],
    instructions: Sequence[str],
    count: int,
    base_layers: int,
    skip: Callable[[str], bool] | None,
) -> tuple[list[str], Waste]:
    """Each of the ``count`` layers' instruction, and the waste of ``events``, which are
    then emptied: a hidden node each, freed before the peak (recommend), issue 16."""
    said = list(instructions) + [""] * max(0, count - len(instructions))
    waste = summarise(events, said, base_layers=base_layers, ignore=skip)
    events.clear()
    return said, waste


def _assemble(
    deltas: Sequence[LayerDelta],
    said: Sequence[str],
    diff_ids: Sequence[str],
    *,
    image: str,
    image_id: str,
    base_layers: int,
    ignore: Sequence[str],
    waste: Waste,
    reports: Sequence[Sequence[int]],
    written: Sequence[tuple[SizeItem, ...]],
    final_size: int,
    largest_files: tuple[SizeItem, ...],
    largest_dirs: tuple[SizeItem, ...],
    packages: tuple[Package, ...],
    bloat: Bloat,
    dive: DiveFigures,
) -> Analysis:
    """The analysis, from what stacking the layers found (whole or in parts): per layer,
    ``reports`` (added, changed, deleted; their bytes) and the largest files ``written``."""
    sizes = [d.size for d in deltas]
    scope = sum(sizes[base_layers:])
    wasted_by_layer = [0] * len(deltas)
    for item in waste.items:
        wasted_by_layer[item.written_by] += item.bytes
    layers = tuple(
        LayerReport(
            i,
            diff_ids[i] if i < len(diff_ids) else "",
            said[i],
            sizes[i],
            reports[i][0],
            reports[i][1],
            reports[i][2],
            wasted_by_layer[i],
            written[i],
            reports[i][3],
            reports[i][4],
            reports[i][5],
        )
        for i in range(len(deltas))
    )
    unsafe = tuple(
        UnsafeItem(i, u.name, u.reason, u.action) for i, d in enumerate(deltas) for u in d.unsafe
    )
    return Analysis(
        image=image,
        image_id=image_id,
        layers=layers,
        size=sum(sizes),
        final_size=final_size,
        base_layers=base_layers,
        scope_size=scope,
        efficiency=1.0 - waste.reclaimable / scope if scope else 1.0,
        wasted_percent=waste.reclaimable / scope if scope else 0.0,
        waste=waste,
        bloat=bloat,
        packages=packages,
        largest_files=largest_files,
        largest_dirs=largest_dirs,
        dive=dive,
        unsafe=unsafe,
        recommendations=recommend(waste, bloat, packages, said),
        ignore=tuple(ignore),
    )


def _partitioned(
    deltas: Sequence[LayerDelta],
    instructions: Sequence[str],
    diff_ids: Sequence[str],
    image: str,
    image_id: str,
    base_layers: int,
    ignore: Sequence[str],
) -> Analysis:
    """:func:`_stacked_whole`'s analysis, the layers stacked one range of paths at a time
    (:mod:`deadweight.filetree.partition`): each part reports on the paths it owns, and
    what needs the whole tree (directory sizes, the packages, the bloat) is summed over the
    parts. Raises :class:`~deadweight.filetree.partition.Irregular` as the parts do."""
    check_members(sum(d.members for d in deltas))
    skip = ignore_matcher(ignore)
    count = len(deltas)
    reports = [[0] * 6 for _ in range(count)]
    events: list[tuple[Hidden, Cause, int]] = []
    repeated: set[int] = set()
    dive = DiveCounter()
    # each layer's regular files' bytes (dive's) and its largest files, in the survey's pass
    dive.sizes = [0] * count
    largest = [_Written(5) for _ in range(count)]

    def visit(layer: int, e: Entry) -> None:
        if e.kind == "file":
            dive.sizes[layer] += e.size
            largest[layer].add(e)

    layout = partition.survey(deltas, partition.SIZE, visit)
    dangling = False
    with FinalParts(deltas, skip=skip, base_layers=base_layers) as final:
        for part in partition.parts(deltas, layout):
            owns = part.holds_own
            stacker = Stacker(bounded=False)
            for i, delta in enumerate(part.deltas):
                before = {e.path for e in delta.entries if e.path in stacker.nodes}
                hidden = stacker.apply(delta, part.implied[i])
                row = reports[i]
                for k, n in enumerate(_layer_changes(stacker, delta, before, hidden, owns)):
                    row[k] += n
                held_by = stacker.inodes.held
                for h in hidden:
                    if h.last and owns(h.node.path):
                        held = held_by[h.node.inode]
                        if held:
                            events.append((h, classify(h, stacker.nodes.get(h.node.path)), held))
            if not dangling:
                try:
                    _count_dive(part, stacker.repeated, dive)
                except Dangling:
                    dangling = True  # counted whole below
            repeated |= stacker.repeated
            final.add(part, stacker.tree(last=True))
            del stacker
        packages, found_bloat = final.packages_and_bloat()
    said, waste = _summarised(events, instructions, count, base_layers, skip)
    if dangling:
        dive = DiveCounter()
        for i, delta in enumerate(deltas):
            dive.add(delta, unique=i not in repeated)
    written = [heap.items() for heap in largest]
    return _assemble(
        deltas,
        said,
        diff_ids,
        image=image,
        image_id=image_id,
        base_layers=base_layers,
        ignore=ignore,
        waste=waste,
        reports=reports,
        written=written,
        final_size=final.size,
        largest_files=final.largest_files(),
        largest_dirs=final.largest_dirs(),
        packages=packages,
        bloat=found_bloat,
        dive=dive.figures(),
    )


class FinalParts:
    """What needs the whole final tree, gathered from the final trees of its parts
    (:mod:`deadweight.filetree.partition`), each given once stacked (:meth:`add`): its
    size, largest files and directories, the package inventory and the bloat, and the
    nodes the inventory looks up (:meth:`lookup`). A context manager: the bloat's spilled
    files are deleted on leaving it."""

    def __init__(
        self,
        deltas: Sequence[LayerDelta],
        *,
        skip: Callable[[str], bool] | None = None,
        base_layers: int = 0,
    ) -> None:
        self.captured = [(i, c.path, c.data) for i, d in enumerate(deltas) for c in d.captured]
        self.wanted, candidates = pkgs.lookups(self.captured)
        self.cores = [(layer, p, data) for layer, p, data in self.captured if CORE_NAME.search(p)]
        self.skip = skip
        self.bloat = BloatCounter(candidates, from_layer=base_layers, spill=True)
        self.size = 0
        self._largest: list[SizeItem] = []
        # bytes below the directories a later part may add to (the ancestors of its first
        # path): every other one is done with, kept only if the inventory asks for it and
        # while among the largest (a map of every directory grew with the files, issue 16)
        self._dirs: dict[str, int] = {}
        self._done_dirs: dict[str, int] = {}
        self._biggest: list[tuple[int, str]] = []
        self._found: dict[str, Node] = {}  # the inventory's paths, their inodes numbered anew
        self._inodes = Inodes()

    def __enter__(self) -> FinalParts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bloat.close()

    def add(self, part: partition.Part, tree: Tree) -> None:
        """Add what ``part`` owns of its final ``tree``."""
        owns, skip, dirs = part.holds_own, self.skip, self._dirs

        def outside(path: str) -> bool:
            return not owns(path) or (skip is not None and skip(path))

        heads = {p: data for layer, p, data in self.cores if _live(tree, p, layer) and owns(p)}
        self.bloat.add(tree, core_heads=heads, ignore=outside)
        self._largest = [*self._largest, *_largest_files(tree, outside)]
        self.size += _add_dir_sizes(tree, owns, dirs)
        later = (
            {"", *partition.ancestors(part.hi.replace("\x00", "/"))}
            if part.hi is not None
            else set()
        )
        for d in [d for d in dirs if d not in later]:
            b = dirs.pop(d)
            if d in self.wanted:
                self._done_dirs[d] = b
            if d and b and not (skip and skip(d)):
                self._biggest.append((-b, d))
        if len(self._biggest) > 4 * TOP:
            self._biggest = heapq.nsmallest(TOP, self._biggest)
        renumbered: dict[int, int] = {}
        column = tree.inodes
        assert isinstance(column, Inodes)
        for path in self.wanted:
            node = tree.get(path)
            if node is None or not owns(path):
                continue
            if node.inode >= 0:
                inode = renumbered.get(node.inode)
                if inode is None:
                    inode = renumbered[node.inode] = self._inodes.add(
                        column.held[node.inode], column.layers[node.inode], path
                    )
                node = msgspec.structs.replace(node, inode=inode)
            self._found[path] = node

    def lookup(self) -> Tree:
        """The nodes of the paths the inventory may look up, and the sizes of the
        directories it may ask for, as a tree of their own."""
        return Tree(MappingProxyType(self._found), self._inodes, [self._done_dirs])

    def packages_and_bloat(self) -> tuple[tuple[Package, ...], Bloat]:
        packages = pkgs.inventory(self.lookup(), self.captured)
        return packages, self.bloat.result(pkgs.dev_dirs(packages))

    def largest_files(self) -> tuple[SizeItem, ...]:
        rows = heapq.nsmallest(TOP, ((-i.bytes, i.path) for i in self._largest))
        return tuple(SizeItem(p, -s) for s, p in rows)

    def largest_dirs(self) -> tuple[SizeItem, ...]:
        return tuple(SizeItem(p, -s) for s, p in heapq.nsmallest(TOP, self._biggest))


def _count_dive(part: partition.Part, repeated: set[int], whole: DiveCounter) -> None:
    """Count ``part``'s paths into dive's figures of the ``whole`` image (``repeated``:
    the layers that write one of the part's paths twice). Raises :class:`Dangling`."""
    counter = DiveCounter(part, whole)
    for i, delta in enumerate(part.deltas):
        counter.add(delta, unique=i not in repeated, implied=part.inner[i])
    counter.finish()


def _add_dir_sizes(tree: Tree, owns: Callable[[str], bool], dirs: dict[str, int]) -> int:
    """Add the bytes of the paths ``owns`` in ``tree`` to ``dirs`` (each inode at its
    first name, as :meth:`Tree.dir_sizes` counts) and return their sum."""
    here: dict[str, int] = {}
    held = tree.held
    total = 0
    for path, node in tree.first_names():
        if not owns(path):
            continue
        b = held(node.inode)
        if b:
            total += b
            up = path.rpartition("/")[0]
            here[up] = here.get(up, 0) + b
    for d, b in here.items():
        while True:
            dirs[d] = dirs.get(d, 0) + b
            if not d:
                break
            d = d.rpartition("/")[0]
    return total


def _layer_changes(
    stacker: Stacker,
    delta: LayerDelta,
    before: set[str],
    hidden: Sequence[Hidden],
    owns: Callable[[str], bool] | None = None,
) -> tuple[int, int, int, int, int, int]:
    """What the layer just stacked did: (added, changed, deleted) entries that are not
    directories, then the bytes it added, changed and deleted (see ``LayerReport``); of
    the paths ``owns``, when given (a part of the image)."""
    nodes, layer = stacker.nodes, stacker.layer
    held_by, layer_of = stacker.inodes.held, stacker.inodes.layers  # columns, read directly
    # the paths the layer wrote, each once: a set of them only when it wrote one twice or
    # hid a lower path (a layer that only adds, the million files of issue 16, needs none)
    removed = [
        h
        for h in hidden
        if h.how != "replaced" and h.node.kind != "dir" and (owns is None or owns(h.node.path))
    ]
    touched: set[str] | None = None
    if removed or layer in stacker.repeated:
        touched = {e.path for e in delta.entries}
    added = changed = added_bytes = changed_bytes = deleted = deleted_bytes = 0
    for path in touched if touched is not None else (e.path for e in delta.entries):
        if owns is not None and not owns(path):
            continue
        node = nodes.get(path)
        if node is None:
            continue
        kind = node.kind
        if kind == "dir":
            continue
        # a hardlink's inode was written elsewhere: it brings no bytes of its own
        inode = node.inode
        held = held_by[inode] if kind != "hardlink" and inode >= 0 else 0
        if held and layer_of[inode] != layer:
            held = 0
        if path in before:
            changed += 1
            changed_bytes += held
        else:
            added += 1
            added_bytes += held
    for h in removed:
        if touched is None or h.node.path not in touched:
            deleted += 1
            if h.last and h.node.inode >= 0:
                deleted_bytes += held_by[h.node.inode]
    return added, changed, deleted, added_bytes, changed_bytes, deleted_bytes


def final_bloat(deltas: Sequence[LayerDelta], tree: Tree) -> Bloat:
    """``analyze_deltas(deltas).bloat``, from the tree ``deltas`` stack to, for a caller
    that stacked them already (``lint IMAGE``: no second stacking, no waste accounting)."""
    with paused_gc():
        return _packages_and_bloat(deltas, tree, None, 0)[1]


def _packages_and_bloat(
    deltas: Sequence[LayerDelta], tree: Tree, skip: Callable[[str], bool] | None, base_layers: int
) -> tuple[tuple[Package, ...], Bloat]:
    captured = [(i, c.path, c.data) for i, d in enumerate(deltas) for c in d.captured]
    packages = pkgs.inventory(tree, captured)
    heads = {
        p: data for layer, p, data in captured if CORE_NAME.search(p) and _live(tree, p, layer)
    }
    found = bloat(
        tree,
        dev_packages=pkgs.dev_dirs(packages),
        core_heads=heads,
        ignore=skip,
        from_layer=base_layers,
    )
    return packages, found


def _live(tree: Tree, path: str, layer: int) -> bool:
    node = tree.get(path)
    return node is not None and node.layer == layer


class _Reversed(str):
    """A path that sorts after the paths it precedes: in a heap of the largest files,
    ties on the size keep the first paths."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)


class _Written:
    """The ``n`` largest regular files a layer writes (ties: the first paths), kept as
    its entries come."""

    __slots__ = ("heap", "n")

    def __init__(self, n: int) -> None:
        self.n = n
        self.heap: list[tuple[int, _Reversed]] = []

    def add(self, e: Entry) -> None:
        if not e.size or e.kind != "file":
            return
        heap = self.heap
        if len(heap) < self.n:
            heapq.heappush(heap, (e.size, _Reversed(e.path)))
        elif (e.size, _Reversed(e.path)) > heap[0]:
            heapq.heapreplace(heap, (e.size, _Reversed(e.path)))

    def items(self) -> tuple[SizeItem, ...]:
        return tuple(SizeItem(str(p), b) for b, p in sorted(self.heap, reverse=True))


def _largest_written(delta: LayerDelta, n: int) -> tuple[SizeItem, ...]:
    written = _Written(n)
    for e in delta.entries:
        written.add(e)
    return written.items()


def _largest_files(
    tree: Tree, skip: Callable[[str], bool] | None, n: int = TOP
) -> tuple[SizeItem, ...]:
    rows = heapq.nsmallest(
        n,
        (
            (-node.size, path)
            for path, node in tree.nodes.items()
            if node.size and node.kind == "file" and not (skip and skip(path))
        ),
    )
    return tuple(SizeItem(p, -s) for s, p in rows)


def _largest_dirs(
    tree: Tree, skip: Callable[[str], bool] | None, n: int = TOP
) -> tuple[SizeItem, ...]:
    rows = heapq.nsmallest(
        n,
        (
            (-b, path)
            for path, b in tree.dir_sizes().items()
            if path and b and not (skip and skip(path))
        ),
    )
    return tuple(SizeItem(p, -s) for s, p in rows)
