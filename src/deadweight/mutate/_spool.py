"""Layer blobs kept in temp files that live as long as the layers that read them.

A transformation must know a new layer's diff_id before it can write the config, so the
layer tar is written once, to disk (never held in memory), and the layer's opener re-opens
that file. The file is removed when the last layer (or image) holding it is collected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import IO, BinaryIO

from deadweight import scratch


class Spool:
    """A temp file with no name (a killed run leaves nothing: :mod:`deadweight.scratch`),
    gone when this object is collected."""

    def __init__(self, suffix: str = ".tar") -> None:
        self._file, self._reopen = scratch.unnamed()
        self.name = f"spool{suffix}"

    @property
    def file(self) -> IO[bytes]:
        return self._file

    def opener(self) -> Callable[[], BinaryIO]:
        """A zero-argument opener; it keeps this spool (and so the file) alive."""

        def open_spool() -> BinaryIO:
            return self._reopen()

        return open_spool


class DigestingWriter:
    """Writes through to ``out`` while hashing and counting what passed."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.out.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.out.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()
