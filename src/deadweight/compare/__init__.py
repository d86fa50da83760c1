"""Comparing two images: which steps, files, packages and settings differ, and by how much.

:func:`compare` reads only the layers the images do not share and returns an
:class:`ImageDiff`; :func:`diff_sides` is the pure part; :func:`check` applies a growth
budget. ``content`` looks inside: one file's bytes and a unified diff.
"""

from __future__ import annotations

from deadweight.compare.budget import Budget, Check, check
from deadweight.compare.diff import (
    Side,
    compare,
    diff_sides,
    read_sides,
    shared_prefix,
)
from deadweight.compare.result import (
    SCHEMA_VERSION,
    BaseInfo,
    ConfigChange,
    DirChange,
    FileChange,
    FileState,
    ImageDiff,
    PackageChange,
    SideInfo,
    StepChange,
)
from deadweight.errors import PlatformMismatch

__all__ = [
    "SCHEMA_VERSION",
    "BaseInfo",
    "Budget",
    "Check",
    "ConfigChange",
    "DirChange",
    "FileChange",
    "FileState",
    "ImageDiff",
    "PackageChange",
    "PlatformMismatch",
    "Side",
    "SideInfo",
    "StepChange",
    "check",
    "compare",
    "diff_sides",
    "read_sides",
    "shared_prefix",
]
