"""An end to a request whose answer's headers never finish (issue 16).

The per-read timeout (``DEADWEIGHT_REGISTRY_TIMEOUT``) restarts with every byte, so a
server that trickles its status line and headers a byte at a time holds ``requests`` for
ever. The body is read in pieces and checked against the request's deadline by the
transport; for the headers, :func:`watching` starts a timer that shuts the connection's
socket down when the deadline passes, which ends the read with an error the transport
turns into a :class:`~deadweight.errors.NetworkError`.

The connection in use is learned from urllib3's pool (:class:`WatchdogAdapter` mounts
pools that note it), as nothing else hands it out while ``Session.request`` blocks.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
import urllib3

_CURRENT = threading.local()


class _Watch:
    """The connection a request is using, and whether the deadline shut it."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.fired = False
        self.lock = threading.Lock()

    def fire(self) -> None:
        with self.lock:
            self.fired = True
            sock = getattr(self.conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _note(conn: Any) -> None:
    watch = getattr(_CURRENT, "watch", None)
    if watch is not None:
        with watch.lock:
            watch.conn = conn


class _Pool(urllib3.HTTPConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _note(conn)
        return super()._make_request(conn, *args, **kwargs)


class _TLSPool(urllib3.HTTPSConnectionPool):
    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _note(conn)
        return super()._make_request(conn, *args, **kwargs)


class WatchdogAdapter(requests.adapters.HTTPAdapter):
    """``HTTPAdapter`` whose pools tell :func:`watching` which connection is in use."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


def mount(session: requests.Session) -> None:
    """Give ``session`` the watched pools (once)."""
    if not isinstance(session.get_adapter("https://x"), WatchdogAdapter):
        session.mount("https://", WatchdogAdapter())
        session.mount("http://", WatchdogAdapter())


@contextlib.contextmanager
def watching(ends: float) -> Iterator[_Watch]:
    """Shut the request's socket down at the monotonic time ``ends``; yields the watch,
    whose ``fired`` says whether that happened."""
    watch = _Watch()
    _CURRENT.watch = watch
    timer = threading.Timer(max(0.0, ends - time.monotonic()), watch.fire)
    timer.daemon = True
    timer.start()
    try:
        yield watch
    finally:
        timer.cancel()
        _CURRENT.watch = None
