"""Optimize an image: ``plan`` what to remove, ``apply`` it as a new image.

See ``plan`` for the steps of each level (``npm`` and ``user`` for the moderate steps that
are not path categories) and ``verify`` for the comparison of the original and the
optimized image when both run.
"""

from __future__ import annotations

from deadweight.optimize.moderate import Skipped
from deadweight.optimize.planning import (
    CATEGORIES,
    LEVELS,
    STEP_NAMES,
    Level,
    Plan,
    Removed,
    SquashMode,
    Step,
    apply,
    dropper,
    plan,
)
from deadweight.optimize.report import Report
from deadweight.optimize.verify import Check, Run, Verification

__all__ = [
    "CATEGORIES",
    "LEVELS",
    "STEP_NAMES",
    "Check",
    "Level",
    "Plan",
    "Removed",
    "Report",
    "Run",
    "Skipped",
    "SquashMode",
    "Step",
    "Verification",
    "apply",
    "dropper",
    "plan",
]
