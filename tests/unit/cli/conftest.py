"""Fixtures of the command tests."""

from __future__ import annotations

import pytest

from deadweight.filetree import partition


@pytest.fixture
def views_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every image "large" (``partition.SIZE`` 1): the paths ``partition.view`` is asked
    for, in order, as a command looks at them."""
    made: list[str] = []
    real = partition.view

    def view(deltas: object, path: str, world: object = None) -> partition.View:
        made.append(path)
        return real(deltas, path, world)  # type: ignore[arg-type]

    monkeypatch.setattr(partition, "SIZE", 1)
    monkeypatch.setattr(partition, "view", view)
    return made
