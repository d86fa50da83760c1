"""The encoded delta a helper sends back goes through a spool file with no name (issue 16:
not a pipe read whole into memory): decoded from a map of it, copied from it into the
layer store, closed once stored, and never a file left in the temp folder."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO, Any

import pytest
from test_pool import on_disk, rich_image

from deadweight import scratch
from deadweight.analysis import packages as pkgs
from deadweight.cache import LayerStore
from deadweight.filetree.delta import LayerDelta, default_hash, read_delta
from deadweight.reading import _pool as readers
from deadweight.reading import read_deltas, store_kind

pytestmark = pytest.mark.usefixtures("fresh_shared_pool")


def _open_in(folder: Path) -> list[str]:
    """What this process holds open in ``folder`` (an unnamed file is ``folder/#N
    (deleted)`` there)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(f"{folder}/"):
            held.append(target)
    return held


def _recorded_spools(monkeypatch: pytest.MonkeyPatch) -> list[IO[bytes]]:
    """Every spool file ``scratch.unnamed`` makes from now on, in the order made."""
    made: list[IO[bytes]] = []
    real = scratch.unnamed

    def unnamed(where: str | None = None) -> Any:
        spool = real(where)
        made.append(spool[0])
        return spool

    monkeypatch.setattr(scratch, "unnamed", unnamed)
    return made


def test_the_delta_comes_back_in_an_unnamed_spool_file(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    made = _recorded_spools(monkeypatch)
    with readers.ReaderPool(1) as pool:
        for layer in image.layers:
            delta, spool = pool.read(layer, hash="xxh3", capture=pkgs.capture, what="layer x")
            assert spool is not None and spool is made[-1]
            status = os.fstat(spool.fileno())
            assert status.st_nlink == 0  # no name: a killed run leaves nothing
            assert status.st_dev == os.stat(spools).st_dev  # in the spool folder's file system
            assert os.listdir(spools) == [] and len(_open_in(spools)) == 1
            assert LayerDelta.from_bytes(spool.read()) == delta  # read from its start
            with layer.open() as stream:
                assert delta == read_delta(stream, hash="xxh3", capture=pkgs.capture)
            spool.close()
    assert len(made) == len(image.layers)


def test_every_spool_is_stored_and_closed(tmp_path: Path, spools: Path) -> None:
    first = on_disk(tmp_path / "a", rich_image("gzip"), "oci")
    read_deltas(first, capture=pkgs.capture)  # the helpers started, and stay
    image = on_disk(tmp_path / "b", rich_image("zstd"), "oci")
    store = LayerStore(tmp_path / "layers.sqlite")
    deltas = read_deltas(image, capture=pkgs.capture, store=store)
    assert readers.shared(0).processes >= 1  # read by helpers
    assert _open_in(spools) == []  # every spool closed
    assert os.listdir(spools) == []
    kind = store_kind(default_hash(), pkgs.capture)
    for layer, delta in zip(image.layers, deltas, strict=True):
        stored = store.get_blob(kind, layer.diff_id)
        assert stored is not None and LayerDelta.from_bytes(stored) == delta
    store.close()


def test_a_spool_the_helper_cannot_write_is_the_os_error(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    layer = image.layers[0]
    (tmp_path / "read-only").write_bytes(b"")
    real = scratch.unnamed
    monkeypatch.setattr(
        scratch,
        "unnamed",
        lambda where=None: (open(tmp_path / "read-only", "rb"), None),  # noqa: SIM115
    )
    with readers.ReaderPool(1) as pool:
        with pytest.raises(OSError) as failed:
            pool.read(layer, hash="xxh3", what="layer x")
        assert failed.value.errno == errno.EBADF
        assert pool.processes == 1  # the helper lives on
        monkeypatch.setattr(scratch, "unnamed", real)
        delta, spool = pool.read(layer, hash="xxh3")
        assert spool is not None
        spool.close()
        assert pool.processes == 1
    with layer.open() as stream:
        assert delta == read_delta(stream, hash="xxh3")


def test_a_large_stored_delta_is_decoded_from_an_unnamed_copy(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deadweight.reading import _deltas

    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    store = LayerStore(tmp_path / "layers.sqlite")
    first = read_deltas(image, capture=pkgs.capture, store=store)
    made = _recorded_spools(monkeypatch)
    monkeypatch.setattr(_deltas, "SPILL", 0)  # every stored delta is "large"
    again = read_deltas(image, capture=pkgs.capture, store=store)
    assert again == first
    assert len(made) == len({layer.diff_id for layer in image.layers})
    assert all(f.closed for f in made)  # each copy closed once decoded
    assert os.listdir(spools) == [] and _open_in(spools) == []
    store.close()


def test_a_large_delta_read_here_is_stored_through_an_unnamed_spool(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deadweight.reading import _deltas

    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # no helper: read in this process
    monkeypatch.setattr(_deltas, "SPOOLED", 0)
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    made = _recorded_spools(monkeypatch)
    store = LayerStore(tmp_path / "layers.sqlite")
    deltas = read_deltas(image, capture=pkgs.capture, store=store)
    assert readers.shared(0).processes == 0
    kind = store_kind(default_hash(), pkgs.capture)
    for layer, delta in zip(image.layers, deltas, strict=True):
        assert store.get_blob(kind, layer.diff_id) == delta.to_bytes()  # the same record
    assert made and all(f.closed for f in made)
    assert os.listdir(spools) == [] and _open_in(spools) == []

    def full(where: str | None = None) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(scratch, "unnamed", full)
    other = LayerStore(tmp_path / "other.sqlite")
    assert read_deltas(image, capture=pkgs.capture, store=other) == deltas  # not stored
    assert all(other.get_blob(kind, layer.diff_id) is None for layer in image.layers)
    store.close()
    other.close()
