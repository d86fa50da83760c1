"""``compression.decompressed``: every gzip member and zstd frame, clean errors, no copies."""

from __future__ import annotations

import gzip
import io
import random
import struct
import zlib
from collections.abc import Mapping

import pytest

from deadweight import compression
from deadweight.compression import Decompressing, decompressed
from deadweight.digest import VerifyingReader, sha256_bytes
from deadweight.errors import CorruptImage, DigestMismatch, UnsafeLayer
from deadweight.streams import ByteStream, Reader

try:
    from backports import zstd
except ImportError:  # pragma: no cover - Python 3.14 ships it
    from compression import zstd  # type: ignore[import-not-found,no-redef]

DATA = random.Random(1).randbytes(300_000) + b"text " * 200_000


class Pipe(Reader):
    """A non-seekable stream that returns at most ``step`` bytes a read."""

    def __init__(self, data: bytes, step: int = 1 << 30) -> None:
        self._data = data
        self._step = step
        self.closed = False

    def read(self, n: int = -1, /) -> bytes:
        n = len(self._data) if n is None or n < 0 else min(n, self._step)
        out, self._data = self._data[:n], self._data[n:]
        return out

    def close(self) -> None:
        self.closed = True


def read_all(stream: ByteStream, n: int = 1 << 20) -> bytes:
    parts = []
    while chunk := stream.read(n):
        assert len(chunk) <= n
        parts.append(chunk)
    return b"".join(parts)


def members(data: bytes, sizes: list[int]) -> bytes:
    """``data`` as consecutive gzip members (eStargz writes one per file, and a TOC)."""
    out, pos = [], 0
    for size in sizes:
        out.append(gzip.compress(data[pos : pos + size], mtime=0))
        pos += size
    out.append(gzip.compress(data[pos:], mtime=0))
    return b"".join(out)


def with_header_fields(payload: bytes) -> bytes:
    """A gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC set (RFC 1952 §2.3)."""
    flags = 0x02 | 0x04 | 0x08 | 0x10
    head = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\xff"
    head += struct.pack("<H", 6) + b"SG\x02\0ab" + b"name\0" + b"comment\0"
    head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(payload) + deflate.flush()
    return head + body + struct.pack("<II", zlib.crc32(payload), len(payload) & 0xFFFFFFFF)


@pytest.mark.parametrize("seekable", [True, False])
@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_round_trip(kind: str, seekable: bool) -> None:
    blob = gzip.compress(DATA, mtime=0) if kind == "gzip" else zstd.compress(DATA)
    raw = io.BytesIO(blob) if seekable else Pipe(blob, 1000)
    got_kind, stream = decompressed(raw, "layer x")
    assert got_kind == kind
    assert isinstance(stream, Decompressing)
    assert read_all(stream, 70_000) == DATA


def test_uncompressed_seekable_input_is_returned_as_is() -> None:
    raw = io.BytesIO(b"plain tar bytes")
    kind, stream = decompressed(raw)
    assert kind == "none"
    assert stream is raw
    assert stream.seekable()


def test_uncompressed_pipe_keeps_its_sniffed_head() -> None:
    pipe = Pipe(b"plain tar bytes", 3)
    kind, stream = decompressed(pipe)
    assert kind == "none"
    assert stream.read(2) == b"pl"
    assert read_all(stream, 5) == b"ain tar bytes"
    stream.close()
    assert pipe.closed


@pytest.mark.parametrize("step", [1, 7, 1 << 30])
def test_every_gzip_member_is_read(step: int) -> None:
    blob = members(DATA, [1, 0, 99_999, 250_000, 400_000])
    _, stream = decompressed(Pipe(blob, step))
    assert read_all(stream, 65_536) == DATA


def test_zero_padding_between_and_after_gzip_members_is_skipped() -> None:
    one, two = gzip.compress(DATA[:1000], mtime=0), gzip.compress(DATA[1000:], mtime=0)
    _, stream = decompressed(io.BytesIO(one + bytes(10) + two + bytes(1000)))
    assert stream.read() == DATA


def test_gzip_header_fields_are_understood() -> None:
    blob = with_header_fields(DATA[:50_000]) + gzip.compress(DATA[50_000:], mtime=0)
    _, stream = decompressed(io.BytesIO(blob))
    assert read_all(stream) == DATA


def test_every_zstd_frame_is_read_and_skippable_frames_are_skipped() -> None:
    skippable = struct.pack("<II", 0x184D2A50, 5) + b"meta!"
    blob = zstd.compress(DATA[:10]) + skippable + zstd.compress(DATA[10:]) + skippable
    _, stream = decompressed(Pipe(blob, 333))
    assert read_all(stream, 4096) == DATA


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
@pytest.mark.parametrize("cut", [4, 20, 0.5, -1])
def test_truncation_is_corrupt_image(kind: str, cut: float) -> None:
    blob = gzip.compress(DATA, mtime=0) if kind == "gzip" else zstd.compress(DATA)
    end = int(len(blob) * cut) if isinstance(cut, float) else cut
    _, stream = decompressed(io.BytesIO(blob[:end]), "layer x")
    with pytest.raises(CorruptImage) as err:
        read_all(stream)
    assert str(err.value) == "layer x: truncated compressed stream"


def test_truncated_second_gzip_member_is_corrupt_image() -> None:
    blob = members(DATA, [100_000])
    _, stream = decompressed(io.BytesIO(blob[: len(blob) - 30]), "layer x")
    with pytest.raises(CorruptImage, match="truncated compressed stream"):
        read_all(stream)


def test_damaged_gzip_data_fails_its_crc() -> None:
    blob = bytearray(gzip.compress(DATA[:200_000], mtime=0))  # random: stored blocks
    blob[len(blob) // 2 : len(blob) // 2 + 64] = bytes(64)
    _, stream = decompressed(io.BytesIO(bytes(blob)), "layer x")
    with pytest.raises(CorruptImage) as err:
        read_all(stream)
    assert str(err.value).startswith("layer x: corrupt compressed stream (CRC check failed ")


@pytest.mark.parametrize(
    "tail", [b"\x1f\x8b\x08\0\0\0\0\0\0\xffgarbage-garbage", b"not gzip at all, not at all"]
)
def test_garbage_after_a_gzip_member_is_an_error(tail: bytes) -> None:
    _, stream = decompressed(io.BytesIO(gzip.compress(DATA, mtime=0) + tail), "layer x")
    with pytest.raises(CorruptImage, match=r"^layer x: corrupt compressed stream \("):
        read_all(stream)


def test_damaged_zstd_frame_is_corrupt_image() -> None:
    checked: Mapping[int, int] = {zstd.CompressionParameter.checksum_flag: 1}
    blob = bytearray(zstd.compress(DATA, options=checked))
    blob[len(blob) // 2 : len(blob) // 2 + 64] = bytes(64)
    _, stream = decompressed(io.BytesIO(bytes(blob)), "layer x")
    with pytest.raises(CorruptImage, match=r"^layer x: corrupt zstd stream \("):
        read_all(stream)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_bomb_guard(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compression, "BOMB_FLOOR", 1 << 20)
    zeros = bytes(16 << 20)
    blob = gzip.compress(zeros, 9, mtime=0) if kind == "gzip" else zstd.compress(zeros)
    _, stream = decompressed(io.BytesIO(blob), "layer x")
    with pytest.raises(UnsafeLayer, match=r"^layer x: decompression bomb: \d+ bytes inflate"):
        read_all(stream)


def test_dense_stream_below_the_floor_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compression, "BOMB_FLOOR", 64 << 20)
    zeros = bytes(16 << 20)
    _, stream = decompressed(io.BytesIO(gzip.compress(zeros, 9, mtime=0)))
    assert read_all(stream) == zeros


def test_reads_hand_out_the_decompressors_output_and_stop_at_the_end() -> None:
    _, stream = decompressed(io.BytesIO(gzip.compress(DATA, mtime=0)))
    assert stream.read(0) == b""
    first = stream.read(10)
    assert first == DATA[:10]
    assert type(first) is bytes
    assert first + stream.read() == DATA
    assert stream.read(100) == b""
    assert stream.read() == b""


def test_readinto_and_context_manager() -> None:
    pipe = Pipe(gzip.compress(DATA, mtime=0), 4096)
    _, stream = decompressed(pipe)
    buf = bytearray(100)
    with stream:
        assert isinstance(stream, Reader) and stream.readinto(buf) == 100
    assert bytes(buf) == DATA[:100]
    assert pipe.closed


def test_digest_of_the_decompressed_stream() -> None:
    _, stream = decompressed(io.BytesIO(members(DATA, [12_345])))
    good = VerifyingReader(stream, sha256_bytes(DATA), len(DATA))
    assert read_all(good) == DATA
    _, stream = decompressed(io.BytesIO(gzip.compress(DATA, mtime=0)))
    bad = VerifyingReader(stream, sha256_bytes(DATA[1:]), what="layer x")
    with pytest.raises(DigestMismatch, match=r"^layer x: digest mismatch"):
        read_all(bad)
    _, stream = decompressed(io.BytesIO(gzip.compress(DATA, mtime=0)))
    short = VerifyingReader(stream, None, len(DATA) + 1, what="layer x")
    with pytest.raises(DigestMismatch, match=r"^layer x: truncated"):
        read_all(short)


def _read_all(stream: ByteStream) -> None:
    while stream.read(1 << 16):
        pass


def test_a_flipped_byte_in_a_verified_blob_is_reported_as_a_digest_mismatch() -> None:
    """A corrupt stream whose blob fails its digest is the blob's fault: the error names
    the digest (read to the end of the blob), not the CRC the decompressor tripped on."""
    good = gzip.compress(random.Random(7).randbytes(300_000), mtime=0)
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    blob = VerifyingReader(io.BytesIO(bytes(bad)), sha256_bytes(good), len(good), what="layer x")
    with pytest.raises(DigestMismatch, match="layer x: digest mismatch"):
        _read_all(decompressed(blob)[1])
    # the blob is what its descriptor says, and yet it does not inflate: a corrupt stream
    honest = VerifyingReader(io.BytesIO(bytes(bad)), sha256_bytes(bytes(bad)), len(bad))
    with pytest.raises(CorruptImage, match="corrupt compressed stream") as info:
        _read_all(decompressed(honest)[1])
    assert not isinstance(info.value, DigestMismatch)
    # cut short: the declared size is not reached, which is the blob's fault too
    cut = VerifyingReader(io.BytesIO(good[:-100]), sha256_bytes(good), len(good), what="layer y")
    with pytest.raises(DigestMismatch, match="layer y: truncated"):
        _read_all(decompressed(cut)[1])
