"""Read a stream ahead in a thread, so inflating and digesting overlap parsing.

Inflating (isal, zlib, zstd) and sha256 release the GIL; parsing tar headers does not.
With the stream read by a second thread, a layer costs about the larger of the two
instead of their sum. At most ``depth`` chunks wait in between, so memory stays flat.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from types import TracebackType
from typing import BinaryIO

CHUNK = 1 << 20
_POLL = 0.05  # seconds between checks for a consumer that gave up


class Prefetch:
    """A read-only stream over ``raw`` whose reads are served from a reading thread.

    Errors of ``raw`` (a digest mismatch at its end, a corrupt compressed stream) are
    raised by :meth:`read` in the order they would have been. Use it as a context manager:
    leaving stops and joins the thread, whether or not ``raw`` was read to its end.
    """

    def __init__(self, raw: BinaryIO, depth: int = 4, chunk: int = CHUNK) -> None:
        self._raw = raw
        self._chunk = chunk
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(depth)
        self._stop = threading.Event()
        self._rest = b""
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="deadweight-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._raw.read(self._chunk)
                if not self._put(data) or not data:
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def read(self, n: int = -1, /) -> bytes:
        if n is None or n < 0:
            parts = [self._rest]
            self._rest = b""
            while chunk := self._next():
                parts.append(chunk)
            return b"".join(parts)
        if not self._rest:
            self._rest = self._next()
        out, self._rest = (
            (self._rest, b"") if len(self._rest) <= n else (self._rest[:n], self._rest[n:])
        )
        return out

    def _next(self) -> bytes:
        if self._ended:
            return b""
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        if not item:
            self._ended = True
        return item

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Stop the thread (it finishes the read it is in) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):  # unblock a thread waiting for room
                self._queue.get_nowait()
            self._thread.join(_POLL)

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
