"""The doc page of one rule, as ``deadweight lint --explain RULE`` prints it."""

from __future__ import annotations

from deadweight.dockerfile.rules import BY_CODE
from deadweight.errors import UsageError

_DL1000 = (
    "DL1000 (error): the Dockerfile does not parse\n\n"
    "Why:\n  BuildKit would refuse the file; the finding gives the line and column.\n"
    "  deadweight goes on and lints the instructions it could read.\n\n"
    "Bad:\n  RUNN npm ci\n\nGood:\n  RUN npm ci\n"
)
_DW000 = (
    "DW000 (error): The Dockerfile has no instructions: docker refuses to build it\n\n"
    "Why:\n  An empty file (or one of comments only) fails `docker build` before any step\n"
    '  runs ("the Dockerfile cannot be empty"); hadolint passes it silently.\n\n'
    "Bad:\n  (an empty file)\n\nGood:\n  FROM alpine:3.20\n"
)


def explain(code: str) -> str:
    if code.strip().upper() == "DL1000":
        return _DL1000
    if code.strip().upper() == "DW000":
        return _DW000
    rule = BY_CODE.get(code.strip().upper())
    if rule is None:
        raise UsageError(
            f"unknown rule {code!r}; rules are DL1000, DL3000-DL4006, DW000-DW016 and "
            "DW101-DW108 (images); ShellCheck's SC codes are explained on its wiki"
        )
    parts = [f"{rule.code} ({rule.severity.label}): {rule.message}"]
    if not rule.enabled:
        parts.append("Off unless the configuration gives it a severity.")
    if rule.doc.why:
        parts.append(f"Why:\n  {rule.doc.why}")
    if rule.doc.bad:
        parts.append("Bad:\n" + "\n".join("  " + line for line in rule.doc.bad.splitlines()))
    if rule.doc.good:
        parts.append("Good:\n" + "\n".join("  " + line for line in rule.doc.good.splitlines()))
    return "\n\n".join(parts) + "\n"
