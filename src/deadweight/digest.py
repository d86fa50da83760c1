"""Content digests (``sha256:<hex>``), as the OCI image spec defines them."""

from __future__ import annotations

import hashlib
import re

from deadweight.errors import CorruptImage, DigestMismatch
from deadweight.streams import ByteStream, Reader

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_ANY_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(text: str) -> bool:
    return bool(_DIGEST.match(text))


def check(text: str) -> str:
    """Return ``text`` if it is a sha256 digest we can verify, else raise."""
    if _DIGEST.match(text):
        return text
    if _ANY_DIGEST.match(text):
        raise CorruptImage(f"unsupported digest algorithm in {text!r} (only sha256 is supported)")
    raise CorruptImage(f"malformed digest {text!r}")


def hex_of(digest: str) -> str:
    return check(digest).split(":", 1)[1]


def verify_bytes(data: bytes, expected: str, what: str) -> bytes:
    actual = sha256_bytes(data)
    if actual != expected:
        raise DigestMismatch(f"{what}: digest mismatch: expected {expected}, got {actual}")
    return data


class VerifyingReader(Reader):
    """A read-only stream that hashes what passes through it.

    When ``expected`` is given, reaching EOF with a different digest (or a different
    length, when ``size`` is given) raises :class:`DigestMismatch`. Without ``hashing``
    only the length is checked (another process hashes the same bytes).
    """

    def __init__(
        self,
        raw: ByteStream,
        expected: str | None = None,
        size: int | None = None,
        what: str = "",
        *,
        hashing: bool = True,
    ) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self._hashing = hashing
        self._expected = expected
        self._size = size
        self._what = what or "blob"
        self.count = 0
        self._done = False

    def read(self, n: int = -1, /) -> bytes:
        read_all = n is None or n < 0
        data = self._raw.read(-1 if read_all else n)
        if data:
            if self._hashing:
                self._hash.update(data)
            self.count += len(data)
            if self._size is not None and self.count > self._size:
                raise DigestMismatch(
                    f"{self._what}: more bytes than the {self._size} its descriptor declares"
                )
        if not self._done and (read_all or (not data and n != 0)):
            self._done = True
            self._finish()
        return data

    def _finish(self) -> None:
        if self._size is not None and self.count != self._size:
            raise DigestMismatch(
                f"{self._what}: truncated: {self.count} bytes, its descriptor declares {self._size}"
            )
        if self._hashing and self._expected is not None and self.digest != self._expected:
            raise DigestMismatch(
                f"{self._what}: digest mismatch: expected {self._expected}, got {self.digest}"
            )

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def close(self) -> None:
        self._raw.close()
