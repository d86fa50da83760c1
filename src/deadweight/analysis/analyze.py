"""``analyze``: read every layer once, stack, and account for every byte.

:func:`read_deltas` is the only part that reads layer bytes (one streaming pass per layer,
cached by diff_id); :func:`analyze_deltas` is pure and does everything else.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from deadweight.analysis import packages as pkgs
from deadweight.analysis.bloat import CORE_NAME, bloat
from deadweight.analysis.efficiency import dive_figures
from deadweight.analysis.instructions import layer_instructions
from deadweight.analysis.recommend import recommend
from deadweight.analysis.report import Analysis, LayerReport, SizeItem, UnsafeItem
from deadweight.analysis.waste import Cause, classify, summarise
from deadweight.filetree.delta import FORMAT_VERSION, HashName, LayerDelta, default_hash, read_delta
from deadweight.filetree.tree import Hidden, Stacker, Tree
from deadweight.image import Image, Layer

Progress = Callable[[int, int], None]
TOP = 20


class BlobStore(Protocol):
    """Per-layer results keyed by (kind, diff_id); ``cache.LayerStore`` once it grows this."""

    def get_blob(self, kind: str, diff_id: str) -> bytes | None: ...

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None: ...


def store_kind(hash: HashName) -> str:
    return f"delta-v{FORMAT_VERSION}-{hash}"


def read_layer(layer: Layer, hash: HashName) -> LayerDelta:
    with layer.open() as stream:
        return read_delta(
            stream, hash=hash, capture=pkgs.capture, what=f"layer {layer.diff_id[:19]}"
        )


def read_deltas(
    image: Image,
    *,
    store: BlobStore | None = None,
    progress: Progress | None = None,
    hash: HashName | None = None,
    workers: int = 1,
) -> tuple[LayerDelta, ...]:
    """One delta per layer, bottom first; each layer read once, or not at all if cached."""
    algo = hash or default_hash()
    kind = store_kind(algo)
    total = len(image.layers)
    done = 0

    def one(layer: Layer) -> LayerDelta:
        cached = store.get_blob(kind, layer.diff_id) if store is not None else None
        found = LayerDelta.from_bytes(cached) if cached is not None else None
        if found is None:
            found = read_layer(layer, algo)
            if store is not None:
                store.put_blob(kind, layer.diff_id, found.to_bytes())
        return found

    out: list[LayerDelta] = []
    if workers <= 1 or total <= 1:
        for layer in image.layers:
            out.append(one(layer))
            done += 1
            if progress is not None:
                progress(done, total)
        return tuple(out)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(one, image.layers):  # in order; a failure raises here
            out.append(result)
            done += 1
            if progress is not None:
                progress(done, total)
    return tuple(out)


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
    store: BlobStore | None = None,
    progress: Progress | None = None,
    base_layers: int = 0,
    ignore: Sequence[str] = (),
    hash: HashName | None = None,
    workers: int = 1,
) -> Analysis:
    """Analyze ``image``: read its layers (once each) and account for every byte."""
    deltas = read_deltas(image, store=store, progress=progress, hash=hash, workers=workers)
    return analyze_deltas(
        deltas,
        instructions=layer_instructions(image),
        diff_ids=tuple(layer.diff_id for layer in image.layers),
        image=image.source or (image.repo_tags[0] if image.repo_tags else image.id),
        image_id=image.id,
        base_layers=base_layers,
        ignore=ignore,
    )


def analyze_deltas(
    deltas: Sequence[LayerDelta],
    *,
    instructions: Sequence[str] = (),
    diff_ids: Sequence[str] = (),
    image: str = "",
    image_id: str = "",
    base_layers: int = 0,
    ignore: Sequence[str] = (),
) -> Analysis:
    """Everything ``analyze`` reports, from layer deltas alone."""
    skip = ignore_matcher(ignore)
    stacker = Stacker()
    events: list[tuple[Hidden, Cause, int]] = []
    reports: list[tuple[int, int, int]] = []
    for delta in deltas:
        before = {e.path for e in delta.entries if e.path in stacker.nodes}
        hidden = stacker.apply(delta)
        touched = {e.path for e in delta.entries}
        deleted = sum(
            1
            for h in hidden
            if h.how != "replaced" and h.node.kind != "dir" and h.node.path not in touched
        )
        added = sum(1 for p in touched if p not in before and stacker.nodes[p].kind != "dir")
        changed = sum(1 for p in before if p in stacker.nodes and stacker.nodes[p].kind != "dir")
        reports.append((added, changed, deleted))
        for h in hidden:
            if h.last:
                held = stacker.inodes[h.node.inode].bytes
                if held:
                    events.append((h, classify(h, stacker.nodes.get(h.node.path)), held))
    tree = stacker.tree()
    said = list(instructions) + [""] * max(0, len(deltas) - len(instructions))
    waste = summarise(events, said, base_layers=base_layers, ignore=skip)
    captured = [(i, c.path, c.data) for i, d in enumerate(deltas) for c in d.captured]
    packages = pkgs.inventory(tree, captured)
    heads = {
        p: data for layer, p, data in captured if CORE_NAME.search(p) and _live(tree, p, layer)
    }
    found = bloat(tree, dev_packages=pkgs.dev_dirs(packages), core_heads=heads, ignore=skip)
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
            *reports[i],
            wasted_by_layer[i],
            _largest_written(d, 5),
        )
        for i, d in enumerate(deltas)
    )
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
        dive=dive_figures(deltas),
        unsafe=unsafe,
        recommendations=recommend(waste, found, packages, said),
        ignore=tuple(ignore),
    )


def _live(tree: Tree, path: str, layer: int) -> bool:
    node = tree.get(path)
    return node is not None and node.layer == layer


def _largest_written(delta: LayerDelta, n: int) -> tuple[SizeItem, ...]:
    files = sorted((-e.size, e.path) for e in delta.entries if e.kind == "file" and e.size)
    return tuple(SizeItem(p, -s) for s, p in files[:n])


def _largest_files(
    tree: Tree, skip: Callable[[str], bool] | None, n: int = TOP
) -> tuple[SizeItem, ...]:
    rows = sorted(
        (-node.size, path)
        for path, node in tree.nodes.items()
        if node.kind == "file" and node.size and not (skip and skip(path))
    )
    return tuple(SizeItem(p, -s) for s, p in rows[:n])


def _largest_dirs(
    tree: Tree, skip: Callable[[str], bool] | None, n: int = TOP
) -> tuple[SizeItem, ...]:
    rows = sorted(
        (-b, path)
        for path, b in tree.dir_sizes().items()
        if path and b and not (skip and skip(path))
    )
    return tuple(SizeItem(p, -s) for s, p in rows[:n])
