"""Read layers into deltas in helper processes, side by side.

Reading a layer is C work (inflating, the blob's and the tar's sha256) and Python work
(tar headers, the delta). Threads overlap them poorly: every call into the decompressor
or the hash gives up the GIL and must then win it back from a thread that parses, which
keeps it for up to the interpreter's switch interval. Piping the inflated tar to another
process costs two copies of every byte, which on small machines is most of what it saves.
A :class:`ReaderPool` moves the whole read of a layer out instead:

* the parent opens the layer as it always does (the medium's opener, called once) and
  hands the open file to an idle helper over a Unix socket (``SCM_RIGHTS``), with the
  write end of a pipe;
* the helper runs exactly what the parent would, :func:`~deadweight.compression.layer_stream`
  and :func:`~deadweight.filetree.delta.read_delta`, and writes the delta, encoded as for
  the per-layer store, into the pipe;
* it then reports how the layer ended. A digest mismatch, a corrupt or truncated stream,
  a decompression bomb or a hostile tar is raised in the parent by :meth:`ReaderPool.read`
  with the helper's message and the same error class as in-process.

A layer that is most of the work (``split``) is read by two at once. When its blob is its
tar (uncompressed: blob digest and diff_id are one), an idle helper hashes the blob from
the file (by pread) while another parses it (checking only its length); with no helper
idle, the calling thread hashes it (sha256 gives up the GIL for each 8 MiB, but must win
it back from a thread that stacks, so a helper, forked at no cost, finishes sooner), and
no helper is started just for that. A compressed blob's tar exists only inside the helper
inflating it: that helper copies the tar into a ring of shared memory (a memfd, 8 MiB)
and a second helper computes its sha256 from there. Either way the parent checks the
digest against the diff_id after the reader's own verdict, in the order reading in one
process would meet them. Copying through shared memory costs little; through a pipe, the
kernel's copies cost as much as the hash saves.

Only layers whose opener gives a regular file on disk go to a helper (archives, OCI
layouts, an engine's spooled save stream); a registry's HTTP stream or bytes in memory are
read in-process. Helpers start when first needed (each says hello once it has imported
what it needs), serve one layer at a time, and exit when the pool is closed or the parent
dies (their socket reaches its end). :func:`warm_up` starts them before they are needed,
so that their start-up overlaps the caller's own (a command's imports). A helper that
dies while idle is passed over; one that dies on a layer is an error for that layer.

The helper's side is :mod:`deadweight.reading._helper`; the parent's end of one helper
(starting it, sending a job, reading back what it sent) is
:mod:`deadweight.reading._helper_link`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import os
import stat
import threading
from collections.abc import Callable, Hashable, Sequence
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from deadweight import compression
from deadweight.filetree.delta import Capture, HashName, LayerDelta, read_delta
from deadweight.reading._ahead import ReadsAhead
from deadweight.reading._helper import Span, hash_span
from deadweight.reading._helper_link import Helper, Outcome

if TYPE_CHECKING:
    from deadweight.image import Layer

# Helpers that may die (or fail to start) before this process stops starting them.
_MAX_FAILURES = 3


# Helpers at most, whatever the CPUs: beyond four, the parent stacking the deltas is the
# bottleneck.
MAX_PROCESSES = 4


def default_processes() -> int:
    """Helpers worth starting: none on one CPU (a helper would only add its start-up and
    its copies), else one per CPU, up to :data:`MAX_PROCESSES`."""
    cpus = os.cpu_count() or 1
    return 0 if cpus <= 1 else min(MAX_PROCESSES, cpus)


def span(raw: object) -> Span | None:
    """(fd, offset, size or None for "to the end", name) of a file a helper can read, or
    None when ``raw`` is not a regular file on disk."""
    own = getattr(raw, "span", None)
    if callable(own):
        found: Span | None = own()
        return found
    if not isinstance(raw, io.FileIO | io.BufferedReader):
        return None
    try:
        fd = raw.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fd, raw.tell(), None, str(raw.name)
    except (OSError, ValueError):
        return None


# What a read ends with: a helper's outcome (its spool, decoded by :meth:`ReaderPool.read`)
# or the delta read in this process.
_Done = Outcome | tuple[LayerDelta, None]


def _tar_named(layer: Layer) -> str:
    """How a mismatch of the layer's tar digest names it: as the blob's, when the blob is
    the uncompressed tar, as reading in one process would (``compression.layer_stream``)."""
    if layer.blob.digest == layer.diff_id:
        return f"layer {layer.blob.digest[:19]}"
    return compression.diff_id_what(layer.diff_id)


def capture_name(fn: Callable[..., Any] | None) -> str:
    """``module:function`` of a module-level function, for the helper to import."""
    if fn is None:
        return ""
    module, qualname = getattr(fn, "__module__", ""), getattr(fn, "__qualname__", "")
    if not module.startswith("deadweight.") or "." in qualname or "<" in qualname:
        raise ValueError(f"{fn!r} is not a module-level deadweight function")
    return f"{module}:{qualname}"


class ReaderPool:
    """Helper processes that read layers into :class:`LayerDelta`, one layer each at a time.

    :meth:`read` may be called from many threads; a thread that finds every helper busy
    waits for one. :func:`shared` is the pool of this process, kept for its lifetime so
    that each analysis does not pay the helpers' start-up (about 0.1 s of CPU each).
    """

    def __init__(self, processes: int = 0) -> None:
        self.limit = processes  # helpers to start, on demand
        self._idle: list[Helper] = []
        self._all: list[Helper] = []
        self._failed = 0
        self._ready = threading.Condition()
        self._closed = False
        self._ahead: ReadsAhead[_Done] = ReadsAhead()

    @property
    def processes(self) -> int:
        """Helpers running now."""
        return len(self._all)

    def read(
        self,
        layer: Layer,
        *,
        hash: HashName | None = None,
        capture: Capture | None = None,
        what: str = "layer",
        split: bool = False,
        lazy_above: int | None = None,
    ) -> tuple[LayerDelta, IO[bytes] | None]:
        """``read_delta(layer.open(), hash=hash, capture=capture, what=what)``, with the
        layer read by a helper when it is a file on disk, and the spool file of the delta
        encoded as the helper sent it (the caller closes it; None when read in this
        process). ``capture`` must be a
        module-level function of deadweight, which the helper imports by name. A helper's
        spool longer than ``lazy_above`` bytes is decoded lazily (its entries read from
        the spool as they are iterated, ``record.decode_file``).

        With ``split`` (for a layer that is most of the work), a second helper, when one
        is idle or may start, hashes the uncompressed tar for its diff_id while the first
        inflates and parses it: the layer takes about the time of the larger of the two.

        A read of the same layer started by :meth:`ahead` is taken instead (its result,
        or the error it met).
        """
        started = self._ahead.take(_key(layer, hash, capture, what))
        if started is not None:
            done = started.result()
        else:
            done = self._read(layer, hash=hash, capture=capture, what=what, split=split)
        if isinstance(done, Outcome):  # decoded here, where how is known, not ahead
            return done.delta(layer.diff_id, what, _tar_named(layer), lazy_above)
        return done

    def ahead(
        self,
        layers: Sequence[tuple[Layer, bool]],
        *,
        hash: HashName,
        capture: Capture | None,
        what: Callable[[Layer], str],
        threads: int,
    ) -> None:
        """Start reading ``layers`` ((layer, split) pairs, as :meth:`read` takes them),
        ``threads`` at a time, without waiting: the :meth:`read` that asks for one of them
        next takes it (:mod:`deadweight.reading._ahead`)."""
        self._ahead.start(
            [
                (
                    _key(layer, hash, capture, what(layer)),
                    functools.partial(
                        self._read, layer, hash=hash, capture=capture, what=what(layer), split=split
                    ),
                )
                for layer, split in layers
            ],
            threads,
        )

    def _read(
        self,
        layer: Layer,
        *,
        hash: HashName | None,
        capture: Capture | None,
        what: str,
        split: bool,
    ) -> _Done:
        raw = layer.opener()
        # The blob is its tar: an idle helper (else this thread) hashes the file while the
        # reading helper parses it.
        here = split and layer.blob.digest == layer.diff_id
        with contextlib.ExitStack() as stack:
            stack.callback(raw.close)
            where = span(raw)
            job = {
                "kind": "delta",
                "offset": where[1] if where else 0,
                "size": where[2] if where else None,
                "name": where[3] if where else "",
                "blob_digest": layer.blob.digest,
                "blob_size": layer.blob.size,
                "diff_id": layer.diff_id,
                "hash": hash,
                "capture": capture_name(capture),
                "what": what,
                "blob_hashed": here,
            }
            # A helper that died while idle is found when the job cannot be sent; nothing
            # was read yet (helpers read with pread), so the next one, or this process,
            # reads the layer instead.
            while where is not None and (helper := self._acquire()) is not None:
                # a helper started only to hash the file would cost more than this thread
                hasher = self._spare(start=not here) if split else None
                outcome: Outcome | None = None
                try:
                    if hasher is not None and not hasher.ready():
                        self._release(hasher, healthy=False)
                        hasher = None
                    beside = functools.partial(hash_span, where) if here and not hasher else None
                    if helper.ready():
                        outcome = helper.run(
                            job, where[0], hasher, beside=beside, span=where if here else None
                        )
                finally:
                    self._release(helper, healthy=outcome is not None and outcome.alive)
                    if hasher is not None:
                        self._release(hasher, healthy=outcome is not None and outcome.hasher_alive)
                if outcome is not None and outcome.taken:
                    return outcome
            stream = stack.enter_context(
                compression.layer_stream(
                    raw,
                    blob_digest=layer.blob.digest,
                    blob_size=layer.blob.size,
                    diff_id=layer.diff_id,
                )
            )
            return read_delta(stream, hash=hash, capture=capture, what=what), None

    def start(self, extra: int = 0) -> None:
        """Start the helpers the pool may run now (and ``extra`` more, to hash a layer
        that two read), without waiting for them to say hello (the first read of each
        waits, if it must)."""
        with self._ready:
            while not self._closed and len(self._all) < self.limit + extra:
                helper = Helper.spawn()
                if helper is None:
                    return
                self._all.append(helper)
                self._idle.append(helper)

    def _spare(self, *, start: bool = True) -> Helper | None:
        """An idle helper, or (with ``start``) a new one while no more than ``limit`` run
        (one beyond it, for hashing), without waiting; None if there is none."""
        with self._ready:
            if self._closed or self._failed >= _MAX_FAILURES:
                return None
            if self._idle:
                return self._idle.pop()
            if start and len(self._all) <= self.limit:
                helper = Helper.spawn("hash")
                if helper is not None:
                    self._all.append(helper)
                return helper
            return None

    def _acquire(self) -> Helper | None:
        """An idle helper, a new one while fewer than ``limit`` run, or None (read in this
        process) when helpers cannot run here."""
        with self._ready:
            while True:
                if self._closed or self._failed >= _MAX_FAILURES:
                    return None
                if self._idle:
                    return self._idle.pop()
                if len(self._all) < self.limit:
                    helper = Helper.spawn()
                    if helper is None:
                        self._failed = _MAX_FAILURES
                        continue
                    self._all.append(helper)
                    return helper
                if not self._all:
                    return None
                self._ready.wait()

    def _release(self, helper: Helper, *, healthy: bool) -> None:
        with self._ready:
            if healthy and not self._closed:
                self._idle.append(helper)
            else:
                with contextlib.suppress(ValueError):
                    self._all.remove(helper)
                self._failed += not healthy
                helper.stop()
            self._ready.notify()

    def close(self) -> None:
        """Stop the helpers: those idle at once, those still reading (a layer read ahead
        that nobody took, a read the caller gave up on) by SIGKILL."""
        self._ahead.drop()
        with self._ready:
            self._closed = True
            helpers, self._all, idle, self._idle = self._all, [], self._idle, []
            self._ready.notify_all()
        for helper in helpers:
            if not any(helper is other for other in idle):
                helper.proc.kill()
            helper.stop()

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _key(layer: Layer, hash: HashName | None, capture: Capture | None, what: str) -> Hashable:
    """What a read gives depends on: the layer's bytes, the per-file digest, the capture,
    and the name its errors give the layer."""
    return (layer.diff_id, layer.blob.digest, hash, capture_name(capture), what)


_SHARED: ReaderPool | None = None
_SHARED_PID = 0
_SHARED_LOCK = threading.Lock()


def shared(processes: int) -> ReaderPool:
    """This process's pool, allowed at least ``processes`` helpers (started when first
    needed). It lives until :func:`shutdown`, which runs at exit."""
    global _SHARED, _SHARED_PID
    with _SHARED_LOCK:
        if _SHARED is None or os.getpid() != _SHARED_PID:  # a forked child starts afresh
            if _SHARED_PID == 0:
                atexit.register(shutdown)
            _SHARED, _SHARED_PID = ReaderPool(), os.getpid()
        _SHARED.limit = max(_SHARED.limit, processes)
        return _SHARED


def warm_up() -> None:
    """Start this process's helpers now, where helpers run (more than one CPU), without
    waiting for them: a caller about to read layers from files on disk calls it before
    its own slow start-up, which theirs then overlaps. Helpers never used are stopped at
    exit (they cost a fraction of a CPU second)."""
    processes = default_processes()
    if processes:
        shared(processes).start()


def shutdown() -> None:
    """Stop this process's helpers (they are started again when next needed)."""
    global _SHARED
    with _SHARED_LOCK:
        pool, _SHARED = _SHARED, None
    if pool is not None and os.getpid() == _SHARED_PID:
        pool.close()
