from __future__ import annotations

import json

from deadweight.dockerfile.findings import Edit, Finding, Fix, LintResult, Severity
from deadweight.render.lint import render

RESULTS = [
    LintResult(
        "Dockerfile",
        (
            Finding(
                "DL3025",
                Severity.WARNING,
                "Use JSON",
                3,
                4,
                1,
                "",
                Fix("use the JSON (exec) form", (Edit(0, 1, "x"),)),
            ),
            Finding("DW015", Severity.INFO, 'No "HEALTHCHECK" <here>', 1, 1, 1, "add one"),
        ),
    ),
    LintResult("b.Dockerfile", (Finding("DL1000", Severity.ERROR, "missing whitespace", 4, 4, 4),)),
]
RULES = {"DL3025": "Use JSON", "DW015": "No HEALTHCHECK", "DL1000": "parse"}


def out(fmt: str, color: bool = False) -> str:
    return render(fmt, RESULTS, rules=RULES, version="9.9", color=color)


def test_tty() -> None:
    assert out("tty") == (
        "Dockerfile:3 DL3025 warning: Use JSON\n"
        "    fix: use the JSON (exec) form\n"
        'Dockerfile:1 DW015 info: No "HEALTHCHECK" <here>\n'
        "    fix: add one\n"
        "b.Dockerfile:4 DL1000 error: missing whitespace\n"
    )
    assert "\x1b[1;93mwarning\x1b[0m" in out("tty", color=True)


def test_json_is_hadolint_shaped() -> None:
    data = json.loads(out("json"))
    assert data[2] == {
        "code": "DL1000",
        "column": 4,
        "endLine": 4,
        "file": "b.Dockerfile",
        "fix": None,
        "level": "error",
        "line": 4,
        "message": "missing whitespace",
    }
    assert [d["fix"] for d in data] == ["use the JSON (exec) form", "add one", None]


def test_sarif() -> None:
    doc = json.loads(out("sarif"))
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert run["tool"]["driver"]["rules"] == [
        {"id": c, "shortDescription": {"text": RULES[c]}} for c in ("DL1000", "DL3025", "DW015")
    ]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("DL3025", "warning"),
        ("DW015", "note"),
        ("DL1000", "error"),
    ]
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3,
        "endLine": 4,
        "startColumn": 1,
    }


def test_checkstyle_escapes() -> None:
    assert out("checkstyle").splitlines()[4] == (
        '    <error line="1" column="1" severity="info" '
        'message=\'No "HEALTHCHECK" &lt;here&gt;\' source="DW015"/>'
    )


def test_gitlab() -> None:
    data = json.loads(out("gitlab"))
    assert [(d["check_name"], d["severity"], d["location"]) for d in data] == [
        ("DL3025", "major", {"path": "Dockerfile", "lines": {"begin": 3, "end": 4}}),
        ("DW015", "minor", {"path": "Dockerfile", "lines": {"begin": 1, "end": 1}}),
        ("DL1000", "critical", {"path": "b.Dockerfile", "lines": {"begin": 4, "end": 4}}),
    ]
    assert len({d["fingerprint"] for d in data}) == 3


def test_sarif_image_wide_finding_has_no_region() -> None:
    """SARIF requires startLine >= 1: a finding on line 0 (the whole image) names only the file."""
    import json as _json

    from deadweight.dockerfile.findings import Finding, LintResult, Severity
    from deadweight.render.lint import render_sarif

    finding = Finding(
        code="DW101", severity=Severity.WARNING, line=0, end_line=0, column=0, message="root"
    )
    doc = _json.loads(
        render_sarif([LintResult(path="img", findings=(finding,))], {"DW101": "root"}, "0.1.0")
    )
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "img"}}
