"""Scratch files a killed run cannot leave behind, the one atomic writer of an output
file or directory, and the sweep of older runs' leftovers.

A SIGKILL runs no ``finally`` (issue 16: killed optimizes left spool files in TMPDIR 29
times in 30, a killed export its ``.DIR.*.part`` tree). So:

* spool files have no name: :func:`unnamed` opens them with ``O_TMPFILE`` (or unlinks
  them at once where the file system lacks it), and a second reader opens the same inode
  through ``/proc/self/fd``;
* an output file is written unnamed in its destination's folder and linked into place
  when whole (:func:`link_into`);
* what must have a name (an output directory under construction) carries our PID in it,
  ``.NAME.PID.RANDOM.part``, and :func:`sweep` removes those whose process is gone and
  that are older than :data:`~deadweight.limits.STALE_TEMP`, on the next run.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from deadweight import limits

_PROC_FD = "/proc/self/fd"


def folder() -> str:
    """Where spool files go: ``$DEADWEIGHT_TMPDIR``, else the system's temp folder."""
    return os.environ.get("DEADWEIGHT_TMPDIR") or tempfile.gettempdir()


def unnamed(where: str | None = None) -> tuple[IO[bytes], Callable[[], BinaryIO]]:
    """A read-write temp file with no name, and an opener of independent readers of it
    (they stay valid as long as the file object lives)."""
    spool: IO[bytes] = tempfile.TemporaryFile(dir=where or folder())  # noqa: SIM115
    if not os.path.isdir(_PROC_FD):  # pragma: no cover - Linux always has it
        spool.close()
        named = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"deadweight-{os.getpid()}-", dir=where or folder()
        )
        return named, lambda: open(named.name, "rb")
    path = f"{_PROC_FD}/{spool.fileno()}"

    def reopen() -> BinaryIO:
        assert not spool.closed
        return open(path, "rb")

    return spool, reopen


def open_unnamed_in(directory: Path) -> int | None:
    """A write descriptor of an ``O_TMPFILE`` in ``directory``, or None where the file
    system does not offer one."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag:  # pragma: no cover
        return None
    try:
        fd = os.open(directory, flag | os.O_WRONLY, 0o600)
    except OSError:
        return None
    try:  # some file systems (overlayfs) make it but cannot link it: EXDEV
        os.unlink(link_into(fd, directory, "probe"))
    except OSError:
        os.close(fd)
        return None
    return fd


def link_into(fd: int, directory: Path, name: str) -> Path:
    """Give the ``O_TMPFILE`` behind ``fd`` the name ``.NAME.PID.part`` in ``directory``
    (linkat through /proc), the step before it is renamed over the destination."""
    temp = directory / part_name(name, "link")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)
    os.link(f"{_PROC_FD}/{fd}", temp, follow_symlinks=True)
    return temp


def part_name(name: str, tag: str) -> str:
    return f".{name}.{os.getpid()}.{tag}.part"


_PART = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(directory: Path, name: str, now: float | None = None) -> list[Path]:
    """Remove leftovers of killed runs that wrote ``name`` in ``directory``: ours by their
    name, stale because their process is gone and they are old. Returns what went."""
    gone: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return gone
    for entry in entries:
        m = _PART.match(entry.name)
        if m is None or m.group("name") != name or _alive(int(m.group("pid"))):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < limits.STALE_TEMP:
                continue
            if entry.is_dir(follow_symlinks=False):
                remove_tree(Path(entry.path))
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        gone.append(Path(entry.path))
    return gone


def remove_tree(top: Path) -> None:
    """``rm -rf top`` for a tree of any depth. ``shutil.rmtree`` recurses once per level
    (a RecursionError past ~1,000) and paths grow past PATH_MAX; here every directory is
    first moved up beside ``top``, so each one is removed at depth one."""
    stem = top.name[: -len(".part")] if top.name.endswith(".part") else top.name + "."
    pending, moved = [top], 0
    while pending:
        here = pending.pop()
        with contextlib.suppress(OSError):
            os.chmod(here, 0o700)
        with os.scandir(here) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    moved += 1
                    flat = top.parent / f"{stem}r{moved}.part"
                    os.rename(entry.path, flat)
                    pending.append(flat)
                else:
                    os.unlink(entry.path)
        os.rmdir(here)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(
    dest: Path, *, mode: int | None = None, parents: bool = True
) -> Iterator[IO[bytes]]:
    """A temp file in ``dest``'s folder, renamed to ``dest`` only if the block succeeds;
    its permission bits are ``mode``, by default what ``open`` would give (0666 less the
    umask); ``parents`` makes the missing folders above it. The one atomic writer:
    images, reports, fixed Dockerfiles.

    The file has no name while it is written (``O_TMPFILE``): a run killed then leaves
    nothing. Where the file system lacks that, it is ``.NAME.PID.RANDOM.part``, which the
    next run writing ``dest`` removes once its process is gone (:func:`sweep`).
    """
    if parents:
        dest.parent.mkdir(parents=True, exist_ok=True)
    sweep(dest.parent, dest.name)
    fd = open_unnamed_in(dest.parent)
    tmp: Path | None = None
    if fd is None:
        fd, name = tempfile.mkstemp(
            prefix=f".{dest.name}.{os.getpid()}.", suffix=".part", dir=dest.parent
        )
        tmp = Path(name)
    os.fchmod(fd, 0o666 & ~_umask() if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            if tmp is None:
                tmp = link_into(f.fileno(), dest.parent, dest.name)
        os.replace(tmp, dest)
    except BaseException:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise


def part_dir(dest: Path) -> Path:
    """A new directory beside ``dest``, ``.NAME.PID.RANDOM.part``: what a killed run left
    of it is removed by the next run that writes ``dest`` (:func:`sweep`)."""
    return Path(
        tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".part", dir=dest.parent)
    )


@contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """A temp directory beside ``dest``, swapped into place only if the block succeeds.

    It is named ``.NAME.PID.RANDOM.part``: what a killed run left is removed by the next
    run that writes ``dest`` (:func:`sweep`)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    sweep(dest.parent, dest.name)
    tmp = part_dir(dest)
    # mkdtemp makes 0700 whatever the umask; the result is a directory like mkdir makes.
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if dest.exists():
            old = dest.with_name(part_name(dest.name, "old"))
            os.replace(dest, old)
            os.replace(tmp, dest)
            remove_tree(old)
        else:
            os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            remove_tree(tmp)
        raise
