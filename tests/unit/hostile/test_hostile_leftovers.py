"""After a SIGKILL (issue 16): spool files have no name, so a killed run leaves none in
TMPDIR; what must have a name carries the PID, and the next run removes it once its
process is gone and it is old enough."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deadweight import limits, scratch, static
from deadweight.mutate._spool import Spool
from deadweight.optimize import apply, plan
from deadweight.scratch import atomic_dir, atomic_file

S = static


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_spool_files_have_no_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEADWEIGHT_TMPDIR", str(tmp_path))
    spool = Spool()
    spool.file.write(b"layer bytes")
    spool.file.flush()
    with spool.opener()() as a, spool.opener()() as b:
        assert a.read() == b"layer bytes" and b.read(5) == b"layer"
    assert list(tmp_path.iterdir()) == []


def test_optimize_names_no_file_in_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spools = tmp_path / "spools"
    spools.mkdir()
    monkeypatch.setenv("DEADWEIGHT_TMPDIR", str(spools))
    layer = S.layer([S.File("bin/app", b"a" * 100), S.File("tmp/x.log", b"l" * 50)], "gzip")
    image = S.image([S.Step("RUN x", layer)])
    result = apply(image, plan(image, level="safe", squash="all"))
    with result.layers[-1].open() as stream:
        assert stream.read()
    assert list(spools.iterdir()) == []


def test_atomic_file_leaves_no_name_while_writing(tmp_path: Path) -> None:
    dest = tmp_path / "out.tar"
    with atomic_file(dest) as f:
        f.write(b"x" * 1000)
        names = sorted(p.name for p in tmp_path.iterdir())
        # an unnamed file where the file system links one (else one with our PID in it)
        assert names == [] or names == [n for n in names if f".{os.getpid()}." in n]
    assert dest.read_bytes() == b"x" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["out.tar"]


def test_leftovers_of_a_dead_run_are_swept(tmp_path: Path) -> None:
    pid = dead_pid()
    stale_dir = tmp_path / f".out.{pid}.abc123.part"
    (stale_dir / "deep/er").mkdir(parents=True)
    (stale_dir / "deep/er/file").write_bytes(b"x")
    os.chmod(stale_dir / "deep", 0o555)
    stale_file = tmp_path / f".out.{pid}.link.part"
    stale_file.write_bytes(b"half an image")
    young = tmp_path / f".out.{pid}.young1.part"
    young.mkdir()
    mine = tmp_path / f".out.{os.getpid()}.mine.part"
    mine.mkdir()
    other = tmp_path / f".other.{pid}.abc.part"
    other.mkdir()
    unrelated = tmp_path / ".out.notapid.part"
    unrelated.mkdir()
    for p in (stale_dir, stale_file, mine, other, unrelated):
        age(p, limits.STALE_TEMP + 10)
    gone = scratch.sweep(tmp_path, "out")
    assert sorted(gone) == sorted([stale_dir, stale_file])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (young, mine, other, unrelated)
    )


def test_the_next_export_sweeps_a_killed_one(tmp_path: Path) -> None:
    pid = dead_pid()
    left = tmp_path / f".out.{pid}.xyz.part"
    (left / "etc").mkdir(parents=True)
    age(left, limits.STALE_TEMP + 1)
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "f").write_bytes(b"1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_remove_tree_of_any_depth(tmp_path: Path) -> None:
    top = tmp_path / f".out.{dead_pid()}.deep.part"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:  # 3,000 levels: past rmtree's recursion and past PATH_MAX
        for _ in range(3_000):
            os.mkdir("d", dir_fd=fd)
            with open(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "wb") as f:
                f.write(b"x")
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        os.chmod(fd, 0o500)
    finally:
        os.close(fd)
    scratch.remove_tree(top)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_of_a_deep_tree_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "out") as tmp:
        here = tmp
        for _ in range(50):
            here = here / "d"
        here.mkdir(parents=True)
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
