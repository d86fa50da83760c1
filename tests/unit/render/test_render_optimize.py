"""The optimize report's sizes: a step that adds bytes (a non-root user's ownership
changes) prints as a negative size, never as Go's %g of a negative number."""

from __future__ import annotations

import pytest

from deadweight.render.optimize import signed_size


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0B"), (999, "999B"), (1_330, "1.33kB"), (-54, "-54B"), (-1_330, "-1.33kB"),
     (-21_500_000, "-21.5MB")],
)  # fmt: skip
def test_signed_size(n: int, text: str) -> None:
    assert signed_size(n) == text
