"""A small synthetic fleet written as docker archives into a folder, shared by the module."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import fleet_images
from deadweight.sources import archive


@pytest.fixture(scope="session")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fleet")
    for i, (name, image) in enumerate(fleet_images.fleet(9, 4 << 10)):
        archive.write([dataclasses.replace(image, repo_tags=(name,))], folder / f"{i:02d}.tar")
    return folder


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"
