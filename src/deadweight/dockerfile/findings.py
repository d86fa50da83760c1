"""What a lint produces: findings (values, not errors), their severity and their fixes."""

from __future__ import annotations

import enum

from deadweight.dockerfile.record import record


class Severity(enum.IntEnum):
    """hadolint's levels, ordered so that a higher value is more severe."""

    STYLE = 1
    INFO = 2
    WARNING = 3
    ERROR = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            from deadweight.errors import UsageError

            raise UsageError(
                f"unknown severity {text!r} (expected error, warning, info or style)"
            ) from None


@record
class Edit:
    """Replace ``source[start:end]`` with ``text``."""

    start: int
    end: int
    text: str


@record
class Fix:
    """A safe mechanical change, described for people and as edits for ``--fix``."""

    description: str
    edits: tuple[Edit, ...]


@record
class Finding:
    """One rule hit: hadolint's fields (code, line, column, level, message) and more."""

    code: str
    severity: Severity
    message: str
    line: int
    end_line: int
    column: int = 1
    suggestion: str = ""
    fix: Fix | None = None


@record
class LintResult:
    """The findings for one Dockerfile, in line order, then by the rule's order."""

    path: str
    findings: tuple[Finding, ...]

    def failed(self, threshold: Severity | None) -> bool:
        """True if a finding is at or above ``threshold`` (None: never fails)."""
        return threshold is not None and any(f.severity >= threshold for f in self.findings)
