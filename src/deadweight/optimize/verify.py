"""Verification results: the original and the optimized image run the same way, compared.

The runs happen on an engine (the CLI drives it); this module only says what a run
observed and whether two runs agree, so the verdict is a value, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from deadweight.errors import CorruptImage
from deadweight.spec.document import decode_text

CheckName = Literal["starts", "command", "http"]
# How two HTTP answers are compared: "shape" (same status, and the same JSON keys and value
# types recursively, or the same content type for a body that is not JSON), "exact" (same
# status and bytes), "status" (same status only).
BodyRule = Literal["shape", "exact", "status"]
BODY_RULES: tuple[BodyRule, ...] = ("shape", "exact", "status")


@dataclass(frozen=True, slots=True)
class Run:
    """What one container did: still running after the grace period, or its exit code;
    ``output`` is the last of its logs (or an HTTP body), ``status`` an HTTP status."""

    running: bool
    exit_code: int | None = None
    status: int | None = None
    output: str = ""
    error: str = ""
    content_type: str = ""

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


def shape(value: object) -> object:
    """A JSON value's shape: objects keep their keys, lists the set of their items' shapes,
    scalars become their type (integers and fractions are both numbers)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", frozenset(shape(v) for v in value))
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def _json(text: str) -> tuple[bool, object]:
    """A body as JSON, bounded in depth (a container's answer is input like any other);
    one that is not, or nests too deep, is compared as text."""
    try:
        return True, decode_text(text, "answer")
    except CorruptImage:
        return False, None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _same_shape(a: object, b: object) -> bool:
    """Shapes agree; an empty list matches any list (a queue that happens to be empty)."""
    if isinstance(a, tuple) and isinstance(b, tuple) and a[:1] == b[:1] == ("list",):
        return not a[1] or not b[1] or a == b
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return all(
            ka == kb and _same_shape(va, vb) for (ka, va), (kb, vb) in zip(a, b, strict=True)
        )
    return a == b


def body_difference(original: Run, optimized: Run, rule: BodyRule) -> str:
    """Why two answers' bodies disagree under ``rule``, or "" when they agree."""
    if rule == "status":
        return ""
    if rule == "exact":
        return "" if original.output == optimized.output else "the bodies differ"
    is_json, a = _json(original.output)
    if not is_json:
        ta, tb = _media_type(original.content_type), _media_type(optimized.content_type)
        return "" if ta == tb else f"content type {ta or '(none)'} became {tb or '(none)'}"
    other_json, b = _json(optimized.output)
    if not other_json:
        return "the body is no longer JSON"
    if not _same_shape(shape(a), shape(b)):
        return "the JSON bodies differ in shape (keys or value types)"
    return ""


def compare_http(subject: str, original: Run, optimized: Run, body: BodyRule = "shape") -> Check:
    """``--verify-http``: the same status, and bodies that agree under ``body``."""
    if original.error or optimized.error or original.status is None:
        why = f"original {original.describe()}, optimized {optimized.describe()}"
        return Check("http", subject, original, optimized, False, why)
    if original.status != optimized.status:
        why = f"status {original.status} became {optimized.status}"
        return Check("http", subject, original, optimized, False, why)
    why = body_difference(original, optimized, body)
    return Check("http", subject, original, optimized, not why, why)
