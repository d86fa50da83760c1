"""Lint findings as text for people (tty) and for tools: json, sarif, checkstyle, gitlab."""

from __future__ import annotations

from collections.abc import Sequence

from deadweight.dockerfile.findings import Finding, LintResult, Severity

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from deadweight.imagelint.lint import ImageLintResult


def _dumps(value: object, indent: int | None = None) -> str:
    import json  # not at start-up: the tty format does not need it (issue 14)

    return json.dumps(value, indent=indent)


def _quoteattr(text: str) -> str:
    from xml.sax.saxutils import quoteattr  # only checkstyle needs it

    return quoteattr(text)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


FORMATS = ("tty", "json", "sarif", "checkstyle", "gitlab")

_COLORS = {
    Severity.ERROR: "\x1b[1;91m",
    Severity.WARNING: "\x1b[1;93m",
    Severity.INFO: "\x1b[92m",
    Severity.STYLE: "\x1b[96m",
}
_SARIF_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.STYLE: "note",
}
_GITLAB_SEVERITY = {
    Severity.ERROR: "critical",
    Severity.WARNING: "major",
    Severity.INFO: "minor",
    Severity.STYLE: "info",
}


def _level(severity: Severity, color: bool) -> str:
    """A finding's level as hadolint's tty output shows it, coloured on a terminal."""
    return f"{_COLORS[severity]}{severity.label}\x1b[0m" if color else severity.label


def _one_line(message: str) -> str:
    """A message on one terminal line: a parse error's text (hadolint's, kept whole in
    the machine formats) has a newline, and may quote a control character."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else " " if c == "\n" else ascii(c)[1:-1] for c in message)


def render_tty(results: Sequence[LintResult], *, color: bool = False) -> str:
    """hadolint's tty lines (``FILE:LINE CODE level: message``), plus the fix to try."""
    lines: list[str] = []
    for r in results:
        for f in r.findings:
            level = _level(f.severity, color)
            where = f"{r.path}:{f.line}"
            lines.append(f"{where} {f.code} {level}: {_one_line(f.message)}")
            hint = f.fix.description if f.fix else f.suggestion
            if hint:
                lines.append(f"    fix: {hint}")
    return "".join(line + "\n" for line in lines)


def render_json(results: Sequence[LintResult]) -> str:
    """hadolint's JSON array (same keys) with ``endLine`` and ``fix`` added."""
    items = []
    for r in results:
        for f in r.findings:
            items.append(
                {
                    "code": f.code,
                    "column": f.column,
                    "endLine": f.end_line,
                    "file": r.path,
                    "fix": (f.fix.description if f.fix else f.suggestion) or None,
                    "level": f.severity.label,
                    "line": f.line,
                    "message": f.message,
                }
            )
    return _dumps(items) + "\n"


def _sarif_location(path: str, f: Finding) -> dict[str, object]:
    """SARIF regions need lines >= 1; an image-wide finding (line 0) names only the artifact."""
    location: dict[str, object] = {"artifactLocation": {"uri": path}}
    if f.line >= 1:
        location["region"] = {
            "startLine": f.line,
            "endLine": max(f.end_line, f.line),
            "startColumn": max(f.column, 1),
        }
    return location


def render_sarif(results: Sequence[LintResult], rules: dict[str, str], version: str) -> str:
    """SARIF 2.1.0, one run, the rules that fired described by ``rules`` (code -> text)."""
    fired = sorted({f.code for r in results for f in r.findings})
    run_results = []
    for r in results:
        for f in r.findings:
            run_results.append(
                {
                    "ruleId": f.code,
                    "level": _SARIF_LEVEL[f.severity],
                    "message": {"text": f.message},
                    "locations": [{"physicalLocation": _sarif_location(r.path, f)}],
                }
            )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "deadweight",
                        "version": version,
                        "rules": [
                            {"id": code, "shortDescription": {"text": rules.get(code, code)}}
                            for code in fired
                        ],
                    }
                },
                "results": run_results,
            }
        ],
    }
    return _dumps(doc, indent=2) + "\n"


def render_checkstyle(results: Sequence[LintResult]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    for r in results:
        out.append(f"  <file name={_quoteattr(r.path)}>")
        for f in r.findings:
            out.append(
                f'    <error line="{f.line}" column="{f.column}" '
                f"severity={_quoteattr(f.severity.label)} message={_quoteattr(f.message)} "
                f"source={_quoteattr(f.code)}/>"
            )
        out.append("  </file>")
    out.append("</checkstyle>")
    return "\n".join(out) + "\n"


def render_gitlab(results: Sequence[LintResult]) -> str:
    """GitLab Code Quality (a subset of Code Climate's format)."""
    items = []
    for r in results:
        for f in r.findings:
            key = f"{r.path}:{f.line}:{f.code}:{f.message}".encode()
            items.append(
                {
                    "description": f.message,
                    "check_name": f.code,
                    "fingerprint": _sha256(key),
                    "severity": _GITLAB_SEVERITY[f.severity],
                    "location": {"path": r.path, "lines": {"begin": f.line, "end": f.end_line}},
                }
            )
    return _dumps(items, indent=2) + "\n"


def render(
    fmt: str,
    results: Sequence[LintResult],
    *,
    rules: dict[str, str],
    version: str,
    color: bool = False,
) -> str:
    if fmt == "tty":
        return render_tty(results, color=color)
    if fmt == "json":
        return render_json(results)
    if fmt == "sarif":
        return render_sarif(results, rules, version)
    if fmt == "checkstyle":
        return render_checkstyle(results)
    return render_gitlab(results)


def render_image_tty(results: Sequence[ImageLintResult], *, color: bool = False) -> str:
    """Image findings by history row (bottom first, from 1), with the row's instruction."""
    lines: list[str] = []
    for r in results:
        for f in r.findings:
            level = _level(f.severity, color)
            where = f"{r.image} row {f.line}" if f.line else r.image
            lines.append(f"{where} {f.code} {level}: {f.message}")
            said = r.instruction(f.line) if f.line else ""
            if said:
                lines.append(f"    at: {said if len(said) <= 100 else said[:99] + '…'}")
            hint = f.fix.description if f.fix else f.suggestion
            if hint:
                lines.append(f"    fix: {hint}")
    return "".join(line + "\n" for line in lines)
