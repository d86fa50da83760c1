"""Apply the safe fixes of a lint result; show them as a diff; write them atomically."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from deadweight.dockerfile import edits
from deadweight.dockerfile.findings import LintResult


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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
