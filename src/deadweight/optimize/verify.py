"""Verification results: the original and the optimized image run the same way, compared.

The runs happen on an engine (the CLI drives it); this module only says what a run
observed and whether two runs agree, so the verdict is a value, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CheckName = Literal["starts", "command", "http"]


@dataclass(frozen=True, slots=True)
class Run:
    """What one container did: still running after the grace period, or its exit code;
    ``output`` is the last of its logs (or an HTTP body), ``status`` an HTTP status."""

    running: bool
    exit_code: int | None = None
    status: int | None = None
    output: str = ""
    error: str = ""

    def describe(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.status is not None:
            return f"HTTP {self.status}"
        if self.running:
            return "running"
        return f"exited {self.exit_code}"


@dataclass(frozen=True, slots=True)
class Check:
    """One comparison: its name, what it ran, both runs and the verdict."""

    name: CheckName
    subject: str
    original: Run
    optimized: Run
    passed: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Verification:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def compare_start(subject: str, original: Run, optimized: Run) -> Check:
    """A service stays up in both; a one-shot command exits with the same code in both."""
    if original.error or optimized.error:
        return Check("starts", subject, original, optimized, False, "a container did not run")
    if original.running:
        ok = optimized.running
        why = "" if ok else f"the optimized image exited {optimized.exit_code}"
        return Check("starts", subject, original, optimized, ok, why)
    ok = not optimized.running and optimized.exit_code == original.exit_code
    why = (
        ""
        if ok
        else (
            f"the original exited {original.exit_code}, the optimized image: {optimized.describe()}"
        )
    )
    return Check("starts", subject, original, optimized, ok, why)


def compare_command(subject: str, original: Run, optimized: Run) -> Check:
    """``--verify-cmd``: exits 0 in both."""
    ok = original.exit_code == 0 and optimized.exit_code == 0 and not optimized.error
    why = (
        ""
        if ok
        else (f"exit codes: original {original.describe()}, optimized {optimized.describe()}")
    )
    return Check("command", subject, original, optimized, ok, why)


def compare_http(subject: str, original: Run, optimized: Run) -> Check:
    """``--verify-http``: the same status and body."""
    if original.error or optimized.error or original.status is None:
        why = f"original {original.describe()}, optimized {optimized.describe()}"
        return Check("http", subject, original, optimized, False, why)
    if original.status != optimized.status:
        why = f"status {original.status} became {optimized.status}"
        return Check("http", subject, original, optimized, False, why)
    if original.output != optimized.output:
        return Check("http", subject, original, optimized, False, "the bodies differ")
    return Check("http", subject, original, optimized, True)
