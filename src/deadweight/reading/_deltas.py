"""Layers into deltas: each distinct layer read once, through the layer cache.

How a layer is read follows from the layer itself: layers whose opener gives a file on
disk (``Layer.seekable``: archives, OCI layouts, an engine's spooled save stream) are read
side by side by helper processes (:mod:`deadweight.reading._pool`) where there are CPUs
for them, or by threads in this process where there are not; other layers (a registry's
HTTP stream) are read one after another in this process.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ContextDecorator, ExitStack
from typing import IO

from deadweight import scratch
from deadweight.cache import LayerCache, LayerStore
from deadweight.filetree.delta import (
    FORMAT_VERSION,
    SINK_BATCH,
    Capture,
    HashName,
    LayerDelta,
    default_hash,
)
from deadweight.filetree.delta import read_delta as _read_delta
from deadweight.filetree.record import RecordWriter, decode_file
from deadweight.image import Image, Layer
from deadweight.progress import Progress
from deadweight.reading import _pool
from deadweight.reading._helper_link import Unencodable
from deadweight.reading._spooled import read_spooled

# Progress is reported at most this many times (and at the end): a bar has no more steps
# to show, and 100,000 layers would otherwise make 100,000 reports (issue 16).
REPORTS = 1000

# Threads reading layers on disk in this process when no helper may run (one CPU): the
# caller still stacks one layer while the next is read.
THREADS = 4

# A delta read in this process with more entries than this is stored through a spool file
# (read lazily: written into it as it is read, ``_spooled``).
SPOOLED = 50_000

# A stored delta longer than this is decoded from a map of a copy in a file (``_stored``);
# read lazily (``lazy``), a delta whose record is longer than this keeps its entries in
# that file, or the spool a helper wrote, decoded as they are iterated (issue 16). Smaller
# ones are decoded whole: 100,000 small layers hold no 100,000 open files.
SPILL = 8 << 20

# A delta, and the spool file of its encoding when a helper read it (None: read here).
Read = tuple[LayerDelta, IO[bytes] | None]


class paused_gc(ContextDecorator):
    """Pause the cyclic garbage collector while reading or stacking layers.

    Reading and stacking allocate hundreds of thousands of small acyclic objects, which
    the collector would walk again and again (a fifth of the time of an analysis) without
    ever finding a cycle; reference counting frees them. The previous state is restored.
    A class rather than a ``@contextmanager`` generator: as a decorator its type is known
    without inference, which mypy needs inside the package's import cycle.
    """

    def __enter__(self) -> None:
        self._was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was:
            gc.enable()

    def _recreate_cm(self) -> paused_gc:
        return paused_gc()  # one per call of a decorated function: calls may nest or overlap


def _named(capture: Capture | None) -> str | None:
    """The name a helper imports ``capture`` by; None for a function it cannot import."""
    try:
        return _pool.capture_name(capture)
    except ValueError:
        return None


def store_kind(hash: HashName, capture: Capture | None) -> str:
    """The layer cache's key for deltas read with ``hash`` and ``capture`` (a module-level
    deadweight function, named in the key: ValueError for any other)."""
    name = _pool.capture_name(capture)
    base = f"delta-v{FORMAT_VERSION}-{hash}"
    return f"{base}-{name}" if name else base


def _kind(hash: HashName, capture: Capture | None) -> str | None:
    """:func:`store_kind`, or None when deltas read with ``capture`` cannot be cached (it
    has no stable name)."""
    return store_kind(hash, capture) if _named(capture) is not None else None


def stored_delta(
    store: LayerCache | None, diff_id: str, *, capture: Capture | None, hash: HashName | None = None
) -> LayerDelta | None:
    """The delta the layer cache holds for ``diff_id`` (None: not there, or of another
    format version)."""
    kind = _kind(hash or default_hash(), capture)
    if store is None or kind is None:
        return None
    return _stored(store, kind, diff_id)


def _stored(cache: LayerCache, kind: str, diff_id: str, lazy: bool = False) -> LayerDelta | None:
    """The delta ``cache`` holds, decoded; a large one (a store on disk) from a map of a
    copy of it in an unnamed file, whose pages the decode gives back as it goes, not from
    a ``bytes`` held whole to the end (a million files: 77 MB, issue 16); with ``lazy``,
    its entries left in that copy (``record.StoredEntries``)."""
    if not isinstance(cache, LayerStore):
        data = cache.get_blob(kind, diff_id)
        return LayerDelta.from_bytes(data) if data is not None else None
    found = cache.get_blob_or_spill(kind, diff_id, SPILL, lambda: scratch.unnamed()[0])
    if found is None or isinstance(found, bytes):
        return LayerDelta.from_bytes(found) if found is not None else None
    with found:  # a lazy delta's entries read a descriptor of their own
        return decode_file(found, lazy_above=SPILL if lazy else None)


def _what(layer: Layer) -> str:
    return f"layer {layer.diff_id[:19]}"


def read_layer(
    layer: Layer, *, capture: Capture | None, hash: HashName | None = None
) -> LayerDelta:
    """One layer's delta, read in this process."""
    with layer.open() as stream:
        return _read_delta(stream, hash=hash or default_hash(), capture=capture, what=_what(layer))


def _reader(
    layers: Sequence[Layer], hash: HashName, capture: Capture | None, lazy: bool = False
) -> tuple[Callable[[Layer], Read], int]:
    """How to read ``layers``: a function giving a layer's delta (and its encoding when a
    helper made one, which a ``lazy`` delta's entries read when it is large), and how many
    threads should call it."""

    def whole(layer: Layer) -> Read:
        return read_layer(layer, capture=capture, hash=hash), None

    def spooled(layer: Layer) -> Read:
        got = read_spooled(
            layer, hash=hash, capture=capture, what=_what(layer), above=SPOOLED, lazy_above=SPILL
        )
        return got if got is not None else whole(layer)  # the spool could not take it

    here = spooled if lazy else whole

    on_disk = sum(1 for layer in layers if layer.seekable)
    if on_disk == 0:
        return here, 1
    helpers = min(_pool.default_processes(), on_disk) if _named(capture) is not None else 0
    if not helpers:
        return here, THREADS
    pool = _pool.shared(helpers)
    total = sum(layer.blob.size for layer in layers)

    def read(layer: Layer) -> Read:
        big = 2 * layer.blob.size > total  # most of the work: two helpers share it
        try:
            return pool.read(
                layer,
                hash=hash,
                capture=capture,
                what=_what(layer),
                split=big,
                lazy_above=SPILL if lazy else None,
            )
        except Unencodable:  # a path that is not UTF-8 (rare): read here, left unstored
            return whole(layer)

    # Threads still pay with one helper: this thread stacks a layer while the next is read.
    return read, max(2, helpers)


def _sorted_out(
    layers: Sequence[Layer], cache: LayerCache | None, kind: str | None, lazy: bool = False
) -> tuple[dict[str, LayerDelta], dict[str, Layer]]:
    """The deltas ``cache`` holds, by diff_id (decoded before the first is used: with
    ``lazy``, a large one holds only its file), and the distinct layers left to read, in
    the order first needed."""
    known: dict[str, LayerDelta] = {}
    missing: dict[str, Layer] = {}
    for layer in layers:
        if layer.diff_id in known or layer.diff_id in missing:
            continue
        delta = _stored(cache, kind, layer.diff_id, lazy) if cache is not None and kind else None
        if delta is None:  # not there, or another format version: read it
            missing[layer.diff_id] = layer
        else:
            known[layer.diff_id] = delta
    return known, missing


def _keep(
    cache: LayerCache, kind: str, diff_id: str, delta: LayerDelta, spool: IO[bytes] | None
) -> None:
    """Put a delta in the layer cache: the helper's encoding copied from its spool file a
    chunk at a time into a store on disk (never a second copy in memory), else encoded; a
    large delta read here, encoded a batch of entries at a time into an unnamed spool file
    first (its whole encoding, and SQLite's copy of it, were held beside the entries)."""
    if spool is None and isinstance(cache, LayerStore) and len(delta.entries) > SPOOLED:
        try:
            with scratch.unnamed()[0] as out:
                writer = RecordWriter(out)
                entries = delta.entries
                for start in range(0, len(entries), SINK_BATCH):
                    writer(list(entries[start : start + SINK_BATCH]))
                writer.finish(dataclasses.replace(delta, entries=()))
                out.flush()
                cache.put_blob_from(kind, diff_id, out)
        except (OSError, UnicodeEncodeError):
            return  # no room to spool it, or a path that is not UTF-8: not stored
    elif spool is None:
        try:
            record = delta.to_bytes()
        except UnicodeEncodeError:
            return  # a path that is not UTF-8, which a record cannot hold: not stored
        cache.put_blob(kind, diff_id, record)
    elif isinstance(cache, LayerStore):
        cache.put_blob_from(kind, diff_id, spool)
    else:
        cache.put_blob(kind, diff_id, spool.read())


def read_ahead(
    image: Image,
    *,
    capture: Capture | None,
    store: LayerCache | None = None,
    hash: HashName | None = None,
) -> None:
    """Start reading ``image``'s layers (those on disk that ``store`` does not hold) in
    the helper processes, without waiting: the :func:`iter_deltas` (or
    :func:`read_deltas`) that asks for them next, with the same ``capture`` and ``hash``,
    takes what they read, as it comes. A command calls it before its own slow start-up
    (its imports), which the reading then overlaps. Nothing is read where no helper may
    run (one CPU) or ``capture`` has no name a helper can import.

    What is read ahead and never asked for costs only its CPU: the threads waiting on the
    helpers do not keep this process from exiting, and the helpers are stopped at exit."""
    algo = hash or default_hash()
    kind = _kind(algo, capture)
    # which layers the store lacks (a large record checked a chunk at a time, not held)
    layers = list(_sorted_out(image.layers, store, kind, lazy=True)[1].values())
    helpers = min(_pool.default_processes(), len(layers))
    if kind is None or not helpers or not all(layer.seekable for layer in layers):
        return
    total = sum(layer.blob.size for layer in layers)
    jobs = [(layer, 2 * layer.blob.size > total) for layer in layers]  # as _reader splits
    pool = _pool.shared(helpers)
    # started here, before the threads (forked while this process runs one), with one
    # more to hash the layer that two read
    pool.start(extra=int(any(split for _, split in jobs)))
    pool.ahead(jobs, hash=algo, capture=capture, what=_what, threads=max(2, helpers))


def read_deltas(
    image: Image,
    *,
    capture: Capture | None,
    store: LayerCache | None = None,
    progress: Progress | None = None,
    layers: Iterable[int] | None = None,
    hash: HashName | None = None,
    lazy: bool = False,
) -> tuple[LayerDelta, ...]:
    """The deltas of ``image``'s layers (all, bottom first, or those at the indexes
    ``layers`` gives, in that order); see :func:`iter_deltas`."""
    with paused_gc():
        return tuple(
            iter_deltas(
                image,
                capture=capture,
                store=store,
                progress=progress,
                layers=layers,
                hash=hash,
                lazy=lazy,
            )
        )


def iter_deltas(
    image: Image,
    *,
    capture: Capture | None,
    store: LayerCache | None = None,
    progress: Progress | None = None,
    layers: Iterable[int] | None = None,
    hash: HashName | None = None,
    lazy: bool = False,
) -> Iterator[LayerDelta]:
    """:func:`read_deltas` one layer at a time, in order, while the layers that follow are
    read.

    Each distinct layer (diff_id) is looked up in ``store`` once, and read once if it is
    not there: an image naming one layer 100,000 times costs one lookup and one read
    (issue 16). ``capture`` says which files' content each delta keeps (a module-level
    deadweight function, or None). ``hash`` names the per-file digest (default
    :func:`~deadweight.filetree.delta.default_hash`). ``progress(done, total)`` is called
    once for the layers the store held and once per layer after, or for more than
    :data:`REPORTS` layers, every ``total // REPORTS`` layers and at the end.

    With ``lazy``, a delta whose record is longer than :data:`SPILL` (the store's copy,
    or the spool a helper wrote) keeps its entries there, never whole in memory: they are
    decoded a chunk at a time each time they are iterated (``record.StoredEntries``, a
    ``Sequence`` whose file is closed when the delta is dropped). A layer read in this
    process (no helper may run, a registry's stream) with more than :data:`SPOOLED`
    entries is written into such a file as it is read (``_spooled``).
    """
    order = range(len(image.layers)) if layers is None else layers
    return iter_layers(
        [image.layers[i] for i in order],
        capture=capture,
        store=store,
        progress=progress,
        hash=hash,
        lazy=lazy,
    )


def iter_layers(
    layers: Sequence[Layer],
    *,
    capture: Capture | None,
    store: LayerCache | None = None,
    progress: Progress | None = None,
    hash: HashName | None = None,
    lazy: bool = False,
) -> Iterator[LayerDelta]:
    """:func:`iter_deltas` for layers of any images (a layer that two of them hold is
    read once)."""
    algo = hash or default_hash()
    kind = _kind(algo, capture)
    cache = store if kind is not None else None
    total = len(layers)
    known, missing = _sorted_out(layers, cache, kind, lazy)
    done = sum(1 for layer in layers if layer.diff_id in known)
    if progress is not None and done:
        progress(done, total)
    read, threads = _reader(list(missing.values()), algo, capture, lazy)

    def one(layer: Layer) -> LayerDelta:
        delta, spool = read(layer)
        try:
            if cache is not None and kind:
                _keep(cache, kind, layer.diff_id, delta, spool)
        finally:
            if spool is not None:
                spool.close()
        return delta

    with ExitStack() as stack:
        if threads > 1 and len(missing) > 1:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=threads))
            fresh = pool.map(one, missing.values())  # in order; a failure raises in turn
        else:
            fresh = map(one, missing.values())
        cached = set(known)
        step, reported = max(1, total // REPORTS), done
        for layer in layers:
            delta = known.get(layer.diff_id)
            if delta is None:  # its first time: the next one read
                delta = known[layer.diff_id] = next(fresh)
            if layer.diff_id not in cached:
                done += 1
                if progress is not None and (done - reported >= step or done == total):
                    progress(done, total)
                    reported = done
            yield delta
