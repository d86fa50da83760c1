"""A real Dask cluster on localhost for the scan tests: ``dask scheduler`` and ``dask worker``
processes started from this venv, each in its own session, stopped by pid."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from registry_fixtures import free_port

DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT = 60.0


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def kill_worker(self, name: str) -> None:
        process = self.workers[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@contextmanager
def dask_cluster(workdir: Path, workers: int = 2) -> Iterator[DaskCluster]:
    """A scheduler and ``workers`` single-threaded workers without nannies: a killed
    worker stays dead, so its tasks must be run again by the others."""
    if not DASK.is_file():
        pytest.fail(f"{DASK} missing: pip install -e '.[dev]' (dask and distributed)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"

    def start(args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (workdir / log).open("ab") as out:
            return subprocess.Popen(
                [str(DASK), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=workdir,
                start_new_session=True,
            )

    scheduler = start(
        ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler.log"
    )
    cluster = DaskCluster(address, scheduler)
    try:
        for n in range(workers):
            name = f"w{n}"
            cluster.workers[name] = start(
                [
                    "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                    "--no-dashboard", "--local-directory", str(workdir / name),
                ],
                f"{name}.log",
            )  # fmt: skip
        # typed as Any: distributed ships no type information for its API
        Client: Any = importlib.import_module("distributed").Client

        with Client(address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT)
        yield cluster
    finally:
        for process in cluster.workers.values():
            _stop(process)
        _stop(scheduler)
        time.sleep(0)
