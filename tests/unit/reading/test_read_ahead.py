"""Layers read ahead (``reading.read_ahead``): the read that follows takes what was read,
each layer is sent to a helper once, a failure met ahead is raised by the read that
takes it, and what nobody asks for never holds up the exit."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_pool import Jobs, hostile, in_this_process, on_disk, rich_image

from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze
from deadweight.cache import LayerStore
from deadweight.errors import DeadweightError
from deadweight.filetree.delta import default_hash
from deadweight.reading import _pool as readers
from deadweight.reading import read_ahead, read_deltas, store_kind


@pytest.fixture(autouse=True)
def fresh_shared_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    readers.shutdown()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    yield
    readers.shutdown()


@pytest.mark.parametrize("medium", ["oci", "docker-archive"])
def test_the_read_that_follows_takes_what_was_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, medium: str
) -> None:
    image = on_disk(tmp_path, rich_image("gzip" if medium == "oci" else "none"), medium)
    expected = in_this_process(image)
    jobs = Jobs(monkeypatch)
    read_ahead(image, capture=pkgs.capture)
    assert analyze(image) == expected
    assert sorted(d for d, _ in jobs.sent) == sorted(layer.diff_id for layer in image.layers)


def test_a_read_ahead_with_another_capture_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    jobs = Jobs(monkeypatch)
    read_ahead(image, capture=None)
    deltas = read_deltas(image, capture=pkgs.capture)
    assert any(d.captured for d in deltas)  # read with the capture asked for
    layers = sorted(layer.diff_id for layer in image.layers)
    deadline = time.monotonic() + 30
    while len(jobs.sent) < 2 * len(layers) and time.monotonic() < deadline:
        time.sleep(0.01)  # the reads ahead finish on their own
    assert sorted(d for d, _ in jobs.sent) == sorted(layers * 2)


def test_a_failure_met_ahead_is_raised_by_the_read_that_takes_it(tmp_path: Path) -> None:
    image = hostile("flipped byte", tmp_path / "ahead")
    same = hostile("flipped byte", tmp_path / "here")
    with pytest.raises(DeadweightError) as here:
        read_deltas(same, capture=pkgs.capture)
    read_ahead(image, capture=pkgs.capture)
    with pytest.raises(DeadweightError) as ahead:
        read_deltas(image, capture=pkgs.capture)
    assert type(ahead.value) is type(here.value)
    assert str(ahead.value) == str(here.value)


def test_layers_the_store_holds_are_not_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    store = LayerStore(tmp_path / "store")
    try:
        read_deltas(image, capture=pkgs.capture, store=store, layers=[0])
        assert store.get_blob(store_kind(default_hash(), pkgs.capture), image.layers[0].diff_id)
        jobs = Jobs(monkeypatch)
        read_ahead(image, capture=pkgs.capture, store=store)
        read_deltas(image, capture=pkgs.capture, store=store)
    finally:
        store.close()
    assert sorted(d for d, _ in jobs.sent) == sorted(x.diff_id for x in image.layers[1:])


def test_nothing_is_read_ahead_on_one_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    read_ahead(image, capture=pkgs.capture)
    assert readers.shared(0).processes == 0


def test_a_read_ahead_nobody_takes_is_stopped_at_shutdown(tmp_path: Path) -> None:
    image = on_disk(tmp_path, rich_image("gzip"), "oci")
    read_ahead(image, capture=pkgs.capture)
    procs = [h.proc for h in readers.shared(0)._all]
    assert procs
    readers.shutdown()  # helpers reading are killed, idle ones told to exit
    assert all(p.poll() is not None for p in procs)
