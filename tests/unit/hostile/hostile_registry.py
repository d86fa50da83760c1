"""A hostile registry on 127.0.0.1 for the tests in this folder and ``scripts/fuzz``.

It answers ``/v2/`` with 200 and every other request with what ``answer`` says: a status,
headers (which may hold an invalid ``Location`` or auth realm) and a body, which may be
trickled a few bytes at a time with a pause in between.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    trickle: float = 0.0  # seconds between two bytes of the body
    trickle_head: float = 0.0  # seconds between two bytes of the status line and headers
    ping: bool = True  # answer /v2/ with 200 (else with this reply too)


class _Handler(BaseHTTPRequestHandler):
    answer: Callable[[str, str], Reply]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._reply("GET")

    def do_HEAD(self) -> None:
        self._reply("HEAD")

    def do_POST(self) -> None:
        self._reply("POST")

    def _reply(self, method: str) -> None:
        reply = self.answer(method, self.path)
        if self.path == "/v2/" and reply.ping:
            reply = Reply(200, {"Content-Type": "application/json"}, b"{}")
        try:
            if reply.trickle_head:
                head = f"HTTP/1.1 {reply.status} OK\r\n" + "".join(
                    f"X-Pad-{i}: {'y' * 40}\r\n" for i in range(50)
                )
                for ch in head.encode():
                    self.wfile.write(bytes([ch]))
                    self.wfile.flush()
                    time.sleep(reply.trickle_head)
                return
            self.send_response_only(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if method == "HEAD":
                return
            if not reply.trickle:
                self.wfile.write(reply.body)
                return
            for i in range(len(reply.body)):
                self.wfile.write(reply.body[i : i + 1])
                self.wfile.flush()
                time.sleep(reply.trickle)
        except OSError:
            pass  # the client gave up: that is the point


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up before its request line is what these tests provoke, not
    an error worth a traceback on stderr (``scripts/fuzz`` runs thousands of them)."""

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def hostile_registry(answer: Callable[[str, str], Reply]) -> Iterator[str]:
    """Serve ``answer`` on 127.0.0.1; yields ``host:port``."""
    handler = type("Handler", (_Handler,), {"answer": staticmethod(answer)})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def registry_timeout(seconds: str) -> Iterator[None]:
    old = os.environ.get("DEADWEIGHT_REGISTRY_TIMEOUT")
    os.environ["DEADWEIGHT_REGISTRY_TIMEOUT"] = seconds
    try:
        yield
    finally:
        if old is None:
            del os.environ["DEADWEIGHT_REGISTRY_TIMEOUT"]
        else:
            os.environ["DEADWEIGHT_REGISTRY_TIMEOUT"] = old
