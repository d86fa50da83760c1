"""Layers read into deltas by helper processes (``deadweight.reading._pool``): the same
deltas and the same errors as reading them in this process, with the medium's opener
called once and the file handed over rather than read here."""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import io
import os
import signal
import struct
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from deadweight import static
from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze
from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage, DeadweightError, DigestMismatch, UnsafeLayer
from deadweight.filetree.delta import LayerDelta, read_delta
from deadweight.image import Image, Layer
from deadweight.reading import _helper_link as helper_link
from deadweight.reading import _pool as readers
from deadweight.sources import archive, layout, open_image
from deadweight.spec.manifest import Descriptor

MiB = 1 << 20


@pytest.fixture(autouse=True)
def fresh_shared_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no shared helpers (another test may have left some), on what
    looks like two CPUs (helpers are started only where there is more than one)."""
    readers.shutdown()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    yield
    readers.shutdown()


@pytest.fixture
def pool() -> Iterator[readers.ReaderPool]:
    with readers.ReaderPool(1) as p:
        yield p


def rich_image(kind: static.Compression) -> Image:
    """Files big and small, links, whiteouts, an opaque directory, package databases
    (captured) and an unsafe name, over three layers."""
    status = b"Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\n"
    return static.image(
        [
            static.Step(
                "FROM base",
                static.layer(
                    [
                        static.Dir("etc"),
                        static.File("etc/os-release", b"ID=debian\n"),
                        static.Dir("var/lib/dpkg"),
                        static.File("var/lib/dpkg/status", status),
                        static.File("big.bin", bytes(range(256)) * (12 * 4096)),
                        static.Dir("app"),
                        static.File("app/a", b"a" * 5000),
                    ],
                    kind,
                ),
            ),
            static.Step(
                "RUN things",
                static.layer(
                    [
                        static.Whiteout("big.bin"),
                        static.Opaque("app"),
                        static.File("app/b", b"b" * 70000, mode=0o755),
                        static.Hardlink("app/c", "app/b"),
                        static.Symlink("app/up", "../../../etc/shadow"),
                        static.File("../escape", b"x"),
                    ],
                    kind,
                ),
            ),
            static.Step(
                "COPY . /srv",
                static.layer([static.File(f"srv/f{i}", b"%d" % i * 300) for i in range(400)], kind),
            ),
        ]
    )


def in_this_process(image: Image) -> object:
    """``analyze(image)`` as on one CPU: no helper process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "cpu_count", lambda: 1)
        return analyze(image)


def in_process(layer: Layer) -> LayerDelta:
    with layer.open() as stream:
        return read_delta(stream, hash="xxh3", capture=pkgs.capture, what="layer x")


class Watched:
    """An opener that counts its calls and the reads made through what it returned."""

    def __init__(self, opener: Any) -> None:
        self.opener, self.calls, self.reads = opener, 0, 0

    def __call__(self) -> BinaryIO:
        self.calls += 1
        raw = self.opener()
        watcher = self

        class Counting:
            def __getattr__(self, name: str) -> Any:
                return getattr(raw, name)

            def span(self) -> Any:
                return readers.span(raw)

            def read(self, *a: Any) -> bytes:
                watcher.reads += 1
                return bytes(raw.read(*a))

            def close(self) -> None:
                raw.close()

        return Counting()  # type: ignore[return-value]


def on_disk(tmp_path: Path, image: Image, medium: str) -> Image:
    if medium == "oci":
        layout.write([image], tmp_path / "oci")
        return open_image(f"oci:{tmp_path / 'oci'}")
    if medium == "oci-archive":
        layout.write_archive([image], tmp_path / "oci.tar")
        return open_image(f"oci-archive:{tmp_path / 'oci.tar'}")
    archive.write([image], tmp_path / "image.tar")
    return open_image(f"docker-archive:{tmp_path / 'image.tar'}")


class Jobs:
    """The jobs the pool sends, recorded: (diff_id, whether a second helper hashed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[tuple[str, bool]] = []
        real = helper_link.Helper.run

        def run(
            helper: helper_link.Helper, job: dict[str, Any], fd: int, hasher: Any = None, **kw: Any
        ) -> Any:
            outcome = real(helper, job, fd, hasher, **kw)
            self.sent.append((str(job["diff_id"]), outcome.split))
            return outcome

        monkeypatch.setattr(helper_link.Helper, "run", run)


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("kind", ["gzip", "zstd", "none"])
@pytest.mark.parametrize("medium", ["oci", "oci-archive", "docker-archive"])
def test_a_helper_reads_the_same_delta_from_the_file_it_is_handed(
    tmp_path: Path,
    pool: readers.ReaderPool,
    kind: static.Compression,
    medium: str,
    split: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = on_disk(tmp_path, rich_image(kind), medium)
    jobs = Jobs(monkeypatch)
    for layer in image.layers:
        watched = Watched(layer.opener)
        theirs = pool.read(
            dataclasses.replace(layer, opener=watched),
            hash="xxh3",
            capture=pkgs.capture,
            what="layer x",
            split=split,
        )
        assert theirs[0] == in_process(layer)
        assert theirs[1] is not None and LayerDelta.from_bytes(theirs[1].read()) == theirs[0]
        theirs[1].close()
        assert (watched.calls, watched.reads) == (1, 0)  # opened here, read there
    assert jobs.sent == [(layer.diff_id, split) for layer in image.layers]
    # An uncompressed blob (a docker archive's are) is its tar: this process hashes the
    # file while the helper parses it, and no second helper starts
    tars = all(layer.blob.digest == layer.diff_id for layer in image.layers)
    assert pool.processes == (2 if split and not tars else 1)
    deltas = [pool.read(layer, hash="xxh3", capture=pkgs.capture)[0] for layer in image.layers]
    assert [len(d.captured) for d in deltas] == [1, 0, 0]  # the dpkg status
    assert deltas[1].unsafe and deltas[1].opaques == ("app",)


def test_analyze_with_helpers_equals_analyze_in_process(tmp_path: Path) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    alone = in_this_process(image)
    together = analyze(image)
    assert together == alone
    assert readers.shared(0).processes >= 1  # the helpers ran, and stay for the next one


def test_bytes_in_memory_are_read_in_process(pool: readers.ReaderPool) -> None:
    image = rich_image("gzip")
    for layer in image.layers:
        watched = Watched(layer.opener)
        delta, encoded = pool.read(dataclasses.replace(layer, opener=watched), hash="xxh3")
        assert delta == read_delta(layer.open(), hash="xxh3") and encoded is None
        assert watched.reads > 0
    assert pool.processes == 0  # nothing to hand over: no helper was started


def test_span_is_a_regular_file_only(tmp_path: Path) -> None:
    assert readers.span(io.BytesIO(b"x")) is None
    r, w = os.pipe()
    with open(r, "rb") as pipe:
        assert readers.span(pipe) is None
    os.close(w)
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as f:
        f.read(3)
        fd, offset, size, name = readers.span(f) or (0, 0, 0, "")
        assert (fd, offset, size, name) == (f.fileno(), 3, None, str(path))


def flipped(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def blob_path(root: Path, layer: Layer) -> Path:
    return root / "oci" / "blobs" / "sha256" / layer.blob.digest.split(":")[1]


def one_layer_image(tar: bytes, blob: bytes, diff_id: str = "") -> Image:
    desc = Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", sha256_bytes(blob), len(blob))
    layer = Layer(diff_id or sha256_bytes(tar), desc, lambda: io.BytesIO(blob), seekable=True)
    return static.image([static.Step("RUN x", layer)])


def hostile(case: str, tmp_path: Path) -> Image:
    import gzip

    if case == "flipped byte":
        image = on_disk(tmp_path, rich_image("gzip"), "oci")
        flipped(blob_path(tmp_path, image.layers[2]))
        return image
    if case == "flipped byte, uncompressed":
        image = on_disk(tmp_path, rich_image("none"), "oci")
        flipped(blob_path(tmp_path, image.layers[2]))
        return image
    if case == "truncated blob":
        image = on_disk(tmp_path, rich_image("gzip"), "oci")
        path = blob_path(tmp_path, image.layers[2])
        path.write_bytes(path.read_bytes()[:-100])
        return image
    if case == "not its diff_id":
        tar = static.tar_bytes([static.File("f", b"1")])
        image = one_layer_image(tar, gzip.compress(tar, mtime=0), "sha256:" + "0" * 64)
        return on_disk(tmp_path, image, "oci")
    if case == "huge size in a header":
        tar = static.tar_bytes([static.File("f", b"1")])
        head = bytearray(tar[:512])
        head[124:136] = b"\x80" + (1 << 50).to_bytes(11, "big")  # base-256
        head[148:156] = b" " * 8
        head[148:156] = b"%06o\0 " % sum(head)
        tar = bytes(head) + tar[512:]
        return on_disk(tmp_path, one_layer_image(tar, gzip.compress(tar, mtime=0)), "oci")
    if case == "archive member":
        tar = static.tar_bytes([static.File("f", bytes(range(256)) * 4096)])
        archive.write([one_layer_image(tar, gzip.compress(tar, mtime=0))], tmp_path / "a.tar")
        return open_image(f"docker-archive:{tmp_path / 'a.tar'}")
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("flipped byte", DigestMismatch, "digest mismatch"),
        ("flipped byte, uncompressed", DigestMismatch, "digest mismatch"),
        ("truncated blob", DigestMismatch, "truncated"),
        ("not its diff_id", DigestMismatch, "(uncompressed): digest mismatch"),
        ("huge size in a header", UnsafeLayer, "tar header declares a"),
    ],
)
@pytest.mark.parametrize("split", [False, True])
def test_a_broken_layer_fails_the_same_way_in_a_helper(
    tmp_path: Path,
    pool: readers.ReaderPool,
    case: str,
    error: type[Exception],
    message: str,
    split: bool,
) -> None:
    image = hostile(case, tmp_path)
    for layer in image.layers:
        try:
            expected = in_process(layer)
        except DeadweightError as exc:
            with pytest.raises(error) as got:
                pool.read(layer, hash="xxh3", capture=pkgs.capture, what="layer x", split=split)
            assert type(got.value) is type(exc)
            assert str(got.value) == str(exc)
            assert message in str(exc)
            break
        got_delta = pool.read(layer, hash="xxh3", capture=pkgs.capture, what="layer x")[0]
        assert got_delta == expected
    else:
        raise AssertionError("no layer failed")
    # the helpers reported and serve on (an uncompressed blob is hashed by this process)
    assert pool.processes == (2 if split and "uncompressed" not in case else 1)
    good = on_disk(tmp_path / "good", rich_image("zstd"), "oci")
    assert pool.read(good.layers[0], hash="xxh3")[0] == read_delta(
        good.layers[0].open(), hash="xxh3"
    )


def cut_short_fails_alike(
    layer: Layer, archive_file: Path, pool: readers.ReaderPool, **read: Any
) -> str:
    """Cut the archive 100 bytes into ``layer``'s member (the file shrank under us): the
    pool's read fails with the message reading in this process gives; that message."""
    with layer.opener() as raw:
        end = readers.span(raw)
    assert end is not None
    os.truncate(archive_file, end[1] + 100)
    with pytest.raises(CorruptImage) as here:
        in_process(layer)
    with pytest.raises(CorruptImage) as there:
        pool.read(layer, hash="xxh3", capture=pkgs.capture, what="layer x", **read)
    assert str(there.value) == str(here.value)
    return str(here.value)


def test_an_archive_member_cut_short_is_a_truncated_archive_in_both(
    tmp_path: Path, pool: readers.ReaderPool
) -> None:
    """The layer's bytes end before the archive says (the file shrank under us)."""
    image = hostile("archive member", tmp_path)
    layer = image.layers[0]
    assert "truncated" in cut_short_fails_alike(layer, tmp_path / "a.tar", pool)


def pending(sock: Any) -> int:
    """Bytes sent on ``sock`` that its peer has not received (SIOCOUTQ)."""
    out = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
    n: int = struct.unpack("i", out)[0]
    return n


def test_a_helper_that_dies_on_a_layer_is_a_clean_error_and_is_replaced(
    tmp_path: Path, pool: readers.ReaderPool
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    layer = image.layers[0]
    pool.read(layer, hash="xxh3")  # started and idle
    (helper,) = pool._all
    os.kill(helper.proc.pid, signal.SIGSTOP)
    failure: list[BaseException] = []

    def read() -> None:
        try:
            pool.read(layer, hash="xxh3", what="layer x")
        except BaseException as exc:
            failure.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 30
    while pending(helper.sock) == 0 and time.monotonic() < deadline:  # the job is sent
        time.sleep(0.01)
    os.kill(helper.proc.pid, signal.SIGKILL)
    reader.join(30)
    assert len(failure) == 1 and type(failure[0]) is DeadweightError
    assert str(failure[0]) == "layer x: the helper process reading it exited unexpectedly"
    assert pool.processes == 0
    assert pool.read(layer, hash="xxh3")[0] == read_delta(layer.open(), hash="xxh3")
    assert pool.processes == 1  # a new one


def test_a_hashing_helper_that_died_idle_leaves_the_reading_helper_to_hash(
    tmp_path: Path, pool: readers.ReaderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    layer = image.layers[0]
    pool.read(layer, hash="xxh3", split=True)
    assert pool.processes == 2
    idle = pool._idle[0]  # the next read's hasher: the reader pops the other one
    os.kill(idle.proc.pid, signal.SIGKILL)
    idle.proc.wait()
    jobs = Jobs(monkeypatch)
    assert pool.read(layer, hash="xxh3", split=True)[0] == read_delta(layer.open(), hash="xxh3")
    assert jobs.sent[-1] == (layer.diff_id, False)  # the reader verified it alone
    assert pool.processes == 1 and idle not in pool._all
    assert pool.read(layer, hash="xxh3", split=True)[0] == read_delta(layer.open(), hash="xxh3")
    assert jobs.sent[-1] == (layer.diff_id, True) and pool.processes == 2  # a new hasher


def test_without_shared_memory_one_helper_reads_and_hashes(
    tmp_path: Path, pool: readers.ReaderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = on_disk(tmp_path, rich_image("zstd"), "oci")
    layer = image.layers[0]
    monkeypatch.setattr(helper_link, "_ring", lambda: None)  # no memfd here
    jobs = Jobs(monkeypatch)
    assert pool.read(layer, hash="xxh3", split=True)[0] == read_delta(layer.open(), hash="xxh3")
    assert jobs.sent == [(layer.diff_id, False)]
    assert pool.processes == 2 and len(pool._idle) == 2  # the spare, unused, is kept


def test_a_hashing_helper_that_dies_on_a_layer_is_a_clean_error(
    tmp_path: Path, pool: readers.ReaderPool
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    layer = image.layers[0]
    pool.read(layer, hash="xxh3", split=True)
    hasher = pool._idle[0]
    os.kill(hasher.proc.pid, signal.SIGSTOP)  # it takes the job, then dies on it
    failure: list[BaseException] = []

    def read() -> None:
        try:
            pool.read(layer, hash="xxh3", what="layer x", split=True)
        except BaseException as exc:
            failure.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 30
    while pending(hasher.sock) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(hasher.proc.pid, signal.SIGKILL)
    reader.join(30)
    assert len(failure) == 1 and type(failure[0]) is DeadweightError
    assert str(failure[0]) == "layer x: the helper process hashing it exited unexpectedly"
    assert pool.read(layer, hash="xxh3", split=True)[0] == read_delta(layer.open(), hash="xxh3")


def test_analyze_splits_a_layer_holding_most_of_the_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    sizes = [layer.blob.size for layer in image.layers]
    assert 2 * max(sizes) > sum(sizes)  # big.bin's layer
    jobs = Jobs(monkeypatch)
    assert analyze(image) == in_this_process(image)
    big = image.layers[sizes.index(max(sizes))].diff_id
    assert sorted(jobs.sent) == sorted(
        (layer.diff_id, layer.diff_id == big) for layer in image.layers
    )


def test_a_helper_that_died_idle_is_passed_over(tmp_path: Path, pool: readers.ReaderPool) -> None:
    image = on_disk(tmp_path, rich_image("none"), "oci")
    layer = image.layers[2]
    pool.read(layer, hash="xxh3")
    (helper,) = pool._all
    os.kill(helper.proc.pid, signal.SIGKILL)
    helper.proc.wait()
    assert pool.read(layer, hash="xxh3")[0] == read_delta(layer.open(), hash="xxh3")
    assert pool.processes == 1 and pool._all[0] is not helper


@pytest.mark.parametrize("started", ["afresh", "forked"])
def test_helpers_that_cannot_start_leave_the_reading_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: str
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    if started == "afresh":
        monkeypatch.setattr(helper_link, "may_fork", lambda: False)
        monkeypatch.setattr(sys, "executable", "/bin/false")  # exits at once
    else:

        def cannot_fork() -> int:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

        # a thread another test left running would otherwise make the pool start its
        # helpers afresh, and they would start
        monkeypatch.setattr(helper_link, "may_fork", lambda: True)
        monkeypatch.setattr(os, "fork", cannot_fork)
    with readers.ReaderPool(2) as p:
        for layer in image.layers:
            assert p.read(layer, hash="xxh3")[0] == read_delta(layer.open(), hash="xxh3")
        assert p.processes == 0


def test_shutdown_stops_the_shared_helpers_and_they_start_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "MAX_PROCESSES", 1)  # one reads, one more hashes
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    analyze(image)
    procs = [h.proc for h in readers.shared(0)._all]
    assert procs
    readers.shutdown()
    assert all(p.poll() is not None for p in procs)
    analyze(image)
    assert readers.shared(0).processes == 2  # the biggest layer was read by two


def test_how_many_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert readers.default_processes() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert readers.default_processes() == 0
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert readers.default_processes() == 4


def test_only_a_module_level_function_can_be_named_to_a_helper(
    tmp_path: Path, pool: readers.ReaderPool
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    with pytest.raises(ValueError, match="not a module-level deadweight function"):
        pool.read(image.layers[0], capture=lambda path: 0)


def test_warm_up_starts_the_helpers_that_the_next_read_uses(tmp_path: Path) -> None:
    readers.warm_up()
    pool = readers.shared(0)
    early = list(pool._all)
    assert len(early) == 2 and not any(h.started for h in early)  # not waited for
    image = on_disk(tmp_path, rich_image("none"), "docker-archive")
    assert analyze(image) == in_this_process(image)
    assert pool._all == early  # the same two read the layers (this process hashed one)
    assert readers.shared(0) is pool


def test_helpers_started_early_and_never_used_are_stopped_at_once() -> None:
    readers.warm_up()
    procs = [h.proc for h in readers.shared(0)._all]
    assert len(procs) == 2
    readers.shutdown()
    assert [p.returncode for p in procs] == [-signal.SIGKILL] * 2  # not waited for


def test_warm_up_on_one_cpu_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    readers.warm_up()
    assert readers.shared(0).processes == 0


@pytest.mark.parametrize("split", [False, True])
def test_an_archive_member_cut_short_fails_alike_when_this_process_hashes_it(
    tmp_path: Path, pool: readers.ReaderPool, split: bool
) -> None:
    """A docker archive's layer is its tar: read split, this process hashes the file while
    the helper parses it; the helper's verdict (truncated) comes first, as in one process."""
    tar = static.tar_bytes([static.File("f", bytes(range(256)) * 4096)])
    desc = Descriptor("application/vnd.oci.image.layer.v1.tar", sha256_bytes(tar), len(tar))
    layer = Layer(sha256_bytes(tar), desc, lambda: io.BytesIO(tar))
    archive.write([static.image([static.Step("RUN x", layer)])], tmp_path / "a.tar")
    image = open_image(f"docker-archive:{tmp_path / 'a.tar'}")
    layer = image.layers[0]
    assert layer.blob.digest == layer.diff_id
    cut_short_fails_alike(layer, tmp_path / "a.tar", pool, split=split)
    assert pool.processes == 1


class HashedBy:
    """Which helper jobs had their blob hashed by another, idle helper given the file."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.helper: list[bool] = []
        real = helper_link.Helper.run

        def run(
            helper: helper_link.Helper, job: dict[str, Any], fd: int, hasher: Any = None, **kw: Any
        ) -> Any:
            self.helper.append(hasher is not None and kw.get("span") is not None)
            return real(helper, job, fd, hasher, **kw)

        monkeypatch.setattr(helper_link.Helper, "run", run)


def test_an_idle_helper_hashes_the_file_of_an_uncompressed_blob_another_reads(
    tmp_path: Path, pool: readers.ReaderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool.start(extra=1)  # two helpers, both idle
    image = on_disk(tmp_path, rich_image("none"), "docker-archive")
    by = HashedBy(monkeypatch)
    for layer in image.layers:
        got = pool.read(layer, hash="xxh3", capture=pkgs.capture, what="layer x", split=True)
        assert got[0] == in_process(layer)
    assert by.helper == [True] * len(image.layers) and pool.processes == 2


def test_an_archive_member_cut_short_fails_alike_when_a_helper_hashes_it(
    tmp_path: Path, pool: readers.ReaderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool.start(extra=1)
    image = hostile("archive member", tmp_path)
    by = HashedBy(monkeypatch)
    assert "truncated" in cut_short_fails_alike(
        image.layers[0], tmp_path / "a.tar", pool, split=True
    )
    assert by.helper == [True]
    # a blob whose digest differs (a flipped byte) is the hashing helper's verdict
    image = hostile("flipped byte, uncompressed", tmp_path / "flipped")
    layer = image.layers[2]
    with pytest.raises(DigestMismatch) as here:
        in_process(layer)
    with pytest.raises(DigestMismatch) as there:
        pool.read(layer, hash="xxh3", capture=pkgs.capture, what="layer x", split=True)
    assert str(there.value) == str(here.value) and by.helper == [True, True]


def test_a_compressed_blob_named_by_its_diff_id_fails_alike_when_this_process_hashes_it(
    tmp_path: Path, pool: readers.ReaderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A descriptor giving a gzip blob the tar's digest: the blob's check fails (this
    process hashes the file it is handed), with the message reading in one process gives."""
    import gzip

    tar = static.tar_bytes([static.File("f", b"1" * 5000)])
    blob = gzip.compress(tar, mtime=0)
    path = tmp_path / "blob"
    path.write_bytes(blob)  # no medium writes such a descriptor: the file is the layer's
    desc = Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", sha256_bytes(tar), len(blob))
    layer = Layer(sha256_bytes(tar), desc, lambda: path.open("rb"), seekable=True)
    with pytest.raises(DigestMismatch) as here:
        in_process(layer)
    jobs = Jobs(monkeypatch)
    with pytest.raises(DigestMismatch) as there:
        pool.read(layer, hash="xxh3", capture=pkgs.capture, what="layer x", split=True)
    assert str(there.value) == str(here.value)
    assert jobs.sent == [(layer.diff_id, True)] and pool.processes == 1
