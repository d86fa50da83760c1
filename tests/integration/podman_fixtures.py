"""Podman as the engine: ``podman system service`` on a private socket and storage.

Podman 4.3 (Debian 12) runs containers in this sandbox only with runc and without default
ulimits; a private ``containers.conf`` (``CONTAINERS_CONF``) says so, and a private root
and run root keep its images away from any other podman on the machine. The service is
stopped by its pid, and what it left mounted is unmounted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import DockerEngine, _umount_under, log_tail, ping, unavailable

PODMAN = shutil.which("podman") or "/usr/bin/podman"
CONF = """\
[containers]
default_ulimits = []

[engine]
runtime = "runc"
"""


@pytest.fixture(scope="session")
def podman_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    """A private Podman service, spoken to through its Docker-compatible API."""
    if not os.access(PODMAN, os.X_OK) or shutil.which("runc") is None:
        unavailable("podman and runc are not installed (scripts/bootstrap installs them)")
    if os.geteuid() != 0:
        unavailable("the podman service here needs root")
    work = tmp_path_factory.mktemp("podman")
    short = Path(tempfile.mkdtemp(prefix="dwp-"))  # unix socket paths are short
    sock, log = short / "podman.sock", work / "podman.log"
    (work / "containers.conf").write_text(CONF)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["CONTAINERS_CONF"] = str(work / "containers.conf")
    cmd = [PODMAN, "--root", str(work / "root"), "--runroot", str(short / "run"),
           "system", "service", "--time=0", f"unix://{sock}"]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while not ping(str(sock)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"podman service did not answer:\n{log_tail(log)}", pytrace=False)
            time.sleep(0.2)
        env["DOCKER_HOST"] = f"unix://{sock}"
        yield DockerEngine(env["DOCKER_HOST"], env, log, 0.0)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(30)
        _umount_under(work / "root", short / "run")
        shutil.rmtree(short, ignore_errors=True)
