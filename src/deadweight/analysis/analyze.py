"""``analyze``: read every layer once, stack, and account for every byte.

Reading is :mod:`deadweight.reading`'s (one streaming pass per layer, cached by diff_id).
:func:`analyze_deltas` is pure and does everything else. :func:`analyze` runs both as a
pipeline: a layer is stacked while the layers above it are still being read.
"""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Callable, Iterable, Sequence

from deadweight.analysis import packages as pkgs
from deadweight.analysis.bloat import CORE_NAME, Bloat, bloat
from deadweight.analysis.efficiency import DiveCounter
from deadweight.analysis.instructions import layer_instructions
from deadweight.analysis.packages import Package
from deadweight.analysis.recommend import recommend
from deadweight.analysis.report import Analysis, LayerReport, SizeItem, UnsafeItem
from deadweight.analysis.waste import Cause, classify, summarise
from deadweight.cache import LayerCache
from deadweight.filetree.delta import HashName, LayerDelta
from deadweight.filetree.tree import Hidden, Stacker, Tree
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
            iter_deltas(image, capture=pkgs.capture, store=store, progress=progress, hash=hash),
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
    said = list(instructions) + [""] * max(0, len(deltas) - len(instructions))
    waste = summarise(events, said, base_layers=base_layers, ignore=skip)
    del events  # a hidden node per event: freed before the peak (recommend), issue 16
    packages, found = _packages_and_bloat(deltas, tree, skip, base_layers)
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
            *reports[i][:3],
            wasted_by_layer[i],
            written[i],
            *reports[i][3:],
        )
        for i in range(len(deltas))
    )
    del reports, wasted_by_layer, written
    unsafe = tuple(
        UnsafeItem(i, u.name, u.reason, u.action) for i, d in enumerate(deltas) for u in d.unsafe
    )
    return Analysis(
        image=image,
        image_id=image_id,
        layers=layers,
        size=sum(sizes),
        final_size=tree.size(),
        base_layers=base_layers,
        scope_size=scope,
        efficiency=1.0 - waste.reclaimable / scope if scope else 1.0,
        wasted_percent=waste.reclaimable / scope if scope else 0.0,
        waste=waste,
        bloat=found,
        packages=packages,
        largest_files=_largest_files(tree, skip),
        largest_dirs=_largest_dirs(tree, skip),
        dive=dive.figures(),
        unsafe=unsafe,
        recommendations=recommend(waste, found, packages, said),
        ignore=tuple(ignore),
    )


def _layer_changes(
    stacker: Stacker, delta: LayerDelta, before: set[str], hidden: Sequence[Hidden]
) -> tuple[int, int, int, int, int, int]:
    """What the layer just stacked did: (added, changed, deleted) entries that are not
    directories, then the bytes it added, changed and deleted (see ``LayerReport``)."""
    nodes, layer = stacker.nodes, stacker.layer
    held_by, layer_of = stacker.inodes.held, stacker.inodes.layers  # columns, read directly
    # the paths the layer wrote, each once: a set of them only when it wrote one twice or
    # hid a lower path (a layer that only adds, the million files of issue 16, needs none)
    removed = [h for h in hidden if h.how != "replaced" and h.node.kind != "dir"]
    touched: set[str] | None = None
    if removed or layer in stacker.repeated:
        touched = {e.path for e in delta.entries}
    added = changed = added_bytes = changed_bytes = deleted = deleted_bytes = 0
    for path in touched if touched is not None else (e.path for e in delta.entries):
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


def _largest_written(delta: LayerDelta, n: int) -> tuple[SizeItem, ...]:
    files = heapq.nsmallest(
        n, ((-e.size, e.path) for e in delta.entries if e.size and e.kind == "file")
    )
    return tuple(SizeItem(p, -s) for s, p in files)


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
