"""Atomic writes: build output next to its destination, rename it into place when whole."""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from deadweight import scratch
from deadweight.streams import CHUNK


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(dest: Path) -> Iterator[IO[bytes]]:
    """A temp file in ``dest``'s folder, renamed to ``dest`` only if the block succeeds.

    The file has no name while it is written (``O_TMPFILE``): a run killed then leaves
    nothing. Where the file system lacks that, it is ``.NAME.PID.RANDOM.part``, which the
    next run writing ``dest`` removes once its process is gone (:mod:`deadweight.scratch`).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch.sweep(dest.parent, dest.name)
    fd = scratch.open_unnamed_in(dest.parent)
    tmp: Path | None = None
    if fd is None:
        fd, name = tempfile.mkstemp(
            prefix=f".{dest.name}.{os.getpid()}.", suffix=".part", dir=dest.parent
        )
        tmp = Path(name)
    os.fchmod(fd, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            if tmp is None:
                tmp = scratch.link_into(f.fileno(), dest.parent, dest.name)
        os.replace(tmp, dest)
    except BaseException:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """A temp directory beside ``dest``, swapped into place only if the block succeeds.

    It is named ``.NAME.PID.RANDOM.part``: what a killed run left is removed by the next
    run that writes ``dest`` (:func:`deadweight.scratch.sweep`)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch.sweep(dest.parent, dest.name)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".part", dir=dest.parent)
    )
    # mkdtemp makes 0700 whatever the umask; the result is a directory like mkdir makes.
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if dest.exists():
            old = dest.with_name(scratch.part_name(dest.name, "old"))
            os.replace(dest, old)
            os.replace(tmp, dest)
            scratch.remove_tree(old)
        else:
            os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            scratch.remove_tree(tmp)
        raise


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: int = 0) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def add_stream(
    tar: tarfile.TarFile, name: str, opener: Callable[[], BinaryIO], mtime: int = 0
) -> None:
    """Add a member of unknown length by spooling it once to a temp file."""
    with tempfile.TemporaryFile(dir=os.environ.get("DEADWEIGHT_TMPDIR")) as spool:
        with opener() as src:
            shutil.copyfileobj(src, spool, CHUNK)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = spool.tell(), mtime, 0o644
        spool.seek(0)
        tar.addfile(info, spool)
