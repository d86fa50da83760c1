"""An in-process HTTP server for fake registries: serve a handler class bound to a state."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def serving(state: Any, handler: type[BaseHTTPRequestHandler]) -> Iterator[None]:
    """Serve ``handler`` (which reads ``self.fake``) on 127.0.0.1; ``state.port`` is set."""
    bound = type("Handler", (handler,), {"fake": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
