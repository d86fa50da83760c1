"""Fixture data for the renderer tests: rows and images rebuilt from docker's recorded output.

``golden/`` holds verbatim copies of files of docs/specs docker-formats-examples (stdout
of the real docker CLI 20.10; see golden/README.md); ``data/`` holds the inputs that
produce them (see the ``note`` of each file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deadweight.history import HistoryRow, history_rows
from deadweight.image import Image
from deadweight.spec.config import parse_config
from deadweight.summary import ImageSummary

HERE = Path(__file__).parent
DATA = HERE / "data"
GOLDEN = HERE / "golden"


def utc_seconds(text: str) -> int:
    """Unix seconds of ``YYYY-MM-DDTHH:MM:SSZ``."""
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _rows_from_config(name: str) -> tuple[HistoryRow, ...]:
    """Rows of a real image through the domain code: raw config, parent chain, layer sizes."""
    meta = _load(f"image-{name}.json")
    raw = (DATA / meta["config"]).read_bytes()
    image = Image(
        raw_config=raw,
        config=parse_config(raw),
        layers=(),
        id="sha256:" + hashlib.sha256(raw).hexdigest(),
        ancestors=tuple(meta["ancestors"]),
    )
    return history_rows(image, meta["layer_sizes"])


def load_rows(name: str) -> tuple[HistoryRow, ...]:
    if (DATA / f"image-{name}.json").exists():
        return _rows_from_config(name)
    return tuple(HistoryRow(**row) for row in _load(f"rows-{name}.json")["rows"])


def load_images(name: str) -> tuple[ImageSummary, ...]:
    return tuple(
        ImageSummary(
            id=item["id"],
            repo_tags=tuple(item["repo_tags"]),
            repo_digests=tuple(item["repo_digests"]),
            created=item["created"],
            size=item["size"],
        )
        for item in _load(f"images-{name}.json")["images"]
    )


def read_golden(name: str) -> str:
    return (GOLDEN / name).read_bytes().decode("utf-8")


@pytest.fixture
def rows() -> Callable[[str], tuple[HistoryRow, ...]]:
    return load_rows


@pytest.fixture
def images() -> Callable[[str], tuple[ImageSummary, ...]]:
    return load_images


@pytest.fixture
def golden() -> Callable[[str], str]:
    return read_golden


@pytest.fixture
def config_document() -> Callable[[str], dict[str, Any]]:
    def load(name: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((DATA / f"config-{name}.json").read_bytes())
        return doc

    return load
