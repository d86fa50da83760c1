"""The embedded store: sizes and per-layer blobs survive a reopen; a broken store degrades."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest

from deadweight.cache import LayerStore

DIFF = "sha256:" + "ab" * 32


def test_sizes_and_blobs_persist_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store" / "layers.sqlite"
    store = LayerStore(path)
    store.put(DIFF, 1234)
    store.put_blob("delta-v1", DIFF, b"\x00payload")
    store.close()
    again = LayerStore(path)
    assert again.get(DIFF) == 1234
    assert again.get_blob("delta-v1", DIFF) == b"\x00payload"
    assert again.get_blob("delta-v2", DIFF) is None
    assert again.get("sha256:" + "cd" * 32) is None
    assert again.has_blob("delta-v1", DIFF)
    assert not again.has_blob("delta-v2", DIFF)
    assert not again.has_blob("delta-v1", "sha256:" + "cd" * 32)
    again.close()


def test_unwritable_location_means_no_caching(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"not a directory")
    store = LayerStore(blocker / "layers.sqlite")
    store.put(DIFF, 1)
    store.put_blob("k", DIFF, b"x")
    assert store.get(DIFF) is None
    assert store.get_blob("k", DIFF) is None
    assert not store.has_blob("k", DIFF)
    assert blocker.read_bytes() == b"not a directory"


class _Failing(io.FileIO):
    """A file whose reads fail (``OSError``) or end early (``short``) after the first."""

    def __init__(self, path: Path, *, short: bool = False) -> None:
        super().__init__(path, "r")
        self.reads = 0
        self.short = short

    def read(self, n: int | None = -1, /) -> bytes:
        self.reads += 1
        if self.reads > 1:
            if self.short:
                return b""
            raise OSError(errno.EIO, "Input/output error")
        return super().read(n)


def test_a_blob_copied_from_a_file_reads_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "layers.sqlite"
    data = os.urandom(3 * (1 << 20) + 17)  # more than one chunk, and not a whole one
    spool = tmp_path / "spool"
    spool.write_bytes(data)
    store = LayerStore(path)
    store.put_blob("delta-v1", DIFF, b"older")
    with spool.open("rb") as f:
        f.seek(12345)  # copied from its start, wherever the file stood
        store.put_blob_from("delta-v1", DIFF, f)
    store.close()
    again = LayerStore(path)
    assert again.get_blob("delta-v1", DIFF) == data
    (tmp_path / "empty").write_bytes(b"")
    with (tmp_path / "empty").open("rb") as f:
        again.put_blob_from("delta-v2", DIFF, f)
    assert again.get_blob("delta-v2", DIFF) == b""
    again.close()


@pytest.mark.parametrize("short", [False, True])
def test_a_file_failing_midway_leaves_the_row_as_it_was(tmp_path: Path, short: bool) -> None:
    store = LayerStore(tmp_path / "layers.sqlite")
    store.put_blob("delta-v1", DIFF, b"older")
    spool = tmp_path / "spool"
    spool.write_bytes(b"x" * (3 << 20))
    with _Failing(spool, short=short) as f:
        store.put_blob_from("delta-v1", DIFF, f)  # a miss, never an error
        store.put_blob_from("delta-v1", "sha256:" + "cd" * 32, f)
        assert f.reads > 1
    assert store.get_blob("delta-v1", DIFF) == b"older"  # the transaction rolled back
    assert store.get_blob("delta-v1", "sha256:" + "cd" * 32) is None
    store.put_blob("delta-v1", DIFF, b"newer")  # and the store still works
    assert store.get_blob("delta-v1", DIFF) == b"newer"
    store.close()


def test_a_blob_longer_than_asked_comes_back_in_the_file_it_was_spilled_to(
    tmp_path: Path,
) -> None:
    store = LayerStore(tmp_path / "layers.sqlite")
    data = os.urandom(2 * (1 << 20) + 5)  # more than one chunk
    store.put_blob("delta-v1", DIFF, data)
    files: list[io.BytesIO] = []

    def spill() -> io.BytesIO:
        files.append(io.BytesIO())
        return files[-1]

    assert store.get_blob_or_spill("delta-v1", DIFF, len(data), spill) == data  # not above
    assert files == []
    got = store.get_blob_or_spill("delta-v1", DIFF, len(data) - 1, spill)
    assert got is files[0] and files[0].tell() == 0 and files[0].getvalue() == data
    assert store.get_blob_or_spill("delta-v1", "sha256:" + "cd" * 32, 0, spill) is None

    def no_room() -> io.BytesIO:
        raise OSError(errno.ENOSPC, "No space left on device")

    class Full(io.BytesIO):
        def write(self, b: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    full = Full()
    assert store.get_blob_or_spill("delta-v1", DIFF, 0, no_room) is None  # a miss
    assert store.get_blob_or_spill("delta-v1", DIFF, 0, lambda: full) is None
    assert full.closed
    assert store.get_blob("delta-v1", DIFF) == data  # and the store still works
    store.close()
