"""The embedded store: sizes and per-layer blobs survive a reopen; a broken store degrades."""

from __future__ import annotations

from pathlib import Path

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
    again.close()


def test_unwritable_location_means_no_caching(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"not a directory")
    store = LayerStore(blocker / "layers.sqlite")
    store.put(DIFF, 1)
    store.put_blob("k", DIFF, b"x")
    assert store.get(DIFF) is None
    assert store.get_blob("k", DIFF) is None
    assert blocker.read_bytes() == b"not a directory"
