"""The helper process of :mod:`deadweight.reading._pool`: read layers into deltas.

It is started as ``python -I -c ...`` on its parent's module path, says hello on the Unix
socket it was given, and then serves jobs, each a JSON message with file descriptors
attached:

* ``delta``: the layer's open file and a spool file (unnamed, the parent's). It runs
  :func:`~deadweight.compression.layer_stream` and
  :func:`~deadweight.filetree.delta.read_delta` on the file, writes the encoded delta
  into the spool as it reads (a batch of entries at a time) and reports how the layer
  ended. With a ring (a memfd and two pipes) it also copies the uncompressed tar into
  the ring and leaves its diff_id to
* ``hash``: the ring and its pipes. It hashes what comes through, to the end, and
  reports the sha256. Or, for an uncompressed layer (its blob is its tar) that another
  helper reads: the layer's file, of which it hashes the span the job names.

Once it has said hello it imports what reading needs, unless a job is already waiting or
it was started to hash (which never needs it).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import json
import mmap
import os
import select
import socket
import struct
from typing import TYPE_CHECKING, Any

from deadweight.errors import CorruptImage, DeadweightError
from deadweight.streams import CHUNK, ByteStream, Reader

if TYPE_CHECKING:
    from deadweight.filetree.delta import Capture

MESSAGE = 1 << 16  # the largest job or report
HELLO = b"deadweight layer reader"
# A layer read by two helpers passes its uncompressed tar from the reading one to the
# hashing one through a ring of shared memory: SLOTS chunks of up to SLOT bytes. A token
# (slot, length) on a pipe says a chunk is ready; the slot's number coming back on another
# pipe says it is free again.
SLOT = 1 << 20
SLOTS = 8
RING = SLOT * SLOTS
TOKEN = struct.Struct("=iI")
FREE = struct.Struct("=i")
# What a file's span is hashed by: each call gives up the GIL once for a few milliseconds
# of hashing (the parent hashes in a thread when no helper is idle).
HASH_CHUNK = 8 * CHUNK

# The spool file's buffer: the encoded entries go out a megabyte at a time.
SPOOL_BUFFER = 1 << 20

# (fd, offset, size or None for "to the end", name) of a file to read
Span = tuple[int, int, int | None, str]


class _Span(Reader):
    """``size`` bytes (or all, when None) of a file descriptor from ``offset``, by pread."""

    def __init__(self, fd: int, offset: int, size: int | None, name: str) -> None:
        self._fd = fd
        self._pos = offset
        self._end = None if size is None else offset + size
        self._name = name

    def read(self, n: int = -1, /) -> bytes:
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        if self._end is not None:
            n = min(n, self._end - self._pos)
        if n <= 0:
            return b""
        data = os.pread(self._fd, n, self._pos)
        if not data and self._end is not None:
            raise CorruptImage(f"{self._name}: truncated archive")
        self._pos += len(data)
        return data

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _pread_into(fd: int, view: memoryview, offset: int) -> int:
    if hasattr(os, "preadv"):  # into the one buffer: no fresh pages for every chunk
        return os.preadv(fd, [view], offset)
    data = os.pread(fd, len(view), offset)  # pragma: no cover - no preadv on this system
    view[: len(data)] = data
    return len(data)


def hash_span(where: Span) -> dict[str, Any]:
    """The sha256 of a file's span (fd, offset, size or None for "to the end", name), as
    a hashing helper reports it; an OSError is reported the same way. Run by a helper
    given the file of an uncompressed layer that another reads, or by the parent itself
    when no helper is idle."""
    fd, offset, size, _name = where
    digest = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    end = None if size is None else offset + size
    try:
        while end is None or offset < end:
            want = HASH_CHUNK if end is None else min(HASH_CHUNK, end - offset)
            n = _pread_into(fd, view[:want], offset)
            if n <= 0:
                break  # cut short: the digest differs, after the reader's own verdict
            digest.update(view[:n])
            offset += n
    except OSError as exc:
        return {"error": "OSError", "errno": exc.errno, "message": exc.strerror or str(exc)}
    finally:
        view.release()
    return {"ok": True, "digest": "sha256:" + digest.hexdigest()}


def _capture(name: str) -> Capture | None:
    if not name:
        return None
    module, _, function = name.partition(":")
    found: Capture = getattr(importlib.import_module(module), function)
    return found


def read_exact(fd: int, n: int) -> bytes:
    """``n`` bytes from a pipe, or fewer only at its end."""
    data = os.read(fd, n)
    while data and len(data) < n:
        more = os.read(fd, n - len(data))
        if not more:
            break
        data += more
    return data


class _Tee(Reader):
    """A stream that also copies every chunk read through it into a ring, for a helper
    that hashes it. If that helper goes away, the copying stops and the parent, missing
    its digest, reports the failure."""

    def __init__(self, stream: ByteStream, ring: mmap.mmap, tokens: int, free: int) -> None:
        self._stream = stream
        self._ring = ring
        self._tokens = tokens
        self._free = free
        self._idle = list(range(SLOTS))
        self._broken = False

    def read(self, n: int = -1, /) -> bytes:
        data = self._stream.read(min(n, SLOT) if n is not None and n >= 0 else SLOT)
        view = memoryview(data)
        while view and not self._broken:  # a chunk larger than a slot goes in pieces
            piece, view = view[:SLOT], view[SLOT:]
            self._put(piece)
        return data

    def _put(self, piece: memoryview) -> None:
        try:
            if not self._idle:
                back = read_exact(self._free, FREE.size)
                if len(back) < FREE.size:
                    self._broken = True
                    return
                self._idle.append(FREE.unpack(back)[0])
            slot = self._idle.pop()
            self._ring[slot * SLOT : slot * SLOT + len(piece)] = piece
            os.write(self._tokens, TOKEN.pack(slot, len(piece)))
        except BrokenPipeError:
            self._broken = True

    def close(self) -> None:
        self._stream.close()


def _read(job: dict[str, Any], fds: list[int]) -> dict[str, Any]:
    """Read a layer into its delta, written encoded into the spool file as it is read, and
    say how reading it ended. ``fds``: the layer's file, the spool file (closed here) and,
    for a layer read by two helpers, the ring and its two pipes: the tar's diff_id is then
    left to the helper that hashes it. A job saying ``blob_hashed`` leaves the blob's
    digest to the parent, which hashes the file.

    The entries go into the spool a batch at a time as the tar is read
    (``filetree.record.RecordWriter``): the helper never holds a layer's entries or its
    whole encoding (a million files: 150 MB and 77 MB, issue 16). The spool's bytes are
    only read by the parent once the job ended well."""
    from deadweight import compression
    from deadweight.digest import VerifyingReader
    from deadweight.filetree.delta import read_delta
    from deadweight.filetree.record import RecordWriter

    out = open(fds[1], "wb", buffering=SPOOL_BUFFER)  # noqa: SIM115 - closed below
    raw = _Span(fds[0], int(job["offset"]), job["size"], str(job["name"]))
    ring = mmap.mmap(fds[2], RING) if len(fds) == 5 else None
    blob_digest = str(job["blob_digest"])
    source: Any = raw
    if ring is not None and blob_digest == job["diff_id"]:
        # An uncompressed blob: its digest is the tar's, which the hashing helper computes;
        # only its length is checked here.
        source = VerifyingReader(
            raw,
            size=job["blob_size"],
            what=f"layer {blob_digest[:19]}",
            hashing=False,
        )
        blob_digest = ""
    try:
        with compression.layer_stream(
            source,
            blob_digest=blob_digest,
            blob_size=job["blob_size"],
            diff_id=str(job["diff_id"]),
            check_diff_id=ring is None,
            blob_hashed=bool(job.get("blob_hashed")),  # by the parent, from the file
        ) as stream:
            tar = stream if ring is None else _Tee(stream, ring, fds[3], fds[4])
            record = RecordWriter(out)
            delta = read_delta(
                tar,
                hash=job["hash"],
                capture=_capture(job["capture"]),
                what=job["what"],
                sink=record,
            )
        record.finish(delta)
        out.close()  # the last bytes written: a full disk says so here
        return {"ok": True}
    except DeadweightError as exc:
        return {"error": type(exc).__name__, "message": exc.message}
    except UnicodeEncodeError as exc:  # a path that is not UTF-8: the record cannot hold it
        return {"error": "unencodable", "message": str(exc)}
    except OSError as exc:  # the layer's file, or the spool file that could not take it
        return {"error": "OSError", "errno": exc.errno, "message": exc.strerror or str(exc)}
    except Exception as exc:  # reported to the parent, which raises it there
        return {"error": "internal", "message": f"{type(exc).__name__}: {exc}"}
    finally:
        with contextlib.suppress(OSError):  # after an error: what it held is not read
            out.close()
        raw.close()
        if ring is not None:
            ring.close()
            for fd in fds[2:]:
                os.close(fd)  # closing the tokens' pipe ends the hashing helper's data


def _hash(fds: list[int]) -> dict[str, Any]:
    """The sha256 of what another helper passes through the ring, to its end."""
    ring_fd, tokens, free = fds
    digest = hashlib.sha256()
    try:
        with mmap.mmap(ring_fd, RING) as ring:
            view = memoryview(ring)
            try:
                while len(token := read_exact(tokens, TOKEN.size)) == TOKEN.size:
                    slot, length = TOKEN.unpack(token)
                    digest.update(view[slot * SLOT : slot * SLOT + length])
                    with contextlib.suppress(BrokenPipeError):
                        os.write(free, FREE.pack(slot))
            finally:
                view.release()
        return {"ok": True, "digest": "sha256:" + digest.hexdigest()}
    finally:
        for fd in fds:
            os.close(fd)


def _prepare(sock: socket.socket) -> None:
    """Import what reading a layer needs while no job is waiting: a helper started early
    (``_pool.warm_up``) is then ready when its first layer comes, and one whose job came
    first takes it at once."""
    if not select.select([sock], [], [], 0)[0]:
        from deadweight import compression  # noqa: F401
        from deadweight.filetree import delta  # noqa: F401


def serve(sock: socket.socket, *, prepare: bool = True) -> None:
    """Read (or hash) one layer after another until the parent closes ``sock``; without
    ``prepare`` (a helper started to hash, which never needs them), import what reading
    needs only for a layer to read."""
    sock.send(HELLO)
    if prepare:
        _prepare(sock)
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, MESSAGE, 5)
        except OSError:
            return
        if not msg:
            return
        job = json.loads(msg)
        if job.get("kind") == "hash" and len(fds) == 3:
            status = _hash(fds)
        elif job.get("kind") == "hash" and len(fds) == 1:  # a file's span, by pread
            try:
                status = hash_span((fds[0], int(job["offset"]), job["size"], ""))
            finally:
                os.close(fds[0])
        elif job.get("kind") == "delta" and len(fds) in (2, 5):
            # as in the parent's reading (reading.paused_gc): the delta's many small objects
            # hold no cycle, which the collector would walk again and again (0.02-0.03 s
            # of the 0.16 s of parsing the python-app image's layers, hashes aside)
            collecting = gc.isenabled()
            gc.disable()
            try:
                status = _read(job, fds)
            finally:
                if collecting:
                    gc.enable()
        else:
            for fd in fds:
                os.close(fd)
            status = {"error": "internal", "message": "malformed job"}
        try:
            sock.send(json.dumps(status).encode())
        except OSError:
            return


def main(argv: list[str]) -> int:
    """``argv``: the socket's descriptor, the module path, and ``hash`` for a helper
    started to hash."""
    with socket.socket(fileno=int(argv[1])) as sock:
        serve(sock, prepare=argv[3:4] != ["hash"])
    os._exit(0)  # nothing to tear down: all it wrote went straight to its descriptors
