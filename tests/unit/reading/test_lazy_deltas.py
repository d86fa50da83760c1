"""``iter_deltas(lazy=True)``: a large delta's entries stay in the record's file (the
layer store's copy, or the spool a helper wrote), decoded as they are iterated, and are
the entries ``iter_deltas()`` gives, layer for layer; each file closed once its delta is
dropped, none left in the temp folder. A large layer read in this process is written into
a spool as it is read, a small one never (issue 16)."""

from __future__ import annotations

import dataclasses
import errno
import gc
import os
from pathlib import Path
from typing import Any

import pytest
from test_pool import on_disk, rich_image
from test_spool import _open_in, _recorded_spools

from deadweight import scratch, static
from deadweight.analysis import packages as pkgs
from deadweight.cache import LayerStore
from deadweight.filetree.delta import LayerDelta, default_hash
from deadweight.filetree.record import StoredEntries
from deadweight.image import Image
from deadweight.reading import _deltas, iter_deltas, read_ahead, store_kind
from deadweight.reading import _pool as readers

pytestmark = pytest.mark.usefixtures("fresh_shared_pool")


def _same(lazy: list[LayerDelta], whole: list[LayerDelta]) -> None:
    assert len(lazy) == len(whole)
    for got, want in zip(lazy, whole, strict=True):
        assert isinstance(want.entries, tuple)
        assert list(got.entries) == list(want.entries)
        assert len(got.entries) == len(want.entries)
        assert dataclasses.replace(got, entries=()) == dataclasses.replace(want, entries=())


def _image(tmp_path: Path) -> Image:
    return on_disk(tmp_path, rich_image("gzip"), "oci")


def test_fresh_layers_read_lazily_are_the_whole_ones(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _image(tmp_path)
    whole = list(iter_deltas(image, capture=pkgs.capture))
    monkeypatch.setattr(_deltas, "SPILL", 0)  # every record "large"
    store = LayerStore(tmp_path / "layers.sqlite")
    lazy = list(iter_deltas(image, capture=pkgs.capture, store=store, lazy=True))
    assert readers.shared(0).processes >= 1  # read by helpers
    assert all(isinstance(d.entries, StoredEntries) for d in lazy)  # kept in the spools
    _same(lazy, whole)
    assert os.listdir(spools) == []
    assert _open_in(spools)  # the spools, open while their deltas live
    del lazy
    gc.collect()
    assert _open_in(spools) == []
    # and stored as a whole read stores them: read back whole, the same deltas
    monkeypatch.setattr(_deltas, "SPILL", 8 << 20)
    _same(list(iter_deltas(image, capture=pkgs.capture, store=store)), whole)
    store.close()


def test_stored_layers_read_lazily_are_the_whole_ones(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _image(tmp_path)
    store = LayerStore(tmp_path / "layers.sqlite")
    whole = list(iter_deltas(image, capture=pkgs.capture, store=store))  # now stored
    readers.shutdown()
    monkeypatch.setattr(_deltas, "SPILL", 0)
    lazy = list(iter_deltas(image, capture=pkgs.capture, store=store, lazy=True))
    assert readers.shared(0).processes == 0  # nothing read: all from the store
    assert all(isinstance(d.entries, StoredEntries) for d in lazy)
    _same(lazy, whole)
    assert _open_in(spools) and os.listdir(spools) == []
    del lazy
    gc.collect()
    assert _open_in(spools) == []
    store.close()


def test_small_records_stay_whole_and_hold_no_file(tmp_path: Path, spools: Path) -> None:
    image = _image(tmp_path)
    store = LayerStore(tmp_path / "layers.sqlite")
    whole = list(iter_deltas(image, capture=pkgs.capture, store=store))
    for _ in range(2):  # read fresh, then from the store
        lazy = list(iter_deltas(image, capture=pkgs.capture, store=store, lazy=True))
        assert all(isinstance(d.entries, tuple) for d in lazy)
        assert lazy == whole
        assert _open_in(spools) == []
    store.close()


def test_a_layer_read_ahead_is_decoded_as_the_read_that_takes_it_asks(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _image(tmp_path)
    whole = list(iter_deltas(image, capture=pkgs.capture))
    monkeypatch.setattr(_deltas, "SPILL", 0)
    for lazy in (True, False):
        read_ahead(image, capture=pkgs.capture)
        got = list(iter_deltas(image, capture=pkgs.capture, lazy=lazy))
        assert all(isinstance(d.entries, StoredEntries if lazy else tuple) for d in got)
        _same(got, whole)
    del got
    gc.collect()
    assert _open_in(spools) == [] and os.listdir(spools) == []


def _alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """No helper may run: every layer is read in this process."""
    readers.shutdown()
    monkeypatch.setattr(os, "cpu_count", lambda: 1)


@pytest.mark.parametrize("medium", ["memory", "oci"])
def test_a_large_layer_read_here_lazily_is_spooled_as_it_is_read(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch, medium: str
) -> None:
    _alone(monkeypatch)
    image = rich_image("gzip") if medium == "memory" else _image(tmp_path)
    whole = list(iter_deltas(image, capture=pkgs.capture))
    made = _recorded_spools(monkeypatch)
    monkeypatch.setattr(_deltas, "SPOOLED", 3)  # more entries than this: spooled
    monkeypatch.setattr(_deltas, "SPILL", 0)
    store = LayerStore(tmp_path / "layers.sqlite")
    lazy = list(iter_deltas(image, capture=pkgs.capture, store=store, lazy=True))
    assert readers.shared(0).processes == 0
    big = [len(d.entries) > 3 for d in whole]
    assert any(big) and len(made) == sum(big)  # one spool a large layer, as it was read
    assert [isinstance(d.entries, StoredEntries) for d in lazy] == big
    _same(lazy, whole)
    kind = store_kind(default_hash(), pkgs.capture)
    for layer, delta in zip(image.layers, whole, strict=True):
        assert store.get_blob(kind, layer.diff_id) == delta.to_bytes()  # stored as read
    assert all(f.closed for f in made) and os.listdir(spools) == []
    del lazy
    gc.collect()
    assert _open_in(spools) == []
    store.close()


def test_a_small_layer_read_here_lazily_never_touches_the_disk(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _alone(monkeypatch)
    image = rich_image("gzip")
    made = _recorded_spools(monkeypatch)
    lazy = list(iter_deltas(image, capture=pkgs.capture, lazy=True))
    assert made == []
    assert lazy == list(iter_deltas(image, capture=pkgs.capture))


def _five_files(*more: str) -> Image:
    files = [static.File(f"f{i}", b"x") for i in range(5)]
    files += [static.File(name, b"") for name in more]
    return static.image([static.Step("ADD x /", static.layer(files))])


@pytest.mark.parametrize("trouble", ["no room", "not UTF-8"])
def test_a_layer_the_spool_cannot_take_is_read_whole(
    spools: Path, monkeypatch: pytest.MonkeyPatch, trouble: str
) -> None:
    _alone(monkeypatch)
    if trouble == "no room":
        image = _five_files()

        def full(where: str | None = None) -> Any:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(scratch, "unnamed", full)
    else:
        image = _five_files("caf\udce9")  # a Latin-1 name: no UTF-8 record holds it
    whole = list(iter_deltas(image, capture=pkgs.capture))
    monkeypatch.setattr(_deltas, "SPOOLED", 3)
    monkeypatch.setattr(_deltas, "SPILL", 0)
    lazy = list(iter_deltas(image, capture=pkgs.capture, lazy=True))
    assert all(isinstance(d.entries, tuple) for d in lazy)
    assert lazy == whole
    assert os.listdir(spools) == [] and _open_in(spools) == []


@pytest.mark.parametrize("size", [2, 5])
def test_analyze_and_lint_of_lazy_deltas_in_parts_are_the_whole_ones(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """``analyze`` and ``lint IMAGE`` read large layers lazily and stack an image of more
    than ``partition.SIZE`` members in parts: cold (the helpers' spools) and warm (the
    store's copies), they say what the whole image read whole says (issue 16)."""
    from deadweight.analysis.analyze import analyze
    from deadweight.filetree import partition
    from deadweight.imagelint import lint_image

    image = _image(tmp_path)
    whole, findings = analyze(image), lint_image(image).findings
    monkeypatch.setattr(_deltas, "SPILL", 0)  # every record "large"
    monkeypatch.setattr(partition, "SIZE", size)
    store = LayerStore(tmp_path / "layers.sqlite")
    for _ in ("cold", "warm"):
        assert repr(analyze(image, store=store)) == repr(whole)
        assert lint_image(image, store=store).findings == findings
    gc.collect()
    assert _open_in(spools) == [] and os.listdir(spools) == []
    store.close()


@pytest.mark.parametrize("disjoint", [True, False])
def test_optimize_of_lazy_deltas_writes_the_image_whole_ones_write(
    tmp_path: Path, spools: Path, monkeypatch: pytest.MonkeyPatch, disjoint: bool
) -> None:
    """``optimize`` reads large layers lazily: merged without a tree (its entries sorted
    on disk, ``mutate._disjoint``) or with one, the plan and the image are the ones whole
    deltas give, and no file is left open or behind (issue 16)."""
    from deadweight import mutate, spilled
    from deadweight.optimize import planning

    image = _image(tmp_path)
    if disjoint:  # nothing hides anything: a tar's order is not its path order
        (tmp_path / "two").mkdir()
        files = [static.File(f"srv/f{i}", b"%d" % i * 300) for i in range(400)]
        base: list[static.Entry] = [
            static.File("tmp/t", b"t"),
            static.Dir("etc"),
            static.File("etc/a-b", b"x"),
        ]
        image = on_disk(
            tmp_path / "two",
            static.image(
                [
                    static.Step("FROM base", static.layer(base, "gzip")),
                    static.Step("COPY . /srv", static.layer(files, "gzip")),
                ]
            ),
            "oci",
        )
    whole_deltas = list(iter_deltas(image, capture=pkgs.capture))
    whole = planning.plan(image, squash="all", epoch=0, deltas=whole_deltas)
    monkeypatch.setattr(_deltas, "SPILL", 0)  # every record "large"
    monkeypatch.setattr(spilled, "RUN", 7)  # sorted in runs on disk
    monkeypatch.setattr(spilled, "FAN", 3)
    for _ in ("cold", "warm"):
        store = LayerStore(tmp_path / "layers.sqlite")
        deltas = list(iter_deltas(image, capture=pkgs.capture, store=store, lazy=True))
        assert all(isinstance(d.entries, StoredEntries) for d in deltas)
        lazy = planning.plan(image, squash="all", epoch=0, deltas=deltas)
        assert lazy == whole
        assert isinstance(lazy.merged and lazy.merged.items, mutate.Ordered) == disjoint
        assert planning.apply(image, lazy).id == planning.apply(image, whole).id
        del deltas, lazy
        store.close()
    del whole  # its merge's items, kept on disk
    gc.collect()
    assert _open_in(spools) == [] and os.listdir(spools) == []
