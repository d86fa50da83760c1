"""The engine runner's parts that need no engine: how ``docker run`` options become an
API request, the HTTP probe's bounded wait, SIGTERM turned into KeyboardInterrupt."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from deadweight.sources import containers
from deadweight.sources.containers import RunSpec


class FakeClient:
    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return {"host": kwargs}


def test_run_spec_becomes_docker_run_options() -> None:
    spec = RunSpec(
        "app:1", command=("npm", "start"), network="host", env=(("PORT", "1"), ("A", "b=c")),
        ports=((8080, 80),), user="1000:1000",
    )  # fmt: skip
    kwargs = containers._create_kwargs(FakeClient(), spec)
    assert kwargs == {
        "host_config": {"host": {"network_mode": "host", "port_bindings": {"80/tcp": 8080}}},
        "command": ["npm", "start"],
        "environment": ["PORT=1", "A=b=c"],
        "ports": [80],
        "user": "1000:1000",
    }
    bare = containers._create_kwargs(FakeClient(), RunSpec("app:1"))
    assert bare == {"host_config": {"host": {"network_mode": "none", "port_bindings": None}}}


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = 200 if self.path == "/health" else 503
            body = b'{"ok": true}' if code == 200 else b"down"
            self.send_response(code)
            self.send_header("content-type", "application/json" if code == 200 else "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_http_get_returns_status_body_and_content_type(server: str) -> None:
    ok = containers.http_get(server + "/health", wait=1)
    assert (ok.status, ok.body, ok.content_type) == (200, b'{"ok": true}', "application/json")
    down = containers.http_get(server + "/other", wait=1)
    assert (down.status, down.body, down.error) == (503, b"down", "")


def test_http_get_waits_a_bounded_time_for_no_answer() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    answer = containers.http_get(url, wait=0.5)
    assert answer.status is None
    assert answer.error.startswith(f"no answer from {url} in 0 s: ")


def test_http_get_stops_waiting_when_the_container_is_gone() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    answer = containers.http_get(url, wait=60, alive=lambda: False)
    assert answer.error == f"no answer from {url}: the container exited"


def test_sigterm_becomes_keyboard_interrupt_inside_and_not_after() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), containers.interruptible():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted long before
    assert signal.getsignal(signal.SIGTERM) == previous
