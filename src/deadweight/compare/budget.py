"""The CI budget: how much B may grow over A, as a verdict value (not an error)."""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.compare.result import ImageDiff


@dataclass(frozen=True, slots=True)
class Check:
    rule: str
    limit: str
    actual: str
    passed: bool


@dataclass(frozen=True, slots=True)
class Budget:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def check(diff: ImageDiff, max_percent: float | None, max_bytes: int | None) -> Budget:
    """Growth above either limit fails; shrinking always passes."""
    checks = []
    if max_percent is not None:
        pct = diff.percent
        checks.append(Check("max-growth", f"{max_percent:g}%", f"{pct:+.2f}%", pct <= max_percent))
    if max_bytes is not None:
        checks.append(
            Check("max-growth-bytes", str(max_bytes), f"{diff.delta:+d}", diff.delta <= max_bytes)
        )
    return Budget(tuple(checks))
