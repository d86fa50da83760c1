"""Very many layers (issue 16: 100,000 layers made ``analyze`` and ``lint IMAGE`` run past
30 s). No timing asserts: each test counts the work done per layer (files opened, store
lookups, decodes, helper processes started, progress reports) and bounds it by the number
of distinct layers, or by the number of layers where one report per layer is the point."""

from __future__ import annotations

import builtins
import io
import os
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import hostile_shapes as shapes
import pytest
from click.testing import CliRunner

from deadweight.analysis import packages as pkgs
from deadweight.cache import LayerStore
from deadweight.cli._group import cli
from deadweight.filetree.delta import LayerDelta
from deadweight.imagelint.lint import capture as lint_capture
from deadweight.reading import _helper_link, _pool, read_deltas
from deadweight.reading._deltas import REPORTS
from deadweight.sources import archive

COUNT = 3_000


def distinct_layer(i: int) -> bytes:
    info = tarfile.TarInfo(f"etc/layer{i}")
    info.size = 3
    return shapes.tar_of([info], {info.name: b"%03d" % (i % 1000)})


class CountingStore(LayerStore):
    """The SQLite store, counting what is asked of it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: Counter[str] = Counter()

    def get_blob(self, kind: str, diff_id: str) -> bytes | None:
        self.calls["get_blob"] += 1
        return super().get_blob(kind, diff_id)

    def get_blob_or_spill(
        self, kind: str, diff_id: str, above: int, spill: Callable[[], IO[bytes]]
    ) -> bytes | IO[bytes] | None:
        self.calls["get_blob"] += 1  # the same lookup, a large blob copied to a file
        return super().get_blob_or_spill(kind, diff_id, above, spill)

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None:
        self.calls["put_blob"] += 1
        super().put_blob(kind, diff_id, data)

    def put_blob_from(self, kind: str, diff_id: str, file: IO[bytes]) -> None:
        self.calls["put_blob"] += 1  # the same put, copied from a helper's spool file
        super().put_blob_from(kind, diff_id, file)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    seen: Counter[str] = Counter()
    real = LayerDelta.from_bytes

    def counting(data: bytes) -> LayerDelta | None:
        seen["decode"] += 1
        return real(data)

    monkeypatch.setattr(LayerDelta, "from_bytes", staticmethod(counting))
    return seen


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Files opened in this process by path (helpers open none: they are handed files)."""
    seen: Counter[str] = Counter()

    def spy(real: Callable[..., Any]) -> Callable[..., Any]:
        def opening(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | Path):
                seen[str(file)] += 1
            return real(file, *args, **kwargs)

        return opening

    monkeypatch.setattr(builtins, "open", spy(builtins.open))
    monkeypatch.setattr(io, "open", spy(io.open))
    yield seen


@pytest.mark.parametrize("capture", [pkgs.capture, lint_capture], ids=["analyze", "lint"])
def test_one_layer_named_many_times_costs_one_lookup_one_read_one_decode(
    tmp_path: Path, decodes: Counter[str], opened: Counter[str], capture: Any
) -> None:
    path = shapes.docker_archive(tmp_path / "many.tar", [shapes.small_layer()] * COUNT)
    image = archive.read(path)
    assert opened[str(path)] < 10  # the index, the config, one sniff: not one per layer
    store = CountingStore(tmp_path / "layers.sqlite")
    reports: list[tuple[int, int]] = []
    try:
        opened.clear()
        first = read_deltas(
            image, capture=capture, store=store, progress=lambda *r: reports.append(r)
        )
        assert opened[str(path)] == 1 and store.calls == {"get_blob": 1, "put_blob": 1}
        assert len(first) == COUNT and len(set(map(id, first))) == 1
        step = COUNT // REPORTS  # a report per layer up to REPORTS layers, then fewer
        assert reports == [(n, COUNT) for n in range(step, COUNT + 1, step)]
        store.calls.clear()
        opened.clear()
        decodes.clear()
        reports.clear()
        again = read_deltas(
            image, capture=capture, store=store, progress=lambda *r: reports.append(r)
        )
        assert again == first and opened[str(path)] == 0
        assert store.calls == {"get_blob": 1} and decodes["decode"] == 1
        assert reports == [(COUNT, COUNT)]  # the store held them all: one report
    finally:
        store.close()


def test_many_distinct_layers_start_a_few_helpers_and_read_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: Counter[str]
) -> None:
    _pool.shutdown()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    spawned = [0]
    real = _helper_link.Helper.spawn

    def spawn(*role: str) -> _helper_link.Helper | None:
        spawned[0] += 1
        return real(*role)

    monkeypatch.setattr(_helper_link.Helper, "spawn", staticmethod(spawn))
    count = 300
    path = shapes.docker_archive(
        tmp_path / "distinct.tar", [distinct_layer(i) for i in range(count)]
    )
    image = archive.read(path)
    opened.clear()
    try:
        deltas = read_deltas(image, capture=pkgs.capture)
    finally:
        _pool.shutdown()
    assert [d.entries[0].path for d in deltas] == [f"etc/layer{i}" for i in range(count)]
    assert opened[str(path)] == count  # each layer once, handed to a helper
    assert 1 <= spawned[0] <= _pool.default_processes() + 1  # + one that hashes a big layer


@pytest.mark.parametrize("command", ["analyze", "lint"])
def test_the_cli_on_many_layers_opens_the_archive_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: Counter[str], command: str
) -> None:
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    path = shapes.docker_archive(tmp_path / "many.tar", [shapes.small_layer()] * COUNT)
    result = CliRunner().invoke(cli, [command, "--no-cache", str(path)])
    assert result.exit_code in (0, 1), result.output  # lint: 1 for its findings
    assert opened[str(path)] < 10
