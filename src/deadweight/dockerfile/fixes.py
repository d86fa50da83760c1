"""Apply the safe fixes of a lint result; show them as a diff; write them atomically."""

from __future__ import annotations

import difflib
from pathlib import Path

from deadweight.dockerfile import edits
from deadweight.dockerfile.findings import LintResult
from deadweight.scratch import atomic_file


def fixed_source(source: str, result: LintResult) -> str:
    """The text with every finding's fix applied (overlapping edits: first one wins)."""
    fixes = [f.fix for f in result.findings if f.fix is not None]
    return edits.apply(source, fixes)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path.lstrip('/')}",
            tofile=f"b/{path.lstrip('/')}",
        )
    )


def write_atomically(path: Path, text: str) -> None:
    """Write beside the file and rename over it, keeping its permission bits."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    with atomic_file(path, mode=mode, parents=False) as out:
        out.write(text.encode("utf-8"))
