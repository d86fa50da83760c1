"""Minify: keep only what an image's app uses, and say why each path stays or goes.

``plan_minify`` decides from the image (its command lines, ELF closure, packages,
essentials, what the user names) and the evidence of traced runs; ``apply_minify`` builds
the one-layer result. Running and tracing the image is the caller's (see ``deadweight.runs``
and the ``minify`` command).
"""

from __future__ import annotations

from deadweight.minify.apply import SOURCE_LABEL, apply_minify
from deadweight.minify.evidence import Evidence, Reason, Trace
from deadweight.minify.plan import PACKAGES, MinifyPlan, Packages, Removed, plan_minify

__all__ = [
    "PACKAGES",
    "SOURCE_LABEL",
    "Evidence",
    "MinifyPlan",
    "Packages",
    "Reason",
    "Removed",
    "Trace",
    "apply_minify",
    "plan_minify",
]
