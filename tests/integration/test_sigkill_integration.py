"""SIGKILL during ``optimize`` and ``export`` (issue 16), through the real executable.

A killed run must leave no partial output under the final name and nothing in TMPDIR (spool
files have no name). Where the file system cannot link an unnamed file into place, it may
leave one ``.DEST.PID.*.part`` beside the destination, named with the killed PID; the next
run writing the same destination removes it once it is old enough (aged here with utime).
"""

from __future__ import annotations

import gzip
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from deadweight import limits, mediatypes, static
from deadweight.digest import sha256_bytes
from deadweight.image import Layer
from deadweight.sources import archive
from deadweight.spec.manifest import Descriptor

pytestmark = pytest.mark.integration

DEADWEIGHT = Path(sys.executable).with_name("deadweight")
KILL_AFTER = (0.3, 1.0, 2.5)  # seconds: while reading, while writing, near the end


def _layer(files: int, size: int, seed: int) -> Layer:
    rng = random.Random(seed)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(files):
            info = tarfile.TarInfo(f"srv/d{i % 50}/f{i}")
            data = rng.randbytes(size)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for i in range(files // 4):
            info = tarfile.TarInfo(f"tmp/cache{i}.log")
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    blob = gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)
    desc = Descriptor(mediatypes.OCI_LAYER_GZIP, sha256_bytes(blob), len(blob))
    return Layer(sha256_bytes(raw.getvalue()), desc, lambda: io.BytesIO(blob), seekable=True)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sigkill") / "app.tar"
    steps = [
        static.Step("ADD rootfs /", _layer(4000, 2048, 1)),
        static.Step("RUN build", _layer(4000, 2048, 2)),
    ]
    archive.write([static.image(steps, repo_tags=("app:1",))], path)
    return path


def _run(args: list[str], tmp: Path, kill_after: float | None) -> int | None:
    """Run deadweight; SIGKILL it after ``kill_after`` s. Its pid if killed, else None."""
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "DEADWEIGHT_TMPDIR": str(tmp),
        "DEADWEIGHT_CACHE_DIR": str(tmp.parent / "cache"),
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    }
    proc = subprocess.Popen(
        [str(DEADWEIGHT), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if kill_after is None:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()
        return None
    time.sleep(kill_after)
    if proc.poll() is not None:  # it finished first: a complete output is fine
        proc.communicate()
        assert proc.returncode == 0
        return None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return proc.pid


def _leftovers(folder: Path, name: str, pid: int | None) -> list[Path]:
    """Entries beside the destination other than it; only ones named with ``pid`` allowed."""
    others = [p for p in folder.iterdir() if p.name != name]
    pattern = re.compile(rf"^\.{re.escape(name)}\.{pid}\.[A-Za-z0-9_]+\.part$")
    assert all(pid is not None and pattern.match(p.name) for p in others), others
    return others


def _age(paths: list[Path]) -> None:
    then = time.time() - limits.STALE_TEMP - 5
    for p in paths:
        os.utime(p, (then, then), follow_symlinks=False)


@pytest.mark.parametrize("kill_after", KILL_AFTER)
def test_killed_optimize_leaves_no_partial_output_and_no_spool(
    image: Path, tmp_path: Path, kill_after: float
) -> None:
    spools = tmp_path / "tmp"
    spools.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "app-small.tar"
    args = ["optimize", str(image), "-o", f"docker-archive:{dest}", "--squash", "all"]
    pid = _run(args, spools, kill_after)
    assert list(spools.iterdir()) == [], "a killed optimize left spool files in TMPDIR"
    if dest.exists():  # finished (or killed after the rename): whole
        assert archive.read(dest).config.diff_ids
        dest.unlink()
    left = _leftovers(out, dest.name, pid)
    _age(left)
    _run(args, spools, None)  # the next run: sweeps, then writes a whole output
    assert [p.name for p in out.iterdir()] == [dest.name]
    assert archive.read(dest).config.diff_ids
    assert list(spools.iterdir()) == []


@pytest.mark.parametrize("kill_after", KILL_AFTER)
def test_killed_export_leaves_no_partial_tree(
    image: Path, tmp_path: Path, kill_after: float
) -> None:
    spools = tmp_path / "tmp"
    spools.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "rootfs"
    args = ["export", str(image), "-o", str(dest)]
    pid = _run(args, spools, kill_after)
    assert list(spools.iterdir()) == []
    if dest.exists():  # finished (or killed after the rename): whole
        assert (
            len(list((dest / "srv").rglob("f*"))) == 4000
        )  # the second layer rewrites the first one's files
        shutil.rmtree(dest)
    left = _leftovers(out, dest.name, pid)
    _age(left)
    _run(args, spools, None)
    assert [p.name for p in out.iterdir()] == [dest.name]
    assert (
        len(list((dest / "srv").rglob("f*"))) == 4000
    )  # the second layer rewrites the first one's files
    assert list(spools.iterdir()) == []
