"""Members of the archives we write: bytes, and streams of unknown length spooled once
(writes are atomic through :func:`deadweight.scratch.atomic_file`)."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Callable

from deadweight import scratch
from deadweight.streams import CHUNK, ByteStream


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: int = 0) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def add_stream(
    tar: tarfile.TarFile, name: str, opener: Callable[[], ByteStream], mtime: int = 0
) -> None:
    """Add a member of unknown length by spooling it once to a temp file."""
    with scratch.unnamed()[0] as spool:
        with opener() as src:
            shutil.copyfileobj(src, spool, CHUNK)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = spool.tell(), mtime, 0o644
        spool.seek(0)
        tar.addfile(info, spool)
