"""Random access to the members of an image container: a tar file or a directory.

Both `docker save` archives and OCI layouts are trees of small JSON files plus large
blobs. :class:`TarFiles` indexes a tar by reading its headers only (seeking past data),
then hands out bounded, seekable readers per member; :class:`DirFiles` does the same for
a directory. Links are resolved inside the container and never followed out of it.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from deadweight import limits
from deadweight.errors import CorruptImage, NotFound, UnsafeLayer
from deadweight.streams import ByteStream, Window

MAX_JSON = limits.DOCUMENT_BYTES  # manifests, configs and indexes above this are refused


class Files(Protocol):
    name: str

    def exists(self, member: str) -> bool: ...

    def open(self, member: str) -> ByteStream: ...

    def size(self, member: str) -> int: ...

    def read(self, member: str, limit: int = MAX_JSON) -> bytes: ...


def _clean(member: str) -> str:
    path = posixpath.normpath(
        "/" + member.lstrip("./") if member.startswith("./") else "/" + member
    )
    return path.lstrip("/")


@dataclass(frozen=True, slots=True)
class _Member:
    offset: int
    size: int
    link: str  # target (already resolved to a member name) for symlinks and hardlinks
    is_file: bool


class _Window(Window):
    """A member's bytes in an archive on disk, through a descriptor of its own."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        # Unbuffered: a tar reader seeking from header to header must not pull in data.
        super().__init__(open(path, "rb", buffering=0), offset, size)  # noqa: SIM115 - closed by close()

    def short(self) -> None:
        raise CorruptImage(f"{self._f.name}: truncated archive")

    def span(self) -> tuple[int, int, int | None, str]:
        """(fd, offset, size, name) of what is left to read, for a helper process that
        reads it itself (``deadweight.inflater``)."""
        return self._f.fileno(), self._start + self._pos, self._size - self._pos, self._f.name

    def close(self) -> None:
        self._f.close()
        super().close()


class TarFiles:
    """Members of an uncompressed tar file on disk, indexed once by their headers."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._path = str(path)
        self._members: dict[str, _Member] = {}
        total = os.path.getsize(path)
        try:
            with tarfile.open(self._path, mode="r:") as tar:
                for info in tar:
                    name = _clean(info.name)
                    if info.offset_data + (info.size if info.isreg() else 0) > total:
                        raise CorruptImage(f"{self.name}: truncated archive (member {name})")
                    link = ""
                    if info.issym():
                        link = posixpath.normpath(
                            posixpath.join(posixpath.dirname(name), info.linkname)
                        )
                    elif info.islnk():
                        link = _clean(info.linkname)
                    self._members[name] = _Member(
                        info.offset_data, info.size if info.isreg() else 0, link, info.isreg()
                    )
        except tarfile.ReadError as exc:
            raise CorruptImage(f"{self.name}: not an image archive ({exc})") from exc
        except EOFError as exc:
            raise CorruptImage(f"{self.name}: truncated archive") from exc

    def _resolve(self, member: str) -> _Member:
        name = _clean(member)
        for _ in range(40):
            found = self._members.get(name)
            if found is None:
                raise NotFound(f"{self.name}: no member {member!r} in the archive")
            if found.is_file:
                return found
            if not found.link:
                raise CorruptImage(f"{self.name}: member {member!r} is not a file")
            if found.link.startswith(("../", "/")) or found.link == "..":
                raise UnsafeLayer(f"{self.name}: member {member!r} links outside the archive")
            name = found.link
        raise CorruptImage(f"{self.name}: link loop at member {member!r}")

    def exists(self, member: str) -> bool:
        return _clean(member) in self._members

    def size(self, member: str) -> int:
        return self._resolve(member).size

    def open(self, member: str) -> ByteStream:
        m = self._resolve(member)
        return _Window(self._path, m.offset, m.size)

    def read(self, member: str, limit: int = MAX_JSON) -> bytes:
        if self.size(member) > limit:
            raise UnsafeLayer(f"{self.name}: member {member!r} is larger than {limit} bytes")
        with self.open(member) as f:
            return f.read()


def open_regular(path: Path, what: str) -> ByteStream:
    """``path`` opened to read, unbuffered, if it is a regular file: a FIFO would block the
    open (and a read) forever, a device (``/dev/zero``) never end. Opened without blocking,
    then checked, so nothing waits on a FIFO's writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise CorruptImage(f"{what}: not a regular file (a FIFO, a device or a socket)")
        os.set_blocking(fd, True)
        return open(fd, "rb", buffering=0, closefd=True)
    except BaseException:
        os.close(fd)
        raise


class DirFiles:
    """Files of a directory; symlinks may not point outside it."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._root = path.resolve()

    def _path(self, member: str) -> Path:
        name = _clean(member)
        path = (self._root / name).resolve()
        if path != self._root and self._root not in path.parents:
            raise UnsafeLayer(f"{self.name}: {member!r} points outside the directory")
        return path

    def exists(self, member: str) -> bool:
        try:
            return self._path(member).is_file()
        except UnsafeLayer:
            return False

    def size(self, member: str) -> int:
        try:
            return self._path(member).stat().st_size
        except FileNotFoundError as exc:
            raise NotFound(f"{self.name}: no file {member!r}") from exc

    def open(self, member: str) -> ByteStream:
        try:
            return open_regular(self._path(member), f"{self.name}: {member!r}")
        except FileNotFoundError as exc:
            raise NotFound(f"{self.name}: no file {member!r}") from exc
        except IsADirectoryError as exc:
            raise CorruptImage(f"{self.name}: {member!r} is a directory") from exc

    def read(self, member: str, limit: int = MAX_JSON) -> bytes:
        if self.size(member) > limit:
            raise UnsafeLayer(f"{self.name}: {member!r} is larger than {limit} bytes")
        with self.open(member) as f:
            return f.read()
