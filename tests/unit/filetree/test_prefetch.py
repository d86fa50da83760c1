"""Prefetch: a reading thread in front of a stream, transparent to the reader."""

from __future__ import annotations

import io
import threading

import pytest

from deadweight import static
from deadweight.digest import VerifyingReader, sha256_bytes
from deadweight.errors import CorruptImage, DigestMismatch
from deadweight.filetree import read_delta
from deadweight.filetree.prefetch import Prefetch

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.mark.parametrize("n", [1, 7, 100, 1000, 4096, 100_000, -1])
def test_reads_give_the_same_bytes_in_any_size(n: int) -> None:
    with Prefetch(io.BytesIO(DATA), depth=2, chunk=1000) as f:
        parts = []
        while chunk := f.read(n):
            parts.append(chunk)
            assert n < 0 or len(chunk) <= n
            if n < 0:
                break
        assert f.read(10) == b""
    assert b"".join(parts) == DATA


class Failing(io.RawIOBase):
    """Gives ``good`` bytes, then raises ``exc``."""

    def __init__(self, good: bytes, exc: BaseException) -> None:
        self.good, self.exc = good, exc

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.good:
            out, self.good = self.good[:n], self.good[n:]
            return out
        raise self.exc


def test_an_error_of_the_stream_is_raised_after_the_bytes_before_it() -> None:
    with Prefetch(Failing(b"x" * 2500, CorruptImage("L: corrupt")), chunk=1000) as f:  # type: ignore[arg-type]
        assert f.read(2500) == b"x" * 1000
        assert f.read(2500) == b"x" * 1000
        assert f.read(2500) == b"x" * 500
        with pytest.raises(CorruptImage, match="L: corrupt"):
            f.read(1)
        assert f.read(1) == b""


def test_closing_early_stops_the_thread_even_when_the_queue_is_full() -> None:
    before = threading.active_count()
    f = Prefetch(io.BytesIO(b"y" * 100_000), depth=1, chunk=10)
    assert f.read(5) == b"y" * 5
    f.close()
    assert threading.active_count() == before


def test_a_digest_mismatch_at_the_end_surfaces_through_read_delta() -> None:
    raw = static.tar_bytes([static.File("a", b"1" * 5000)])
    stream = VerifyingReader(io.BytesIO(raw), "sha256:" + "0" * 64, what="L")
    with pytest.raises(DigestMismatch):
        read_delta(stream, prefetch=True)  # type: ignore[arg-type]
    ok = VerifyingReader(io.BytesIO(raw), sha256_bytes(raw), what="L")
    assert read_delta(ok, prefetch=True, hash="sha256") == read_delta(  # type: ignore[arg-type]
        io.BytesIO(raw), hash="sha256"
    )


def test_a_parse_error_stops_the_reading_thread() -> None:
    before = threading.active_count()
    with pytest.raises(CorruptImage):
        read_delta(io.BytesIO(b"\x01" * (3 << 20)), prefetch=True, what="L")
    assert threading.active_count() == before
