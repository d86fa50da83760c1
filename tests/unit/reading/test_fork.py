"""Helpers forked from the command's process (``deadweight.reading._fork``): they hold
nothing of their parent's but their socket, die of the signals a fresh interpreter dies
of, and end with their parent, however it ends. Each case runs in a process of its own,
started here, which has one thread (pytest's may have more)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deadweight.reading import _fork

# A parent that holds a file open, starts its helpers (forked: it runs
# one thread), prints their pids and what each holds open, then waits.
PARENT = """
import json, os, signal, sys
from deadweight.reading import _pool
from deadweight.reading._fork import Forked
held = open(sys.argv[1], "rb")
_pool.warm_up()
helpers = _pool.shared(0)._all
for helper in helpers:
    assert helper.ready() and isinstance(helper.proc, Forked)
print(json.dumps({
    str(h.proc.pid): {fd: os.readlink(f"/proc/{h.proc.pid}/fd/{fd}")
                      for fd in os.listdir(f"/proc/{h.proc.pid}/fd")}
    for h in helpers
}), flush=True)
sys.stdin.read()
"""


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # exited, not yet reaped
    except FileNotFoundError:
        return True


def wait_gone(pids: list[int]) -> bool:
    deadline = time.monotonic() + 30
    while not all(gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    return all(gone(p) for p in pids)


def parent(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, dict[str, str]]]:
    import json

    (tmp_path / "held").write_bytes(b"x")
    proc = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "held")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the parent failed"
    helpers: dict[str, dict[str, str]] = json.loads(line)
    return proc, helpers


@pytest.mark.skipif(os.cpu_count() == 1, reason="helpers start only on more than one CPU")
def test_a_forked_helper_holds_only_its_socket_and_dev_null(tmp_path: Path) -> None:
    proc, helpers = parent(tmp_path)
    try:
        assert len(helpers) == 2
        for held in helpers.values():
            assert {fd: held[fd] for fd in ("0", "1", "2")} == dict.fromkeys("012", os.devnull)
            others = [target for fd, target in held.items() if fd not in "012"]
            assert len(others) == 1 and others[0].startswith("socket:")  # not the file
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(os.cpu_count() == 1, reason="helpers start only on more than one CPU")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT", "end of input"])
def test_forked_helpers_end_with_their_parent(tmp_path: Path, how: str) -> None:
    proc, helpers = parent(tmp_path)
    pids = [int(p) for p in helpers]
    if how == "end of input":
        assert proc.stdin is not None
        proc.stdin.close()  # the parent exits normally
    else:
        proc.send_signal(getattr(signal, how))
    proc.wait()
    assert wait_gone(pids)


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_forked_child_dies_of_the_signals_its_parent_handles(number: int) -> None:
    code = (
        "import os, signal, time\n"
        "from deadweight.reading import _fork\n"
        "signal.signal(signal.SIGTERM, lambda *a: None)\n"
        "child = _fork.fork(-1, lambda: time.sleep(60))\n"
        "time.sleep(0.2)\n"
        f"os.kill(child.pid, {int(number)})\n"
        "print(child.wait(30))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ).stdout
    assert out == f"{-number}\n"


def test_a_fork_needs_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert _fork.may_fork() == sys.platform.startswith("linux")
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not _fork.may_fork()
