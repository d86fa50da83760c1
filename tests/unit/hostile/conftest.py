"""Fixtures of the hostile-input tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read the developer's own docker config, nor their registry timeout."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    monkeypatch.delenv("DEADWEIGHT_REGISTRY_TIMEOUT", raising=False)
    return config_dir
