"""What a container opens and executes, seen from the host with fanotify(7).

Nothing is put into the image and nothing runs privileged in the container: the host
process (root) asks the kernel for an event on every open (``FAN_OPEN``) and every
execution (``FAN_OPEN_EXEC``) on the whole file system that holds the engine's storage
(``FAN_MARK_FILESYSTEM``). The mark is placed **before** the container starts, so the
first opens of its first process (the dynamic loader, libc, the shell) are seen too.

Each event carries an open file descriptor and the pid of the process that opened the
file. The reader thread, as each event arrives:

* reads ``/proc/PID/ns/mnt``, the process's mount namespace: the host's own namespace
  (dockerd reading a container's ``/etc/passwd``, every other host process) is dropped;
* for a process not seen before, reads ``/proc/PID/cgroup``, which names the container
  (``/docker/ID``, ``libpod-ID``). Every event is kept under its namespace and cgroup, so
  a container that is known only after it started (or that has already exited) finds its
  early events there: :meth:`Tracer.seen` takes the container's ID;
* reads ``/proc/self/fdinfo/N`` for the mount the file was opened through (with overlay
  storage, the container's own private clone of one of its layers) and ``fstat``s the
  file. A process that exits before its namespace can be read (``sh -c`` running ``ls``,
  a server's short-lived worker) is attributed by that mount, once an event of the
  container has shown it, or else by the file itself: the same inode at the same path in
  one of the container's layer directories;
* resolves the path with ``readlink /proc/self/fd/N``: relative to the mount's root,
  that is the path as the container sees it (``/usr/lib/x86_64-linux-gnu/libc.so.6``);
* closes the descriptor.

Only libc is used (through ctypes): two system calls and one fixed-size record.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from deadweight.errors import TraceUnavailable

FAN_CLASS_NOTIF = 0x0
FAN_CLOEXEC = 0x1
FAN_NONBLOCK = 0x2
FAN_UNLIMITED_QUEUE = 0x10
FAN_MARK_ADD = 0x1
FAN_MARK_FILESYSTEM = 0x100
FAN_OPEN = 0x20
FAN_OPEN_EXEC = 0x1000
FAN_Q_OVERFLOW = 0x4000
AT_FDCWD = -100
_EVENT = struct.Struct("=IBBHQii")  # struct fanotify_event_metadata
_BUFFER = 1 << 16
_POLL_MS = 100
SETTLE_LIMIT = 5.0  # seconds settle() waits for the queue to empty


@dataclass(frozen=True, slots=True)
class Seen:
    """Paths one container opened and executed, as it saw them."""

    opened: frozenset[str]
    executed: frozenset[str]

    def __sub__(self, other: Seen) -> Seen:
        return Seen(self.opened - other.opened, self.executed - other.executed)


NOTHING = Seen(frozenset(), frozenset())


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
    libc.fanotify_init.restype = ctypes.c_int
    libc.fanotify_mark.argtypes = [
        ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p
    ]  # fmt: skip
    libc.fanotify_mark.restype = ctypes.c_int
    return libc


def _namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _cgroup(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as text:
            return text.read()
    except OSError:
        return None


def _mount_id(fd: int) -> int | None:
    try:
        with open(f"/proc/self/fdinfo/{fd}", "rb") as info:
            for line in info:
                if line.startswith(b"mnt_id:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def require_root() -> None:
    """fanotify needs CAP_SYS_ADMIN: say so before anything else runs."""
    if os.geteuid() != 0:
        raise TraceUnavailable("tracing needs root (fanotify): run as root, or use --static")


def _in_layers(path: str, inodes: set[tuple[int, int]], layers: Sequence[str]) -> bool:
    """Whether the file opened as ``path`` is that path in one of ``layers``."""
    for layer in layers:
        try:
            st = os.stat(os.path.join(layer, path.lstrip("/")), follow_symlinks=False)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in inodes:
            return True
    return False


class Tracer:
    """A fanotify mark on the file system holding ``path``, read by a thread until
    :meth:`close` (or the end of the ``with`` block)."""

    def __init__(self, path: str) -> None:
        if not hasattr(os, "readlink") or not os.path.exists("/proc/self/fdinfo"):
            raise TraceUnavailable("tracing needs Linux with /proc")
        libc = _libc()
        flags = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE
        fd = libc.fanotify_init(flags, os.O_RDONLY | os.O_LARGEFILE | os.O_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            if err == 1:  # EPERM
                raise TraceUnavailable(
                    "tracing needs root (fanotify): run as root, or use --static"
                )
            raise TraceUnavailable(f"fanotify_init failed: {os.strerror(err)}")
        mask = FAN_OPEN | FAN_OPEN_EXEC
        if libc.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD,
                              os.fsencode(path)) < 0:  # fmt: skip
            err = ctypes.get_errno()
            os.close(fd)
            raise TraceUnavailable(f"fanotify_mark {path}: {os.strerror(err)}")
        self._fd = fd
        self._host = _namespace(os.getpid())
        # (cgroup or None, mount id) -> path -> mask of what was done to it; a process's
        # cgroup by (pid, namespace): namespace inodes are reused once a namespace dies
        self._seen: dict[tuple[str | None, int | None], dict[str, int]] = defaultdict(dict)
        # for processes gone before they could be read: path -> (device, inode) opened
        self._files: dict[str, set[tuple[int, int]]] = defaultdict(set)
        self._owners: dict[tuple[int, str], str | None] = {}
        self._lock = threading.Lock()
        self._drained = 0.0
        self._stop = threading.Event()
        self.overflowed = False
        self._thread = threading.Thread(target=self._read, name="fanotify", daemon=True)
        self._thread.start()

    def _record(self, mask: int, fd: int, pid: int) -> None:
        try:
            ns = _namespace(pid)
            if ns is not None and ns == self._host:
                return
            owner = None
            if ns is not None:
                if (pid, ns) not in self._owners:
                    self._owners[(pid, ns)] = _cgroup(pid)
                owner = self._owners[(pid, ns)]
            mount = _mount_id(fd)
            try:
                path = os.readlink(f"/proc/self/fd/{fd}")
                st = os.fstat(fd) if owner is None else None
            except OSError:
                return
        finally:
            os.close(fd)
        if not path.startswith("/") or path.endswith(" (deleted)"):
            return
        with self._lock:
            paths = self._seen[(owner, mount)]
            paths[path] = paths.get(path, 0) | mask
            if st is not None:
                self._files[path].add((st.st_dev, st.st_ino))

    def _read(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        while not self._stop.is_set():
            poller.poll(_POLL_MS)
            while True:
                try:
                    buf = os.read(self._fd, _BUFFER)
                except BlockingIOError:
                    self._drained = time.monotonic()
                    break
                except OSError:
                    return
                offset = 0
                while offset + _EVENT.size <= len(buf):
                    length, _, _, _, mask, fd, pid = _EVENT.unpack_from(buf, offset)
                    if mask & FAN_Q_OVERFLOW:
                        self.overflowed = True
                    if fd >= 0:
                        self._record(mask, fd, pid)
                    offset += length or _EVENT.size

    def settle(self) -> None:
        """Wait until every event queued before this call has been read."""
        asked = time.monotonic()
        deadline = asked + SETTLE_LIMIT
        while self._drained <= asked and time.monotonic() < deadline:
            if not self._thread.is_alive():
                return
            time.sleep(0.02)

    def seen(self, container_id: str, layers: Sequence[str] = ()) -> Seen:
        """Everything the container ``container_id`` opened and executed so far;
        ``layers`` are its layer directories on the host (overlay's lower and upper)."""
        self.settle()
        opened: set[str] = set()
        executed: set[str] = set()
        with self._lock:
            groups = [(key, dict(paths)) for key, paths in self._seen.items()]
            files = {path: set(found) for path, found in self._files.items()}
        mine = {key for key, _ in groups if key[0] is not None and container_id in key[0]}
        mounts = {mount for _, mount in mine if mount is not None}
        for (owner, mount), paths in groups:
            if (owner, mount) in mine or (owner is None and mount in mounts):
                found = list(paths.items())
            elif owner is None and layers:
                found = [(p, m) for p, m in paths.items() if _in_layers(p, files[p], layers)]
            else:
                continue
            for path, mask in found:
                if mask & FAN_OPEN_EXEC:
                    executed.add(path)
                opened.add(path)
        return Seen(frozenset(opened), frozenset(executed))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def __enter__(self) -> Tracer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
