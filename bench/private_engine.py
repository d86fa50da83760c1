"""The Docker engine a bench talks to: ``$DOCKER_HOST`` when set, else a private dockerd
started (as root) the way the integration tests start theirs, and stopped afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def private_engine(workdir: Path) -> tuple[dict[str, str], Callable[[], None]] | None:
    """``(environment, stop)`` for the engine, or None when none can be had here."""
    if os.environ.get("DOCKER_HOST"):
        return dict(os.environ), lambda: None
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        return None
    sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
    from engine_fixtures import start_dockerd

    (workdir / "dockerd").mkdir()
    host, stop = start_dockerd(workdir / "dockerd")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_HOST"] = host
    return env, stop


def docker(env: dict[str, str], *args: str) -> str:
    """What ``docker ARGS`` prints, stripped; a failure raises."""
    proc = subprocess.run(
        ["/usr/bin/docker", *args], env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()
