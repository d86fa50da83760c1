"""Sources that are hostile files (the second campaign after issue 16): a FIFO or a device
where an archive or a layout's blob should be, and a file listing sources for ``scan``
that holds bytes that are not UTF-8, NUL bytes or endless lines."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hostile_shapes as shapes
import pytest

from deadweight.cluster.collection import Problem, collect
from deadweight.errors import CorruptImage
from deadweight.sources import list_images
from deadweight.sources._files import DirFiles


@contextmanager
def unblocking(fifo: Path, after: float = 5.0) -> Iterator[None]:
    """Open ``fifo`` to write after a while and close it, so code that (wrongly) waits on
    it wakes up and the test fails instead of hanging."""
    done = threading.Event()

    def write() -> None:
        done.wait(after)
        while not done.wait(0.1):  # a reader waiting on it gets an end of file, each time
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_an_archive_that_is_a_fifo_or_a_device_is_refused_without_waiting(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "image.tar"
    os.mkfifo(fifo)  # opening it to read used to wait for a writer forever
    for path in (fifo, Path("/dev/zero")):
        with unblocking(fifo), pytest.raises(CorruptImage, match="not a regular file"):
            list_images(f"docker-archive:{path}")


def test_a_layout_blob_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    (tmp_path / "blobs").mkdir()
    os.mkfifo(tmp_path / "blobs" / "x")
    (tmp_path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": []}))
    files = DirFiles(tmp_path)
    with unblocking(tmp_path / "blobs" / "x"), pytest.raises(CorruptImage, match="not a regular"):
        files.open("blobs/x")
    with pytest.raises(CorruptImage, match="is a directory"):
        files.open("blobs")


def test_a_listing_with_hostile_lines_reports_them_and_reads_on(tmp_path: Path) -> None:
    archive = shapes.docker_archive(tmp_path / "a.tar", [shapes.small_layer()])
    listing = tmp_path / "sources.txt"
    listing.write_bytes(
        b"# images\n"
        + str(archive).encode()
        + b"\n"
        + b"caf\xe9.tar\n"  # not UTF-8 (past the sniffed head: it was an internal error)
        + b"a\x00b.tar\n"
        + b"z" * 1_000_000  # one endless line
        + b"\n\n"
    )
    # the first 4 KiB decide that it is a listing; a long comment is no problem
    listing.write_bytes(b"#" * 5000 + b"\n" + listing.read_bytes())
    found = collect([str(listing)], platform=None, insecure=False)
    problems = {p.name: p.reason for p in found if isinstance(p, Problem)}
    assert problems == {
        f"{listing} line 4": "not UTF-8",
        f"{listing} line 5": "holds a NUL byte",
        f"{listing} line 6": "longer than 4096 bytes: no source",
    }
    assert [m.name for m in found if not isinstance(m, Problem)] == [
        f"docker-archive:{archive}:hostile:1"
    ]
