"""HTTP probes made from within a container's network namespace (``http_get(inside=)``):
a server in a namespace of its own, as a container on ``--network none`` is, answers on
its ``localhost`` from within it and nowhere else. Needs root (``unshare --net`` and
setns(2)), as the integration suite does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deadweight.sources import containers

pytestmark = pytest.mark.integration

SERVE = """\
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"inside " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def isolated() -> Iterator[tuple[str, int]]:
    """A server on 127.0.0.1:PORT of a network namespace of its own: (its ns path, PORT)."""
    assert os.geteuid() == 0, "the integration suite runs as root (unshare --net, setns)"
    port = _free_port()
    proc = subprocess.Popen(
        ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" -c "$1" "$2"',
         sys.executable, SERVE, str(port)],
    )  # fmt: skip
    netns = f"/proc/{proc.pid}/ns/net"
    try:
        # until unshare(2) has run, the child is still on this network
        deadline = time.monotonic() + 10
        while os.readlink(netns) == os.readlink("/proc/self/ns/net"):
            assert time.monotonic() < deadline, "unshare --net never made a namespace"
            time.sleep(0.02)
        yield netns, port
    finally:
        proc.kill()
        proc.wait()


def test_a_get_from_within_the_namespace_reaches_its_localhost(isolated: tuple[str, int]) -> None:
    netns, port = isolated
    url = f"http://localhost:{port}/health"
    answer = containers.http_get(url, wait=20, inside=netns)
    assert (answer.status, answer.body, answer.error) == (200, b"inside /health", "")
    # the host's localhost has nothing there: the server is only in its namespace
    outside = containers.http_get(url, wait=0.3)
    assert outside.status is None and "no answer" in outside.error


def test_a_namespace_that_cannot_be_entered_falls_back_to_the_host(tmp_path: Path) -> None:
    not_a_namespace = tmp_path / "net"
    not_a_namespace.write_text("")
    url = f"http://127.0.0.1:{_free_port()}/"
    answer = containers.http_get(url, wait=0.3, inside=str(not_a_namespace))
    assert answer.status is None
    assert answer.error.startswith(f"no answer from {url} in 0 s: ")
