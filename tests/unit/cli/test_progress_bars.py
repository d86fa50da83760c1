"""The CLI's one progress block: a bar a label on a terminal, nothing elsewhere."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import rich.progress

from deadweight.cli._options import progress_bars, with_progress


class Bars:
    """rich's Progress as far as the block uses it, recording each task's state."""

    def __init__(self, **_: Any) -> None:
        self.tasks: dict[int, dict[str, Any]] = {}
        Bars.last = self

    last: Bars

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def add_task(self, label: str, total: int | None) -> int:
        self.tasks[len(self.tasks)] = {"label": label, "completed": 0, "total": total}
        return len(self.tasks) - 1

    def update(self, task: int, *, completed: int, total: int | None) -> None:
        self.tasks[task].update(completed=completed, total=total)


def test_no_terminal_or_quiet_no_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with progress_bars(("layers", "images")) as bars:
        assert bars is None
    assert with_progress("reading", 3, lambda progress: progress) is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bars(("layers",), quiet=True) as bars:
        assert bars is None


def test_a_bar_a_label_each_told_its_own_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(rich.progress, "Progress", Bars)
    with progress_bars(("layers", "images"), (None, 4)) as bars:
        assert bars is not None
        layers, images = bars
        layers(3, 7)  # no fixed total: the report's
        images(1, 99)  # a fixed total stays
    assert list(Bars.last.tasks.values()) == [
        {"label": "layers", "completed": 3, "total": 7},
        {"label": "images", "completed": 1, "total": 4},
    ]
    assert with_progress("reading", None, lambda progress: progress and progress(2, 5)) is None
    assert list(Bars.last.tasks.values()) == [{"label": "reading", "completed": 2, "total": 5}]
