"""``deadweight explore``: the one-line errors before any terminal UI starts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from deadweight.cli.explore import explore
from deadweight.errors import RuntimeProblem, UsageError


def test_without_textual_the_error_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "textual" else real(name, *a)
    )
    r = CliRunner().invoke(explore, ["whatever.tar"])
    assert isinstance(r.exception, RuntimeProblem)
    assert "pip install 'deadweight[explore]'" in str(r.exception)


def test_without_a_terminal_it_says_so_before_reading(tmp_path: Path) -> None:
    r = CliRunner().invoke(explore, [str(tmp_path / "missing.tar")])
    assert isinstance(r.exception, UsageError)
    assert "needs an interactive terminal" in str(r.exception)
