"""Atomic writes: build output next to its destination, rename it into place when whole."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

CHUNK = 1 << 20


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(dest: Path) -> Iterator[IO[bytes]]:
    """A temp file in ``dest``'s folder, renamed to ``dest`` only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """A temp directory beside ``dest``, swapped into place only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    # mkdtemp makes 0700 whatever the umask; the result is a directory like mkdir makes.
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old)
        else:
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
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
