"""The helper process of :mod:`deadweight.filetree.readers`: read layers into deltas.

It is started as ``python -I -c ...`` on its parent's module path, says hello on the Unix
socket it was given, and then, for each job (a JSON message with the layer's open file
and the write end of a pipe attached), runs :func:`~deadweight.compression.layer_stream`
and :func:`~deadweight.filetree.delta.read_delta` on the file, writes the encoded delta
into the pipe, and reports how the layer ended. It imports only what reading needs.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
from typing import Any

from deadweight import compression
from deadweight.errors import CorruptImage, DeadweightError
from deadweight.filetree.delta import Capture, read_delta

CHUNK = 1 << 20
MESSAGE = 1 << 16  # the largest job or report
HELLO = b"deadweight layer reader"


class _Span:
    """``size`` bytes (or all, when None) of a file descriptor from ``offset``, by pread."""

    def __init__(self, fd: int, offset: int, size: int | None, name: str) -> None:
        self._fd = fd
        self._pos = offset
        self._end = None if size is None else offset + size
        self._name = name

    def readable(self) -> bool:
        return True

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


def _capture(name: str) -> Capture | None:
    if not name:
        return None
    module, _, function = name.partition(":")
    found: Capture = getattr(importlib.import_module(module), function)
    return found


def _read(job: dict[str, Any], fd: int) -> tuple[bytes, dict[str, Any]]:
    raw = _Span(fd, int(job["offset"]), job["size"], str(job["name"]))
    try:
        with compression.layer_stream(
            raw,  # type: ignore[arg-type]
            blob_digest=str(job["blob_digest"]),
            blob_size=job["blob_size"],
            diff_id=str(job["diff_id"]),
        ) as stream:
            delta = read_delta(
                stream, hash=job["hash"], capture=_capture(job["capture"]), what=job["what"]
            )
        return delta.to_bytes(), {"ok": True}
    except DeadweightError as exc:
        return b"", {"error": type(exc).__name__, "message": exc.message}
    except OSError as exc:
        return b"", {"error": "OSError", "errno": exc.errno, "message": exc.strerror or str(exc)}
    except Exception as exc:  # reported to the parent, which raises it there
        return b"", {"error": "internal", "message": f"{type(exc).__name__}: {exc}"}
    finally:
        raw.close()


def serve(sock: socket.socket) -> None:
    """Read one layer after another until the parent closes its end of ``sock``."""
    sock.send(HELLO)
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, MESSAGE, 2)
        except OSError:
            return
        if not msg:
            return
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            sock.send(json.dumps({"error": "internal", "message": "malformed job"}).encode())
            continue
        data, status = _read(json.loads(msg), fds[0])
        try:
            with open(fds[1], "wb") as out:
                out.write(data)
        except BrokenPipeError:
            status = {"error": "internal", "message": "the parent stopped reading"}
        try:
            sock.send(json.dumps(status).encode())
        except OSError:
            return


def main(argv: list[str]) -> int:
    with socket.socket(fileno=int(argv[1])) as sock:
        serve(sock)
    return 0
