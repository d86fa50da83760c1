"""A helper process started by forking this one, where that is safe.

A helper started as a fresh interpreter (``python -I -c ...``) pays for its start and its
imports, about 0.09 s of CPU each, before it reads a byte; the CLI starts two or three. A
child forked from this process has everything imported already, and costs a few
milliseconds (its pages are shared, copy-on-write). Forking is safe only while this
process runs one thread (another thread could hold a lock the child would then wait on
for ever), so :func:`may_fork` says so only then, and only on Linux (macOS's system
libraries do not survive a fork without exec); elsewhere the helper is started afresh.

The child owns nothing of its parent's: it closes every inherited file descriptor but its
socket (another helper's socket held open here would keep that helper alive after the
parent died), points its standard streams at ``/dev/null``, restores the default action
of the signals a command may handle (a SIGTERM handler of the parent would otherwise run
in the child), never collects its parent's objects, and leaves by ``os._exit``: no
``atexit`` handler, ``finally`` block or buffered output of the parent runs or is written
twice.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

# Signals whose handler the child restores to the default (it dies of them, as a fresh
# interpreter would, Ctrl-C's SIGINT included).
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def may_fork() -> bool:
    """Whether a helper may be forked from this process now (Linux, one thread)."""
    return sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1


class Forked:
    """The parent's handle on a forked child: what :class:`subprocess.Popen` offers that a
    helper's parent uses (``pid``, ``returncode``, ``poll``, ``wait``, ``kill``)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = 0
                return 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.0005
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"helper {self.pid}", timeout or 0.0)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return code

    def kill(self) -> None:
        if self.returncode is None:  # not reaped: the pid is still the child's
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def fork(keep: int, serve: Callable[[], None]) -> Forked | None:
    """Fork a child that runs ``serve()`` with only descriptor ``keep`` (and its standard
    streams, on ``/dev/null``) open, and exits when it returns or raises; None if this
    process cannot fork."""
    gc.freeze()  # the child never collects (and so never finalizes) the parent's objects
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        return None
    if pid:
        gc.unfreeze()
        return Forked(pid)
    code = 1
    try:
        _detach(keep)
        serve()
        code = 0
    finally:
        os._exit(code)


def _detach(keep: int) -> None:
    for number in _SIGNALS:
        signal.signal(number, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    for name in os.listdir("/proc/self/fd"):  # what this process holds, however many
        fd = int(name)
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):  # the listing's own descriptor, gone
                os.close(fd)
