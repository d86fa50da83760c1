"""``analyze`` output: the JSON document (versioned schema), CI lines and JUnit XML (the
terminal report is ``render.analyze_text``). Reads an :class:`Analysis` and a
:class:`Verdict`; computes nothing."""

from __future__ import annotations

import json
import math
from typing import Any

from deadweight.analysis.report import SCHEMA_VERSION, Analysis
from deadweight.analysis.rules import Verdict
from deadweight.render.analyze_text import (
    SHOWN_LAYERS,
    minor_threshold,
    render_text,
    verdict_lines,
)

# the terminal report and CI lines live in render.analyze_text; importable from here too
__all__ = [
    "SHOWN_LAYERS",
    "document",
    "junit_xml",
    "minor_threshold",
    "render_text",
    "to_json",
    "verdict_lines",
]


def _num(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else round(x, 6)


def _slash(path: str) -> str:
    return "/" + path


def document(a: Analysis, verdict: Verdict | None = None) -> dict[str, Any]:
    """The JSON document; keys are stable, lists are in the Analysis's order."""
    doc: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "image": a.image,
        "imageId": a.image_id,
        "size": a.size,
        "finalSize": a.final_size,
        "baseLayers": a.base_layers,
        "scopeSize": a.scope_size,
        "efficiency": _num(a.efficiency),
        "wastedPercent": _num(a.wasted_percent),
        "ignore": list(a.ignore),
        "layers": [
            {
                "index": lr.index,
                "diffId": lr.diff_id,
                "instruction": lr.instruction,
                "size": lr.size,
                "added": lr.added,
                "changed": lr.changed,
                "deleted": lr.deleted,
                "wasted": lr.wasted,
                "addedBytes": lr.added_bytes,
                "changedBytes": lr.changed_bytes,
                "deletedBytes": lr.deleted_bytes,
                "largest": [{"path": _slash(s.path), "bytes": s.bytes} for s in lr.largest],
            }
            for lr in a.layers
        ],
        "waste": {
            "reclaimable": a.waste.reclaimable,
            "baseBytes": a.waste.base_bytes,
            "byCause": {cause: b for cause, b in a.waste.by_cause},
            "items": [
                {
                    "path": _slash(i.path),
                    "bytes": i.bytes,
                    "cause": i.cause,
                    "writtenBy": {"layer": i.written_by, "instruction": i.written_instruction},
                    "hiddenBy": {"layer": i.hidden_by, "instruction": i.hidden_instruction},
                }
                for i in a.waste.items
            ],
        },
        "bloat": {
            "byCategory": {c: b for c, b in a.bloat.by_category},
            "items": [
                {
                    "category": b.category,
                    "path": _slash(b.path),
                    "bytes": b.bytes,
                    "files": b.files,
                    "layer": b.layer,
                }
                for b in a.bloat.items
            ],
            "duplicates": [
                {
                    "digest": g.digest,
                    "size": g.size,
                    "bytes": g.bytes,
                    "paths": [_slash(p) for p in g.paths],
                }
                for g in a.bloat.duplicates
            ],
        },
        "packages": [
            {
                "ecosystem": p.ecosystem,
                "name": p.name,
                "version": p.version,
                "bytes": p.bytes,
                "declared": p.declared,
                "dev": p.dev,
                "layer": p.layer,
                "path": _slash(p.path),
            }
            for p in a.packages
        ],
        "largestFiles": [{"path": _slash(s.path), "bytes": s.bytes} for s in a.largest_files],
        "largestDirectories": [{"path": _slash(s.path), "bytes": s.bytes} for s in a.largest_dirs],
        "diveCompatible": {
            "efficiency": _num(a.dive.efficiency),
            "wastedBytes": a.dive.wasted_bytes,
            "userSize": a.dive.user_size,
            "userWastedPercent": _num(a.dive.user_wasted_percent),
            "inefficiencies": [
                {"path": r.path, "count": r.count, "cumulativeSize": r.cumulative}
                for r in a.dive.inefficiencies
            ],
        },
        "unsafe": [
            {"layer": u.layer, "name": u.name, "reason": u.reason, "action": u.action}
            for u in a.unsafe
        ],
        "recommendations": [
            {
                "id": r.id,
                "title": r.title,
                "change": r.change,
                "bytes": r.bytes,
                "layers": list(r.layers),
                "paths": [_slash(p) for p in r.paths],
            }
            for r in a.recommendations
        ],
    }
    if verdict is not None:
        doc["ci"] = {
            "passed": verdict.passed,
            "rules": [
                {
                    "rule": r.key,
                    "status": r.status,
                    "limit": r.limit,
                    "actual": r.actual,
                    "message": r.message,
                }
                for r in verdict.results
            ],
        }
    return doc


def to_json(a: Analysis, verdict: Verdict | None = None) -> str:
    return json.dumps(document(a, verdict), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def junit_xml(a: Analysis, verdict: Verdict) -> str:
    # imported here: it brings urllib.request, http.client and ssl, a tenth of the start-up
    # of every analyze that writes no JUnit file
    from xml.sax.saxutils import escape, quoteattr

    failures = sum(1 for r in verdict.results if r.status == "FAIL")
    skipped = sum(1 for r in verdict.results if r.status == "SKIP")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<testsuites><testsuite name={quoteattr('deadweight analyze ' + a.image)} "
        f'tests="{len(verdict.results)}" failures="{failures}" skipped="{skipped}">',
    ]
    for r in verdict.results:
        out.append(f'<testcase classname="deadweight.ci" name={quoteattr(r.key)}>')
        if r.status == "FAIL":
            out.append(f"<failure message={quoteattr(r.message)}>{escape(r.message)}</failure>")
        elif r.status == "SKIP":
            out.append("<skipped/>")
        out.append("</testcase>")
    out.append("</testsuite></testsuites>")
    return "\n".join(out) + "\n"
