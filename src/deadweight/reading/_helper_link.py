"""The parent's end of a helper process (:mod:`deadweight.reading._helper`).

:class:`Helper` starts one, waits for its hello, sends it jobs with file descriptors
attached, and reads back what it sent and how the job ended; :class:`Outcome` turns that
into a delta or the error reading the layer met. :class:`deadweight.reading._pool.
ReaderPool` decides which helper gets which layer.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from deadweight import compression, errors, scratch
from deadweight.errors import DeadweightError, DigestMismatch
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.record import decode_file
from deadweight.reading._fork import Forked, fork, may_fork
from deadweight.reading._helper import HELLO, MESSAGE, RING, Span

# How long to wait for a helper to exit once told to.
_EXIT_WAIT = 5.0
_HASH_JOB = json.dumps({"kind": "hash"}).encode()
# How long a helper may take to start.
_START_WAIT = 60.0


# The helper runs isolated (no current directory, no PYTHON* variables) on this process's
# own module path, so it imports exactly the deadweight (and isal, zstd...) running here.
_BOOT = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[2]); "
    "from deadweight.reading._helper import main; sys.exit(main(sys.argv))"
)


def _path() -> list[str]:
    return [os.path.abspath(p) for p in sys.path if p]


class Helper:
    """One helper process and the parent's end of its socket."""

    def __init__(self, proc: subprocess.Popen[bytes] | Forked, sock: socket.socket) -> None:
        self.proc = proc
        self.sock = sock
        self.started = False

    @staticmethod
    def spawn(role: str = "read") -> Helper | None:
        """A new helper (``role``: ``read``, or ``hash`` for one started to hash a tar,
        which imports nothing for reading until given a layer to read): forked from this
        process where that is safe (:mod:`deadweight.reading._fork`), else started afresh."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        proc: subprocess.Popen[bytes] | Forked | None
        try:
            if may_fork():
                proc = fork(theirs.fileno(), functools.partial(_serve, theirs, role))
            else:
                proc = _exec(theirs, role)
        finally:
            theirs.close()
        if proc is None:
            ours.close()
            return None
        return Helper(proc, ours)

    def ready(self) -> bool:
        """Whether the helper started (it says so once, first thing); False if it died."""
        if self.started:
            return True
        self.sock.settimeout(_START_WAIT)
        try:
            self.started = self.sock.recv(MESSAGE) == HELLO
        except OSError:
            return False
        finally:
            self.sock.settimeout(None)
        return self.started

    def run(
        self,
        job: dict[str, Any],
        fd: int,
        hasher: Helper | None = None,
        *,
        beside: Callable[[], dict[str, Any]] | None = None,
        span: Span | None = None,
    ) -> Outcome:
        """Send a job (and, with ``hasher``, a hashing job fed through a ring, or given the
        file's ``span`` to hash, for a blob that is its tar): how it ended (``taken`` is
        False if this helper, dead, could not take it). ``beside``, called while the
        helper works on a job it took, reports the layer's digest as a hashing helper
        would (the blob hashed by this process)."""
        # The helper writes the encoded delta into a spool file with no name (not a pipe
        # read whole into memory): this process maps it to decode it, and the layer store
        # copies it from there, so its bytes are never held twice (issue 16).
        spool = scratch.unnamed()[0]
        fds, ours = [fd, spool.fileno()], []
        ring = _ring() if hasher is not None and span is None else None
        hashing = sent = False
        try:
            if hasher is not None and span is not None:
                _, offset, size, name = span
                with contextlib.suppress(OSError):  # a dead hasher: this helper hashes
                    job_text = {"kind": "hash", "offset": offset, "size": size, "name": name}
                    socket.send_fds(hasher.sock, [json.dumps(job_text).encode()], [fd])
                    hashing = True
            elif hasher is not None and ring is not None:
                shared, tokens_r, tokens_w, free_r, free_w = ring
                ours += ring
                with contextlib.suppress(OSError):  # a dead hasher: this helper hashes
                    socket.send_fds(hasher.sock, [_HASH_JOB], [shared, tokens_r, free_w])
                    hashing = True
                if hashing:
                    fds += [shared, tokens_w, free_r]
            sent = True
            try:
                socket.send_fds(self.sock, [json.dumps(job).encode()], fds)
            except OSError:
                sent = False
        except BaseException:
            spool.close()
            raise
        finally:
            for mine in ours:
                os.close(mine)  # the helpers hold their own copies
        # The hasher, sent a job, reports once its data ends (at once if the reader died).
        status, beside_report = None, None
        if sent:
            if beside is not None:
                beside_report = beside()
            status = self.status()  # the spool is whole once the helper reports
        if not sent or status is None or not status.get("ok"):
            spool.close()
        hashed = hasher.status() if hasher is not None and hashing else None
        # A hasher not sent its job although there was a ring (or a span) had died;
        # without either it was not used.
        alive = hashed is not None if hashing else ring is None and span is None
        if beside_report is not None:
            hashing, hashed = True, beside_report
        return Outcome(spool, status, hashing, hashed, taken=sent, hasher_alive=alive)

    def status(self) -> dict[str, Any] | None:
        try:
            msg = self.sock.recv(MESSAGE)
        except OSError:
            return None
        if not msg:
            return None
        doc: dict[str, Any] = json.loads(msg)
        return doc

    def stop(self) -> None:
        if not self.started:  # started early and never used: nothing of ours to finish
            self.proc.kill()
        self.sock.close()  # the helper's recv sees the end and it exits
        try:
            self.proc.wait(_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a helper sent back: the spool file holding the encoded delta (None unless the
    job ended well) and how the job ended (None: it died), and, for a split read, the
    hashing helper's report."""

    spool: IO[bytes] | None
    status: dict[str, Any] | None
    split: bool = False
    report: dict[str, Any] | None = None
    taken: bool = True
    hasher_alive: bool = True

    @property
    def alive(self) -> bool:
        return self.status is not None

    def delta(
        self, diff_id: str, what: str, tar_named: str = "", lazy_above: int | None = None
    ) -> tuple[LayerDelta, IO[bytes]]:
        """The delta and the spool file of its encoding as the helper sent it (for the
        layer cache, as it is; the caller closes it), or the error reading the layer met,
        first the reader's (as reading the stream in one process would meet it), then the
        diff_id's (a mismatch names the tar as ``tar_named`` says). A spool longer than
        ``lazy_above`` bytes is decoded lazily (``record.decode_file``)."""
        try:
            return self._delta(diff_id, what, tar_named, lazy_above)
        except BaseException:
            if self.spool is not None:
                self.spool.close()
            raise

    def _delta(
        self, diff_id: str, what: str, tar_named: str, lazy_above: int | None
    ) -> tuple[LayerDelta, IO[bytes]]:
        status = self.status
        if status is None:
            raise DeadweightError(f"{what}: the helper process reading it exited unexpectedly")
        if not status.get("ok"):
            raise _error(status)
        if self.split:
            if self.report is not None and "error" in self.report:
                raise _error(self.report)
            if self.report is None or "digest" not in self.report:
                raise DeadweightError(f"{what}: the helper process hashing it exited unexpectedly")
            digest = str(self.report["digest"])
            if digest != diff_id:
                raise DigestMismatch(
                    f"{tar_named or compression.diff_id_what(diff_id)}: digest mismatch: "
                    f"expected {diff_id}, got {digest}"
                )
        spool = self.spool
        delta = decode_file(spool, lazy_above=lazy_above) if spool is not None else None
        if spool is None or delta is None:  # pragma: no cover - the helper runs this code
            raise DeadweightError(f"{what}: the helper process sent an unreadable result")
        spool.seek(0)
        return delta, spool


def _serve(sock: socket.socket, role: str) -> None:
    """A forked helper's life (it has imported what reading needs, as its parent had)."""
    from deadweight.reading._helper import serve

    serve(sock, prepare=role != "hash")


def _exec(theirs: socket.socket, role: str) -> subprocess.Popen[bytes] | None:
    """A helper started as a fresh interpreter, None where there is none to run
    (embedded, frozen)."""
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(theirs.fileno()), json.dumps(_path()), role],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, ValueError):
        return None


def _ring() -> list[int] | None:
    """A ring of shared memory and its two pipes (tokens, free slots), as file
    descriptors; None where memfds or pipes cannot be had (then one helper hashes)."""
    made: list[int] = []
    try:
        made.append(os.memfd_create("deadweight-ring"))
        os.ftruncate(made[0], RING)
        made += os.pipe()
        made += os.pipe()
    except (OSError, AttributeError):  # AttributeError: no memfd_create on this system
        for fd in made:
            os.close(fd)
        return None
    return made


class Unencodable(Exception):
    """A layer whose delta the helper could not encode: a path that is not valid UTF-8
    (read as surrogate escapes), which a record (JSON, UTF-8) cannot hold. The layer is
    read again in the calling process, whose delta is never encoded (nor stored)."""


def _error(status: dict[str, Any]) -> BaseException:
    name = str(status.get("error", ""))
    message = str(status.get("message", ""))
    if name == "unencodable":
        return Unencodable(message)
    if name == "OSError":
        return OSError(int(status.get("errno") or 0), message)
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, DeadweightError):
        return kind(message)
    return RuntimeError(f"layer-reading helper process failed: {message}")
