"""The embedded Dask cluster keeps its scratch space in a directory of ours and leaves
nothing in ``$TMPDIR`` when the scan ends."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from deadweight.cluster.runners import dask_runner


def _dask_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "dask" in p.name)


def test_the_embedded_cluster_removes_its_scratch_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with dask_runner(workers=1, scheduler=None) as runner:
        places = runner.client.run(lambda dask_worker: dask_worker.local_directory)
        assert _dask_leftovers(tmp_path) != []
        (ours,) = _dask_leftovers(tmp_path)
        assert ours.startswith("deadweight-dask-")
        assert all(Path(p).is_relative_to(tmp_path / ours) for p in places.values())
        assert runner.client.submit(sum, [1, 2], pure=False).result() == 3
    assert _dask_leftovers(tmp_path) == []
