"""What a container under test prints and answers (``--verify-http``, the run's logs) is
input like any other (the second campaign after issue 16): an answer of gigabytes or one
trickled forever, a log line of gigabytes, are bounded."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from deadweight import limits
from deadweight.sources import containers


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Hostile(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        try:
            if self.path == "/huge":  # more than the limit, a megabyte at a time
                for _ in range((limits.HTTP_ANSWER >> 20) + 2):
                    self.wfile.write(b" " * (1 << 20))
            else:  # a byte every 20 ms: no read waits long, the answer never ends (5 s here)
                for _ in range(250):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.02)
        except OSError:
            pass  # the client gave up

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[str]:
    yield from serve(Hostile)


def test_an_answer_over_the_limit_is_no_answer(hostile: str) -> None:
    answer = containers.http_get(hostile + "/huge", wait=1)
    assert answer.status is None
    assert "an answer over 16 MiB" in answer.error
    assert answer.body == b""


def test_an_answer_trickled_forever_ends_at_its_deadline(hostile: str) -> None:
    answer = containers.http_get(hostile + "/trickle", wait=1, timeout=0.3)
    assert answer.status is None
    assert "the answer took over 1 s" in answer.error


class Logs:
    """An engine client whose container printed 6 MB without a newline."""

    def logs(self, container: str, **kwargs: Any) -> Any:
        chunks = [bytes([65 + i % 26]) * (64 << 10) for i in range(100)]
        assert kwargs.get("follow") is False  # never follows a running container
        return iter(chunks) if kwargs.get("stream") else b"".join(chunks)


class Engine:
    client = Logs()


def test_the_logs_of_a_line_of_megabytes_keep_its_end() -> None:
    container = containers.Container(Engine(), "c1", containers.RunSpec(image="x"))  # type: ignore[arg-type]
    text = container.logs(20)
    assert len(text) == limits.CONTAINER_OUTPUT
    assert text.endswith("V" * 1000)  # the last chunk's letter: chr(65 + 99 % 26)
