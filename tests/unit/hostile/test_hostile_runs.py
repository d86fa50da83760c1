"""What a container under test prints and answers (``--verify-http``, the run's logs) is
input like any other (the second campaign after issue 16): an answer of gigabytes or one
trickled forever, a log line of gigabytes, are bounded."""

from __future__ import annotations

import http.server
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
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


class Printing:
    """What ``exec_start(stream=True)`` returns for a command like ``yes``: ``total`` bytes
    in 32 KiB frames, made as they are read; or, ``silent``, nothing until it is closed
    (a command that sleeps forever)."""

    FRAME = b"y\n" * (16 << 10)

    def __init__(self, total: int, silent: bool) -> None:
        self.left, self.silent = total, silent
        self.closed = threading.Event()

    def __iter__(self) -> Printing:
        return self

    def __next__(self) -> bytes:
        if self.silent:
            # docker-py's read polls without a timeout; only closing the stream ends it
            assert self.closed.wait(30), "the stream was never cut off"
        if self.closed.is_set() or self.left <= 0:
            raise StopIteration
        self.left -= len(self.FRAME)
        return self.FRAME

    def close(self) -> None:
        self.closed.set()


class Execs:
    """An engine client whose ``docker exec`` prints ``total`` bytes (or stays silent)
    and exits 0."""

    def __init__(self, total: int = 0, silent: bool = False) -> None:
        self.total, self.silent = total, silent
        self.started: list[Printing] = []

    def exec_create(self, container: str, cmd: list[str]) -> dict[str, str]:
        return {"Id": "e1"}

    def exec_start(self, exec_id: str, **kwargs: Any) -> Any:
        printing = Printing(self.total, self.silent)
        self.started.append(printing)
        return printing if kwargs.get("stream") else b"".join(printing)

    def exec_inspect(self, exec_id: str) -> dict[str, int]:
        return {"ExitCode": 0}

    def close(self) -> None:
        pass


class ExecEngine:
    url = "unix:///fake.sock"

    def __init__(self, client: Execs) -> None:
        self.client = client

    def with_timeout(self, timeout: float) -> Execs:
        return self.client


def in_container(client: Execs) -> containers.Container:
    return containers.Container(ExecEngine(client), "c1", containers.RunSpec(image="x"))  # type: ignore[arg-type]


def test_a_probe_command_printing_gigabytes_keeps_its_last_bytes_in_bounded_memory() -> None:
    from deadweight.runs import exercise, judge

    total = 256 << 20  # `yes` for a moment: a quarter of a gigabyte, made as it is read
    tracemalloc.start()
    try:
        runs = [exercise.probe("command", "yes", in_container(Execs(total))) for _ in range(2)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the last CONTAINER_OUTPUT bytes (twice that while reading) and a frame, never the whole
    assert peak < 4 * limits.CONTAINER_OUTPUT + (1 << 20)
    first = runs[0]
    assert (first.exit_code, first.error) == (0, "")
    assert first.output == "y\n" * 1000  # the probe's last 2,000 characters
    check = judge.compare_exits("yes", *runs)
    assert check.passed


def test_a_command_printing_gigabytes_leaves_the_last_bytes_of_its_output() -> None:
    done = in_container(Execs(64 << 20)).exec(["yes"], timeout=60)
    assert (done.exit_code, done.timed_out) == (0, False)
    assert len(done.output) == limits.CONTAINER_OUTPUT


def test_a_silent_command_is_cut_off_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from deadweight.runs import exercise

    client = Execs(silent=True)
    monkeypatch.setattr(exercise, "COMMAND_WAIT", 0.2)
    run = exercise.probe("command", "sleep infinity", in_container(client))
    assert run.error == "ran longer than 0 s"
    assert run.exit_code is None
    assert client.started[0].closed.is_set()


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "probe.sh"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_a_probe_script_printing_gigabytes_keeps_its_last_bytes_in_bounded_memory(
    tmp_path: Path,
) -> None:
    from deadweight.runs import exercise

    # a quarter of a gigabyte on stdout, a line on stderr, exit 3
    path = script(tmp_path, "yes | head -c 268435456\necho done >&2\nexit 3\n")
    container = in_container(Execs())
    tracemalloc.start()
    try:
        run = exercise.probe("script", path, container)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * limits.CONTAINER_OUTPUT + (1 << 20)  # two pipes' ends, never the whole
    assert (run.exit_code, run.error) == (3, "")
    assert run.output.endswith("y\ny\ndone\n")  # the end of stdout, then stderr
    assert len(run.output) == 2000


def test_a_probe_script_leaving_a_child_on_its_pipes_ends_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deadweight.runs import exercise

    monkeypatch.setattr(exercise, "COMMAND_WAIT", 0.5)
    path = script(tmp_path, "sleep 5 &\nexit 0\n")  # the sleep holds stdout and stderr
    run = exercise.probe("script", path, in_container(Execs()))
    assert run.error == f"{path} ran longer than 0 s"
