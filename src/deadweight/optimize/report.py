"""The result of ``optimize``: the plan, sizes before and after, verification, the output."""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.optimize.planning import Plan
from deadweight.optimize.verify import Verification

# Bump when a field of the JSON document changes meaning or disappears.
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Report:
    """``before``/``after`` are docker's per-layer sizes (bottom first) of the input and the
    result; ``destination`` is empty for a dry run; ``written`` is False when verification
    failed and ``--force`` was not given."""

    image: str
    plan: Plan
    before: tuple[int, ...]
    after: tuple[int, ...]
    image_id: str = ""
    destination: str = ""
    written: bool = False
    dry_run: bool = False
    verification: Verification | None = None
    forced: bool = False
    schema_version: int = SCHEMA_VERSION

    @property
    def size_before(self) -> int:
        return sum(self.before)

    @property
    def size_after(self) -> int:
        return sum(self.after)
