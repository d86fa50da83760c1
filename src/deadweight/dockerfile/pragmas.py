"""Ignore pragmas in comments, hadolint's forms and ours.

``# hadolint ignore=DL3008,DL3009`` (or ``# deadweight ignore=...``) silences those rules
on the instruction of the very next line; ``# hadolint global ignore=...`` on the whole
file; ``# hadolint stage ignore=...`` from the next line to the next FROM (placed above a
FROM, on that FROM's stage). Only ``# remark`` may follow the codes.

The grammar is hadolint 2.15.1's, letter for letter: ``hadolint`` in lower case, codes
written with ``D``, ``L``, ``S``, ``C`` and digits, nothing between the pragma and its
instruction (a blank line or another comment leaves the pragma unused).
"""

from __future__ import annotations

import bisect

from deadweight.dockerfile.record import record
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.stages import Build

_IGNORE = lazy(
    r"^#[ \t]*(?:hadolint|deadweight)[ \t]+(?:(global|stage)[ \t]+)?ignore[ \t]*=[ \t]*"
    r"([DLSC0-9]+(?:[ \t]*,[ \t]*[DLSC0-9]+)*)[ \t]*(?:#.*)?$"
)
_SHELL = lazy(r"^#[ \t]*hadolint[ \t]+shell[ \t]*=[ \t]*([^ \t\n]+)[ \t]*(?:#.*)?$")


@record
class Pragmas:
    """Which codes are silenced where. Lines are instruction start lines; ``by_stage``
    holds hadolint's stage regions: a region starts on the line after a stage pragma or
    on a FROM line, and silences its codes on the lines after its start."""

    everywhere: frozenset[str]
    by_line: tuple[tuple[int, frozenset[str]], ...]
    by_stage: tuple[tuple[int, frozenset[str]], ...]
    shell: str | None

    def ignores(self, code: str, line: int, build: Build) -> bool:
        """Whether a pragma silences ``code`` on the instruction starting on ``line``, in
        logarithmic time."""
        if code in self.everywhere or _silenced(self.by_line, line, code):
            return True
        if not self.by_stage:
            return False
        at = bisect.bisect_left(self.by_stage, (line,)) - 1  # the last region before it
        return at >= 0 and code in self.by_stage[at][1]


def _silenced(scoped: tuple[tuple[int, frozenset[str]], ...], where: int | None, code: str) -> bool:
    """Whether ``code`` is among the codes ``scoped`` (sorted, one entry per key) at ``where``."""
    if where is None:
        return False
    at = bisect.bisect_left(scoped, (where,))
    return at < len(scoped) and scoped[at][0] == where and code in scoped[at][1]


def read_pragmas(build: Build) -> Pragmas:
    everywhere: set[str] = set()
    by_line: dict[int, set[str]] = {}
    regions: dict[int, set[str]] = {}
    shell = None
    for comment in build.dockerfile.comments:
        text = comment.text
        if "hadolint" not in text and "deadweight" not in text:
            continue  # no pragma: the patterns are not compiled for it (issue 14)
        sm = _SHELL.match(text)
        if sm:
            shell = sm.group(1)
            continue
        m = _IGNORE.match(text)
        if not m:
            continue
        codes = {c.strip() for c in m.group(2).split(",")}
        scope = m.group(1) or ""
        if scope == "global":
            everywhere |= codes
        elif scope == "stage":
            regions[comment.line + 1] = codes
        else:
            by_line[comment.line + 1] = codes
    if regions:
        for stage in build.stages:
            regions.setdefault(stage.from_.start_line, set())
    return Pragmas(
        frozenset(everywhere),
        tuple((k, frozenset(v)) for k, v in sorted(by_line.items())),
        tuple((k, frozenset(v)) for k, v in sorted(regions.items())),
        shell,
    )
