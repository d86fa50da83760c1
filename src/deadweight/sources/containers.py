"""Running images on the local engine: create, start, wait, logs, exec, stop, remove.

``verify`` (optimize) and ``minify`` run images here. Every container made through
:func:`run` is removed when its ``with`` block ends, however it ends: an exception, Ctrl-C,
or SIGTERM (:func:`interruptible` turns SIGTERM into ``KeyboardInterrupt`` so the same
``finally`` clauses run). A container is created stopped; the caller starts it, which
lets a tracer watch it from its first open.

Docker and Podman both answer here (docker-py speaks Podman's compatible API).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from deadweight.errors import EngineError
from deadweight.limits import CONTAINER_OUTPUT, HTTP_ANSWER
from deadweight.sources import engine as engines

POLL = 0.1  # seconds between two looks at a container's state
STOP_GRACE = 2  # seconds between SIGTERM and SIGKILL when a container is stopped
GONE_WAIT = 10.0  # seconds to wait for a removed container's processes to be gone


@dataclass(frozen=True, slots=True)
class RunSpec:
    """How to run an image, as ``docker run`` options say it.

    ``command`` replaces the image's ``Cmd`` (its ``Entrypoint`` stays) unless
    ``entrypoint`` is given too; ``ports`` maps host ports to container ports (TCP).
    """

    image: str
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    network: str = "none"
    env: tuple[tuple[str, str], ...] = ()
    ports: tuple[tuple[int, int], ...] = ()
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Exited:
    """What a finished ``exec`` (or container) left: its exit code and output."""

    exit_code: int | None
    output: str
    timed_out: bool = False


class Container:
    """A container this process created; ``run`` removes it."""

    def __init__(self, engine: engines.Engine, container_id: str, spec: RunSpec) -> None:
        self.engine = engine
        self.id = container_id
        self.spec = spec

    def _do(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return engines.call(self.engine, f"{what} {self.spec.image}", lambda: fn(*args, **kwargs))

    def start(self) -> None:
        self._do("starting", self.engine.client.start, self.id)

    def state(self) -> Mapping[str, Any]:
        doc = self._do("inspecting", self.engine.client.inspect_container, self.id)
        state = doc.get("State") if isinstance(doc, dict) else None
        return state if isinstance(state, dict) else {}

    def pid(self) -> int:
        """The host pid of the container's first process (0 once it has exited)."""
        return int(self.state().get("Pid") or 0)

    def network(self) -> str | None:
        """``/proc/PID/ns/net`` of the running container when it has a network namespace
        of its own that this process may enter (:func:`http_get`'s ``inside``), else None:
        not running, on the host's network, or not this machine's process (the engine is
        remote, or the pid names another process: the container's id must be in its
        cgroup)."""
        pid = self.pid()
        if pid <= 0:
            return None
        path = f"/proc/{pid}/ns/net"
        try:
            with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as cgroup:
                if self.id not in cgroup.read(1 << 16):
                    return None
            if os.readlink(path) == os.readlink("/proc/self/ns/net"):
                return None
        except OSError:
            return None
        return path

    def layer_dirs(self) -> tuple[str, ...]:
        """The host directories its root file system is stacked from (overlay's upper and
        lower directories), when the engine says so."""
        doc = self._do("inspecting", self.engine.client.inspect_container, self.id)
        driver = doc.get("GraphDriver") if isinstance(doc, dict) else None
        data = driver.get("Data") if isinstance(driver, dict) else None
        if not isinstance(data, dict):
            return ()
        dirs = [str(data.get("UpperDir") or "")]
        dirs += str(data.get("LowerDir") or "").split(":")
        return tuple(d for d in dirs if d)

    def wait(self, timeout: float) -> int | None:
        """The exit code once it has exited, or None if it still runs after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if not state.get("Running") and state.get("Status") not in ("created", "configured"):
                return int(state.get("ExitCode") or 0)
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL)

    def logs(self, tail: int = 20) -> str:
        """The last ``tail`` lines of its output (stdout and stderr), at most
        ``limits.CONTAINER_OUTPUT`` bytes of them: a program that prints gigabytes without
        a newline has one line. Read as a stream, only the last bytes kept."""
        chunks = self._do(
            "reading the logs of",
            self.engine.client.logs,
            self.id,
            tail=tail,
            stream=True,
            follow=False,  # what is there now; a stream follows a running one by default
        )
        kept = Tail()
        with contextlib.suppress(EngineError):
            for chunk in _engine_stream(chunks):
                kept.add(chunk)
        return kept.text()

    def exec(self, argv: Sequence[str], timeout: float) -> Exited:
        """Run ``argv`` inside the running container; its exit code and the last
        ``limits.CONTAINER_OUTPUT`` bytes of its output, read as a stream (a command may
        print gigabytes). One still running (printing or silent) ``timeout`` seconds after
        it was started is cut off there: ``timed_out``."""
        created = self._do("exec in", self.engine.client.exec_create, self.id, list(argv))
        deadline = time.monotonic() + timeout
        client = self.engine.with_timeout(timeout)
        tail = Tail()
        cut = threading.Event()
        try:
            stream = self._do("exec in", client.exec_start, created["Id"], stream=True)
            # a read waits for the next bytes without a timeout (docker-py polls the
            # socket): closing the stream from a timer is what ends a silent command
            timer = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (stream, cut))
            timer.daemon = True
            timer.start()
            try:
                for chunk in _engine_stream(stream):
                    tail.add(chunk)
                    if time.monotonic() > deadline:
                        cut.set()
                        break
            finally:
                timer.cancel()
                _cut(stream, None)
        except EngineError as exc:
            if cut.is_set() or engines.is_timeout(exc.__cause__):
                return Exited(None, tail.text(), timed_out=True)
            raise
        finally:
            client.close()
        if cut.is_set():
            return Exited(None, tail.text(), timed_out=True)
        doc = self._do("exec in", self.engine.client.exec_inspect, created["Id"])
        code = doc.get("ExitCode") if isinstance(doc, dict) else None
        return Exited(None if code is None else int(code), tail.text())

    def stop(self) -> None:
        self._do("stopping", self.engine.client.stop, self.id, timeout=STOP_GRACE)

    def remove(self) -> None:
        self._do("removing", self.engine.client.remove_container, self.id, force=True, v=True)


def _create_kwargs(client: Any, spec: RunSpec) -> dict[str, Any]:
    host = client.create_host_config(
        network_mode=spec.network,
        port_bindings={f"{c}/tcp": h for h, c in spec.ports} or None,
    )
    kwargs: dict[str, Any] = {"host_config": host}
    if spec.command is not None:
        kwargs["command"] = list(spec.command)
    if spec.entrypoint is not None:
        kwargs["entrypoint"] = list(spec.entrypoint)
    if spec.env:
        kwargs["environment"] = [f"{k}={v}" for k, v in spec.env]
    if spec.ports:
        kwargs["ports"] = [c for _, c in spec.ports]
    if spec.user is not None:
        kwargs["user"] = spec.user
    return kwargs


@contextlib.contextmanager
def run(spec: RunSpec, *, engine: engines.Engine | None = None) -> Iterator[Container]:
    """A created (not yet started) container for ``spec``, removed when the block ends."""
    conn = engine or engines.connect()
    kwargs = _create_kwargs(conn.client, spec)
    made = engines.call(
        conn, spec.image, lambda: conn.client.create_container(spec.image, **kwargs)
    )
    container = Container(conn, str(made["Id"]), spec)
    try:
        yield container
    finally:
        with contextlib.suppress(EngineError):
            namespace = _pid_namespace(container.pid())
            container.remove()
            _wait_gone(namespace)


def _pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") if pid > 0 else None
    except OSError:
        return None


def _wait_gone(namespace: str | None, timeout: float = GONE_WAIT) -> None:
    """Wait until no process is left in the container's pid namespace: the engine reports
    a container removed once its first process is reaped, while the others (``npm
    start``'s node) may still hold a port the next run needs."""
    if namespace is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_pid_namespace(int(p)) == namespace for p in os.listdir("/proc") if p.isdigit()):
            return
        time.sleep(POLL)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM raises ``KeyboardInterrupt`` inside the block, as Ctrl-C does, so that the
    ``finally`` clauses that remove containers and images run. Only the main thread can
    set signal handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# Probes go straight to the container, never through a proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer (``status`` None when none came: ``error`` says why)."""

    status: int | None
    body: bytes = b""
    content_type: str = ""
    error: str = ""


def http_get(
    url: str,
    *,
    wait: float,
    alive: Callable[[], bool] | None = None,
    timeout: float = 10.0,
    inside: str | None = None,
) -> Answer:
    """GET ``url``, retrying refused connections until it answers or ``wait`` seconds pass
    (or ``alive`` says the server is gone): the service may still be starting.

    ``inside`` is a network namespace (``/proc/PID/ns/net``, :meth:`Container.network`):
    the GET is made from within it, so ``localhost`` is the container's own, whatever its
    network (``none`` included), and no host port is taken. Entering one needs
    CAP_SYS_ADMIN; without it the GET is made from the host's network."""
    if inside is not None:
        answered: list[Answer] = []
        try:
            fd = os.open(inside, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                # a thread of its own: a namespace is entered by one thread, which then
                # ends (no pool would ever reuse it on the host's network)
                worker = threading.Thread(
                    target=_inside, args=(fd, answered, url, wait, alive, timeout), daemon=True
                )
                worker.start()
                worker.join()
            finally:
                os.close(fd)
        if answered:
            return answered[0]
    return _get(url, wait=wait, alive=alive, timeout=timeout)


CLONE_NEWNET = 0x40000000


def _inside(
    fd: int,
    answered: list[Answer],
    url: str,
    wait: float,
    alive: Callable[[], bool] | None,
    timeout: float,
) -> None:
    """:func:`_get` from within the network namespace ``fd``; nothing in ``answered`` if
    it cannot be entered."""
    try:
        _setns(fd, CLONE_NEWNET)
    except OSError:
        return
    answered.append(_get(url, wait=wait, alive=alive, timeout=timeout))


def _setns(fd: int, kind: int) -> None:
    """setns(2) for the calling thread (``os.setns`` from Python 3.12)."""
    setns = getattr(os, "setns", None)
    if setns is not None:
        setns(fd, kind)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, kind) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _get(url: str, *, wait: float, alive: Callable[[], bool] | None, timeout: float) -> Answer:
    deadline = time.monotonic() + wait
    while True:
        try:
            with _DIRECT.open(url, timeout=timeout) as reply:
                return _answer(url, reply.status, reply, reply.headers, timeout)
        except urllib.error.HTTPError as exc:
            return _answer(url, exc.code, exc, exc.headers, timeout)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if alive is not None and not alive():
                return Answer(None, error=f"no answer from {url}: the container exited")
            if time.monotonic() > deadline:
                return Answer(None, error=f"no answer from {url} in {wait:.0f} s: {reason}")
            time.sleep(0.2)


class Tail:
    """The last ``limits.CONTAINER_OUTPUT`` bytes of a stream, kept as it is read."""

    def __init__(self) -> None:
        self.kept = bytearray()

    def add(self, chunk: bytes) -> None:
        self.kept += chunk
        if len(self.kept) > 2 * CONTAINER_OUTPUT:
            del self.kept[:-CONTAINER_OUTPUT]  # amortised: a copy per CONTAINER_OUTPUT bytes

    def data(self) -> bytes:
        return bytes(self.kept[-CONTAINER_OUTPUT:])

    def text(self) -> str:
        return self.data().decode("utf-8", "replace")


def _cut(stream: Any, cut: threading.Event | None) -> None:
    """Close an engine's stream (docker-py's ``CancellableStream`` may be closed from
    another thread); ``cut`` says it was cut off."""
    if cut is not None:
        cut.set()
    close = getattr(stream, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):  # already closed, or closed as it ended
            close()


def _engine_stream(chunks: Any) -> Iterator[bytes]:
    """The pieces of an engine's streamed answer; a broken stream ends it (EngineError)."""
    try:
        for chunk in chunks:
            yield bytes(chunk)
    except Exception as exc:  # docker-py's and requests' errors: the stream broke
        raise EngineError(f"reading a container's output: {exc}") from exc


def _answer(url: str, status: int, body: Any, headers: Any, timeout: float) -> Answer:
    """An answer whose body is read a piece at a time: one over ``limits.HTTP_ANSWER``
    bytes, or not read within three times ``timeout`` (an app trickling a byte at a time
    never trips the timeout of one read), is no answer to compare."""
    content_type = str(headers.get("content-type", "") if headers is not None else "")
    deadline = time.monotonic() + 3 * timeout
    data = bytearray()
    try:
        while piece := body.read1(64 << 10) if hasattr(body, "read1") else body.read(64 << 10):
            data += piece
            if len(data) > HTTP_ANSWER:
                return Answer(None, error=f"{url}: an answer over {HTTP_ANSWER >> 20} MiB")
            if time.monotonic() > deadline:
                return Answer(None, error=f"{url}: the answer took over {3 * timeout:.0f} s")
    except (OSError, ValueError) as exc:  # the connection broke, or timed out on one read
        return Answer(None, error=f"{url}: the answer broke off ({exc})")
    return Answer(status, bytes(data), content_type)
