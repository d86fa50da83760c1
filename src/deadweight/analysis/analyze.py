"""``analyze``: read every layer once, stack, and account for every byte.

:func:`iter_deltas` (and :func:`read_deltas`) is the only part that reads layer bytes: one
streaming pass per layer, cached by diff_id. :func:`analyze_deltas` is pure and does
everything else. :func:`analyze` runs both as a pipeline: a layer is stacked while the
layers above it are still being read.
"""

from __future__ import annotations

import fnmatch
import gc
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Protocol

from deadweight.analysis import packages as pkgs
from deadweight.analysis.bloat import CORE_NAME, bloat
from deadweight.analysis.efficiency import DiveCounter
from deadweight.analysis.instructions import layer_instructions
from deadweight.analysis.recommend import recommend
from deadweight.analysis.report import Analysis, LayerReport, SizeItem, UnsafeItem
from deadweight.analysis.waste import Cause, classify, summarise
from deadweight.filetree import readers as helper_processes
from deadweight.filetree.delta import (
    FORMAT_VERSION,
    Capture,
    HashName,
    LayerDelta,
    default_hash,
    read_delta,
)
from deadweight.filetree.tree import Hidden, Stacker, Tree
from deadweight.image import Image, Layer
from deadweight.progress import Progress

TOP = 20


class BlobStore(Protocol):
    """Per-layer results keyed by (kind, diff_id); ``cache.LayerStore`` once it grows this."""

    def get_blob(self, kind: str, diff_id: str) -> bytes | None: ...

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None: ...


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of an analysis.

    Reading and stacking allocate hundreds of thousands of small acyclic objects, which
    the collector would walk again and again (a fifth of the time of an analysis) without
    ever finding a cycle; reference counting frees them. The previous state is restored.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def store_kind(hash: HashName) -> str:
    return f"delta-v{FORMAT_VERSION}-{hash}"


def read_layer(
    layer: Layer, hash: HashName, prefetch: bool = False, capture: Capture = pkgs.capture
) -> LayerDelta:
    with layer.open() as stream:
        return read_delta(
            stream,
            hash=hash,
            capture=capture,
            what=f"layer {layer.diff_id[:19]}",
            prefetch=prefetch,
        )


def layer_reader(
    layers: Sequence[Layer],
    hash: HashName,
    workers: int = 1,
    processes: int | None = None,
    prefetch: bool = False,
    capture: Capture = pkgs.capture,
) -> tuple[Callable[[Layer], LayerDelta], int]:
    """How to read ``layers`` with ``workers`` threads: a function giving a layer's delta,
    and how many threads should call it.

    Layers stored as files on disk are read by up to ``processes`` helper processes
    (:mod:`deadweight.filetree.readers`, kept for the life of this process), side by
    side, each driven by one thread; None picks
    :func:`~deadweight.filetree.readers.default_processes` (none for one worker or on one
    CPU), 0 reads in this process. Threads still pay when there is one helper: the
    caller stacks a layer while the next is read. A layer holding more than half of the
    bytes is read by two helpers (one hashes its tar). ``capture`` says which files'
    content to keep (a module-level function: helpers import it by name).
    """
    want = helper_processes.default_processes(workers) if processes is None else processes
    helpers = min(want, sum(1 for layer in layers if layer.seekable))
    if not helpers:
        return (lambda layer: read_layer(layer, hash, prefetch, capture)), workers
    pool = helper_processes.shared(helpers)
    total = sum(layer.blob.size for layer in layers)

    def read(layer: Layer) -> LayerDelta:
        what = f"layer {layer.diff_id[:19]}"
        big = 2 * layer.blob.size > total  # most of the work: two helpers share it
        return pool.read(layer, hash=hash, capture=capture, what=what, split=big)

    return read, max(2, helpers)


def read_deltas(
    image: Image,
    *,
    store: BlobStore | None = None,
    progress: Progress | None = None,
    hash: HashName | None = None,
    workers: int = 1,
    prefetch: bool = False,
    processes: int | None = None,
) -> tuple[LayerDelta, ...]:
    """One delta per layer, bottom first; each layer read once, or not at all if cached."""
    with paused_gc():
        return tuple(
            iter_deltas(
                image,
                store=store,
                progress=progress,
                hash=hash,
                workers=workers,
                prefetch=prefetch,
                processes=processes,
            )
        )


def iter_deltas(
    image: Image,
    *,
    store: BlobStore | None = None,
    progress: Progress | None = None,
    hash: HashName | None = None,
    workers: int = 1,
    prefetch: bool = False,
    processes: int | None = None,
) -> Iterator[LayerDelta]:
    """:func:`read_deltas`, one layer at a time in order, while ``workers`` threads read
    the layers that follow.

    ``processes`` is as for :func:`layer_reader`: layers stored as files on disk are read
    by helper processes, side by side, while this thread stacks them.

    ``prefetch`` reads each layer's stream in a second thread (see ``read_delta``) when
    it is read in this process. It is off by default: measured on 2 CPUs, that thread
    waits for the GIL behind the parser about as long as it saves, and costs more CPU
    time in all.

    The store is only touched from the consuming thread (an SQLite connection belongs to
    the thread that opened it); worker threads only read layers.
    """
    algo = hash or default_hash()
    kind = store_kind(algo)
    total = len(image.layers)
    found: list[LayerDelta | None] = []
    for layer in image.layers:
        cached = store.get_blob(kind, layer.diff_id) if store is not None else None
        found.append(LayerDelta.from_bytes(cached) if cached is not None else None)
    done = sum(1 for d in found if d is not None)
    if progress is not None and done:
        progress(done, total)
    # a layer named again (the same diff_id) is read once: its delta is the same value
    first: dict[str, int] = {}
    for i, d in enumerate(found):
        if d is None:
            first.setdefault(image.layers[i].diff_id, i)
    missing = sorted(first.values())
    again: dict[str, LayerDelta] = {}

    read, threads = layer_reader(
        [image.layers[i] for i in missing], algo, workers, processes, prefetch
    )

    def one(i: int) -> LayerDelta:
        return read(image.layers[i])

    with ExitStack() as stack:
        if threads > 1 and len(missing) > 1:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=threads))
            fresh = pool.map(one, missing)  # in order; a failure raises when its turn comes
        else:
            fresh = map(one, missing)
        for i, known in enumerate(found):
            if known is not None:
                yield known
                continue
            diff_id = image.layers[i].diff_id
            if first[diff_id] != i:
                yield again[diff_id]
                done += 1
                if progress is not None:
                    progress(done, total)
                continue
            delta = again[diff_id] = next(fresh)
            if store is not None:
                store.put_blob(kind, diff_id, delta.to_bytes())
            done += 1
            if progress is not None:
                progress(done, total)
            yield delta


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
    prefetch: bool = False,
    processes: int | None = None,
) -> Analysis:
    """Analyze ``image``: read its layers (once each) and account for every byte.

    Each layer is stacked as soon as it and those below it are read, while the worker
    threads read the next ones.
    """
    with paused_gc():
        return _analyze_image(
            image,
            iter_deltas(
                image,
                store=store,
                progress=progress,
                hash=hash,
                workers=workers,
                prefetch=prefetch,
                processes=processes,
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
    fleet scan reads each shared layer once, on other machines), bottom first."""
    with paused_gc():
        return _analyze_image(image, deltas, base_layers=base_layers, ignore=ignore)


def _analyze_image(
    image: Image, deltas: Iterable[LayerDelta], *, base_layers: int, ignore: Sequence[str]
) -> Analysis:
    return _analyze_deltas(
        deltas,
        instructions=layer_instructions(image),
        diff_ids=tuple(layer.diff_id for layer in image.layers),
        image=image.repo_tags[0] if image.repo_tags else image.source or image.id,
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
    reports: list[tuple[int, int, int]] = []
    dive = DiveCounter()
    deltas: list[LayerDelta] = []
    for delta in layers_in:
        deltas.append(delta)
        dive.add(delta)
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
    found = bloat(
        tree,
        dev_packages=pkgs.dev_dirs(packages),
        core_heads=heads,
        ignore=skip,
        from_layer=base_layers,
    )
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
        dive=dive.figures(),
        unsafe=unsafe,
        recommendations=recommend(waste, found, packages, said),
        ignore=tuple(ignore),
    )


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
