"""A private Docker engine for integration tests, and a base image made without network.

``start_dockerd(tmpdir)`` starts Debian's dockerd with its data root, exec root, socket,
pidfile and log under ``tmpdir`` (no bridge, no iptables: the sandbox has no network) and
returns ``(docker_host, stop)``. The session fixture ``docker_engine`` wraps it; import it
(and ``docker_engine_env``, ``busybox_base``) into a ``conftest.py`` to share one daemon
per test session. Without dockerd the fixture skips, or fails when ``CI`` is set: in CI
nothing is skipped silently.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
# Debian's 20.10 client, which builds with BuildKit; a newer client without buildx may sit
# earlier on PATH (/usr/local/bin/docker), so never call plain "docker".
DOCKER_CLI = "/usr/bin/docker"
SKOPEO = "/usr/bin/skopeo"
BUSYBOX = "/bin/busybox"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
BASE_TAG = "dw-busybox:latest"
_MAX_SOCKET_DIR = 60  # keep <dir>/exec/containerd/containerd.sock.ttrpc under 108 bytes


def missing_reason() -> str | None:
    """Why a private dockerd cannot run here, or None."""
    if not os.access(DOCKERD, os.X_OK):
        return f"dockerd is not installed ({DOCKERD}): apt-get install docker.io"
    if not os.access(DOCKER_CLI, os.X_OK):
        return f"the docker 20.10 client is not installed ({DOCKER_CLI}): apt-get install docker.io"
    if os.geteuid() != 0:
        return "dockerd needs root"
    return None


def unavailable(reason: str) -> None:
    """Skip, or fail when CI is set."""
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


def log_tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(no dockerd log: {exc})"
    return "\n".join(text[-lines:])


def ping(sock_path: str, timeout: float = 2.0) -> bool:
    """``GET /_ping`` over the unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock_path)
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
    except OSError:
        return False
    return answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n", 1)[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_from(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _umount_under(*dirs: Path) -> None:
    """Unmount what a stopped dockerd left mounted (netns bind mounts, overlays)."""
    prefixes = tuple(str(d) + "/" for d in dirs)
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    points = [m.split()[1].replace("\\040", " ") for m in mounts if len(m.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefixes)), key=len, reverse=True):
        if subprocess.run(["umount", point], capture_output=True).returncode:
            subprocess.run(["umount", "-l", point], capture_output=True)


def start_dockerd(tmpdir: Path) -> tuple[str, Callable[[], None]]:
    """Start a private dockerd under ``tmpdir``; return its DOCKER_HOST and a stop function."""
    tmpdir = Path(tmpdir)
    short = tmpdir
    if len(str(tmpdir)) > _MAX_SOCKET_DIR:
        short = Path(tempfile.mkdtemp(prefix="dwd-"))
    data_root, exec_root = tmpdir / "docker-root", short / "exec"
    sock, pidfile, log = short / "docker.sock", tmpdir / "docker.pid", tmpdir / "dockerd.log"
    cmd = [
        DOCKERD,
        "--data-root", str(data_root),
        "--exec-root", str(exec_root),
        "--host", f"unix://{sock}",
        "--pidfile", str(pidfile),
        "--iptables=false", "--ip-masq=false", "--bridge=none",
        "--exec-opt", "native.cgroupdriver=cgroupfs",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        pid = _pid_from(pidfile)
        if pid != proc.pid:  # only ever signal the process we started
            pid = proc.pid
        if proc.poll() is None:
            os.kill(pid, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT)
        # the containerd it started outlives a killed dockerd
        containerd = _pid_from(exec_root / "containerd" / "containerd.pid")
        if containerd is not None and _alive(containerd):
            os.kill(containerd, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while _alive(containerd) and time.monotonic() < deadline:
                time.sleep(0.1)
        _umount_under(exec_root, data_root)
        if short != tmpdir:
            shutil.rmtree(short, ignore_errors=True)

    deadline = time.monotonic() + START_TIMEOUT
    while not ping(str(sock)):
        if proc.poll() is not None or time.monotonic() > deadline:
            what = "exited" if proc.poll() is not None else f"no answer after {START_TIMEOUT:.0f} s"
            stop()
            raise RuntimeError(f"dockerd {what}; dockerd.log tail:\n{log_tail(log)}")
        time.sleep(0.1)
    return f"unix://{sock}", stop


@dataclass(frozen=True)
class DockerEngine:
    """A running private engine: its DOCKER_HOST, an environment for clients, its log."""

    host: str
    env: dict[str, str] = field(repr=False)
    log: Path
    started_in: float  # seconds from start to the first answered ping

    def docker(self, *args: str, buildkit: bool | None = None, cwd: Path | None = None) -> str:
        """Run the docker 20.10 client against this engine; its stdout."""
        env = dict(self.env)
        if buildkit is not None:
            env["DOCKER_BUILDKIT"] = "1" if buildkit else "0"
        proc = subprocess.run(
            [DOCKER_CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
        )
        if proc.returncode:
            raise AssertionError(
                f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
                f"\n--- dockerd.log tail ---\n{log_tail(self.log)}"
            )
        return proc.stdout

    def deadweight(self, command: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """The real CLI in its own process against this engine, with a layer store under
        ``cwd`` (CI unset, so ``analyze`` is not a CI gate unless asked)."""
        env = {k: v for k, v in self.env.items() if k != "CI"}
        env["DEADWEIGHT_CACHE_DIR"] = str(cwd / "cache")
        return subprocess.run(
            [sys.executable, "-c", "from deadweight.cli import main\nmain()\n", command, *args],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip

    def skopeo_inspect(self, spec: str) -> dict[str, Any]:
        """``skopeo inspect SPEC`` (a docker-daemon: spec on this engine), which must work."""
        args = [SKOPEO, "inspect"]
        if spec.startswith("docker-daemon:"):
            args += ["--daemon-host", self.host]
        proc = subprocess.run(
            [*args, spec], capture_output=True, text=True, timeout=300, env=self.env
        )
        assert proc.returncode == 0, proc.stderr
        doc: dict[str, Any] = json.loads(proc.stdout)
        return doc

    def build(self, context: Path, tag: str, *, buildkit: bool) -> str:
        """``docker build --network none``; the new image's ID."""
        self.docker("build", "--network", "none", "-t", tag, str(context), buildkit=buildkit)
        return self.docker("image", "inspect", "--format", "{{.Id}}", tag).strip()


def busybox_rootfs_tar() -> bytes:
    """A minimal root filesystem: static busybox, its applets as symlinks, passwd, group."""
    applets = subprocess.run(
        [BUSYBOX, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(
            name: str, kind: bytes, data: bytes = b"", mode: int = 0o644, link: str = ""
        ) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.linkname = kind, mode, 946684800, link
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        for d in ("bin", "etc", "root", "tmp", "var"):
            add(d, tarfile.DIRTYPE, mode=0o1777 if d == "tmp" else 0o755)
        add("bin/busybox", tarfile.REGTYPE, Path(BUSYBOX).read_bytes(), 0o755)
        for applet in sorted(set(applets) - {"busybox"}):
            add(f"bin/{applet}", tarfile.SYMTYPE, mode=0o777, link="busybox")
        add("etc/passwd", tarfile.REGTYPE, b"root:x:0:0:root:/root:/bin/sh\n"
            b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")  # fmt: skip
        add("etc/group", tarfile.REGTYPE, b"root:x:0:\nnogroup:x:65534:\n")
    return buf.getvalue()


def build_busybox_base(engine: DockerEngine, workdir: Path, tag: str = BASE_TAG) -> str:
    """``FROM scratch`` + ``ADD rootfs.tar /``; the image ID.

    Built with the classic builder, so its images are linked as parents and the history of
    a classic build on top of it has an ID on every row.
    """
    context = workdir / "busybox-base"
    context.mkdir(parents=True, exist_ok=True)
    (context / "rootfs.tar").write_bytes(busybox_rootfs_tar())
    (context / "Dockerfile").write_text('FROM scratch\nADD rootfs.tar /\nCMD ["/bin/sh"]\n')
    return engine.build(context, tag, buildkit=False)


@pytest.fixture(scope="session")
def docker_engine(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[DockerEngine]:
    """One private dockerd for the whole session."""
    reason = missing_reason()
    if reason:
        unavailable(reason)
    tmpdir = tmp_path_factory.mktemp("dockerd")
    began = time.monotonic()
    host, stop = start_dockerd(tmpdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_HOST"] = host
    engine = DockerEngine(host, env, tmpdir / "dockerd.log", time.monotonic() - began)
    try:
        yield engine
    finally:
        if request.session.testsfailed:
            print(f"\n--- dockerd.log tail ---\n{log_tail(engine.log)}", file=sys.stderr)
        stop()


@pytest.fixture
def docker_engine_env(docker_engine: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> DockerEngine:
    """The engine, with DOCKER_HOST set in os.environ for the duration of one test."""
    for key in [k for k in os.environ if k.startswith("DOCKER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DOCKER_HOST", docker_engine.host)
    return docker_engine


@pytest.fixture(scope="session")
def busybox_base(docker_engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tag of a tiny busybox base image on the session's engine."""
    build_busybox_base(docker_engine, tmp_path_factory.mktemp("busybox"))
    return BASE_TAG
