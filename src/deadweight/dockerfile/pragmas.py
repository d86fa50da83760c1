"""Ignore pragmas in comments, hadolint's forms and ours.

``# hadolint ignore=DL3008,DL3009`` (or ``# deadweight ignore=...``) silences those rules
on the next instruction; ``# hadolint global ignore=...`` on the whole file;
``# hadolint stage ignore=...`` on the stage of the next instruction (placed above a
FROM, that FROM's stage). Anything after a second ``#`` is a remark.
"""

from __future__ import annotations

import bisect
import re

from deadweight.dockerfile.record import record
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.stages import Build

_IGNORE = lazy(
    r"^#\s*(?:hadolint|deadweight)\s+(?:(global|stage)\s+)?ignore\s*=\s*"
    r"([A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)",
    re.I,
)
_SHELL = lazy(r"^#\s*hadolint\s+shell\s*=\s*(\S+)", re.I)


@record
class Pragmas:
    """Which codes are silenced where. Lines are instruction start lines."""

    everywhere: frozenset[str]
    by_line: tuple[tuple[int, frozenset[str]], ...]
    by_stage: tuple[tuple[int, frozenset[str]], ...]
    shell: str | None

    def ignores(self, code: str, line: int, build: Build) -> bool:
        """Whether a pragma silences ``code`` on the instruction starting on ``line``; the
        stage is only looked up when some pragma names one (logarithmic time either way)."""
        if code in self.everywhere:
            return True
        return _silenced(self.by_line, line, code) or (
            bool(self.by_stage) and _silenced(self.by_stage, build.stage_at(line), code)
        )


def _silenced(scoped: tuple[tuple[int, frozenset[str]], ...], where: int | None, code: str) -> bool:
    """Whether ``code`` is among the codes ``scoped`` (sorted, one entry per key) at ``where``."""
    if where is None:
        return False
    at = bisect.bisect_left(scoped, (where,))
    return at < len(scoped) and scoped[at][0] == where and code in scoped[at][1]


def read_pragmas(build: Build) -> Pragmas:
    everywhere: set[str] = set()
    by_line: dict[int, set[str]] = {}
    by_stage: dict[int, set[str]] = {}
    shell = None
    starts = sorted(i.start_line for i in build.dockerfile.instructions)
    for comment in build.dockerfile.comments:
        text = comment.text
        lowered = text.lower()  # "i" of re.I also matches "İ" and "ı": look for the rest
        if "adol" not in lowered and "eadwe" not in lowered:
            continue  # no pragma: the patterns are not compiled for it (issue 14)
        sm = _SHELL.match(text)
        if sm:
            shell = sm.group(1)
            continue
        m = _IGNORE.match(text)
        if not m:
            continue
        codes = {c.strip().upper() for c in m.group(2).split(",")}
        scope = (m.group(1) or "").lower()
        if scope == "global":
            everywhere |= codes
            continue
        after = bisect.bisect_right(starts, comment.line)
        if after == len(starts):
            continue
        target = starts[after]
        if scope == "stage":
            stage = build.stage_at(target)
            if stage is not None:
                by_stage.setdefault(stage, set()).update(codes)
        else:
            by_line.setdefault(target, set()).update(codes)
    return Pragmas(
        frozenset(everywhere),
        tuple((k, frozenset(v)) for k, v in sorted(by_line.items())),
        tuple((k, frozenset(v)) for k, v in sorted(by_stage.items())),
        shell,
    )
