"""Fixtures of the reading tests that run the helper processes and make spool files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from deadweight.reading import _pool as readers


@pytest.fixture
def fresh_shared_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No helper of an earlier test, and two CPUs: helpers read the layers."""
    readers.shutdown()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    yield
    readers.shutdown()


@pytest.fixture
def spools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder, where spool files are made (``DEADWEIGHT_TMPDIR``)."""
    folder = tmp_path / "spools"
    folder.mkdir()
    monkeypatch.setenv("DEADWEIGHT_TMPDIR", str(folder))
    return folder
