"""``deadweight optimize`` output: the plan, before/after sizes, verification, as text or
JSON. Only reads results."""

from __future__ import annotations

import json
from typing import Any

from deadweight.optimize.report import Report
from deadweight.optimize.verify import Run
from deadweight.render.units import human_size

EXPLAIN_LIMIT = 5  # paths listed per step without --explain
GROUP_LIMIT = 5  # folders listed per step without --explain (those holding bytes)


def render_text(report: Report, *, explain: bool = False) -> str:
    p = report.plan
    out: list[str] = []
    head = "Plan" if report.dry_run else "Optimized"
    out.append(f"{head}: {report.image} (level {p.level}, squash {p.squash})")
    if not p.steps:
        out.append("  nothing to do: no layers above the base image")
    names = [s.name for s in p.steps] + [s.name for s in p.skipped]
    width = max([12, *map(len, names)])
    for step in p.steps:
        # a step that adds bytes (the non-root user's entries) is not a negative saving
        amount = human_size(step.bytes) if step.bytes >= 0 else f"adds {human_size(-step.bytes)}"
        out.append(f"  {step.name:<{width}} {amount:>9}  {step.title}")
        for line in step.note.splitlines():
            out.append(f"               {line}")
        if step.in_base:
            out.append(
                f"               {human_size(step.in_base)} more in the base image layers stay "
                "(--squash all removes them)"
            )
        groups = step.removed if explain else [r for r in step.removed if r.bytes][:GROUP_LIMIT]
        for r in groups:
            out.append(f"               {r.path}: {human_size(r.bytes)} in {r.files} file(s)")
        if len(groups) < len(step.removed):
            rest_bytes = sum(r.bytes for r in step.removed) - sum(r.bytes for r in groups)
            out.append(
                f"               ... {len(step.removed) - len(groups)} more folder(s), "
                f"{human_size(rest_bytes)} (--explain)"
            )
        shown = step.paths if explain else step.paths[:EXPLAIN_LIMIT]
        for path in shown:
            out.append(f"                 /{path}")
        if len(shown) < len(step.paths):
            out.append(f"                 ... {len(step.paths) - len(shown)} more (--explain)")
    for skipped in p.skipped:
        size = f"{human_size(skipped.bytes)} " if skipped.bytes else ""
        out.append(f"  {skipped.name:<{width}} {'-':>9}  not done: {size}{skipped.reason}")
    if p.config:
        out.append("")
        out.append("Config changes:")
        for key, value in p.config:
            out.append(f"  {key}: {json.dumps(list(value) if isinstance(value, tuple) else value)}")
    out.append("")
    out.append("Layers (before -> after):")
    out.extend(_layer_lines(report))
    saved = report.size_before - report.size_after
    ratio = report.size_after / report.size_before if report.size_before else 1.0
    change = f"saved {human_size(saved)}" if saved >= 0 else f"grew {human_size(-saved)}"
    out.append(
        f"Total: {human_size(report.size_before)} -> {human_size(report.size_after)} "
        f"({change}, {ratio:.2f}x)"
    )
    if report.verification is not None:
        out.append("")
        out.append("Verification:")
        for c in report.verification.checks:
            verdict = "ok  " if c.passed else "FAIL"
            out.append(
                f"  {verdict} {c.name} {c.subject}: original {c.original.describe()}, "
                f"optimized {c.optimized.describe()}" + (f" ({c.reason})" if c.reason else "")
            )
    if report.destination:
        out.append("")
        if report.written:
            out.append(f"Wrote {report.destination} (image {report.image_id})")
        else:
            out.append(f"Not written: {report.destination} (verification failed; --force writes)")
    if report.forced:
        out.append("WARNING: VERIFICATION FAILED; the image was written because of --force")
    return "\n".join(out) + "\n"


# (label, before, after, note): after is None for a squashed layer (its range row has it)
LayerRow = tuple[str, int, int | None, str]


def layer_rows(report: Report) -> list[LayerRow]:
    """Kept layers side by side; the squashed ones each with its size before, then one row
    for the range: its total before, the one new layer after (never one old layer's size
    beside the new layer's, which read as a layer that grew). -1: no such layer."""
    before, after = report.before, report.after
    keep = report.plan.keep_bottom
    squashed = report.plan.changes and len(after) == keep + 1 and len(before) > keep
    if not squashed:
        return [
            (
                str(i),
                before[i] if i < len(before) else -1,
                after[i] if i < len(after) else -1,
                "",
            )
            for i in range(max(len(before), len(after)))
        ]
    rows: list[LayerRow] = [(str(i), before[i], after[i], "") for i in range(keep)]
    last = len(before) - 1
    if last == keep:
        return [*rows, (str(keep), before[keep], after[keep], "rewritten")]
    rows += [(str(i), before[i], None, "") for i in range(keep, last + 1)]
    note = f"{last - keep + 1} layers squashed into one"
    rows.append((f"{keep}-{last}", sum(before[keep:]), after[keep], note))
    return rows


def _size(n: int) -> str:
    return human_size(n) if n >= 0 else "-"


def _layer_lines(report: Report) -> list[str]:
    out = []
    for label, b, a, note in layer_rows(report):
        line = f"  {label:>3}  {_size(b):>9}"
        if a is not None:
            line += f" -> {_size(a)}"
        out.append(line + (f"  ({note})" if note else ""))
    return out


def _run(run: Run) -> dict[str, Any]:
    return {
        "running": run.running,
        "exitCode": run.exit_code,
        "status": run.status,
        "output": run.output,
        "error": run.error,
    }


def to_dict(report: Report) -> dict[str, Any]:
    p = report.plan
    doc: dict[str, Any] = {
        "schemaVersion": report.schema_version,
        "image": report.image,
        "level": p.level,
        "squash": p.squash,
        "keepBottom": p.keep_bottom,
        "baseDetected": p.base_detected,
        "epoch": p.epoch,
        "skip": list(p.skip),
        "dryRun": report.dry_run,
        "steps": [
            {
                "name": s.name,
                "title": s.title,
                "bytes": s.bytes,
                "note": s.note,
                "inBase": s.in_base,
                "removed": [
                    {"path": r.path, "bytes": r.bytes, "files": r.files} for r in s.removed
                ],
                "paths": list(s.paths),
            }
            for s in p.steps
        ],
        "skipped": [{"name": s.name, "reason": s.reason, "bytes": s.bytes} for s in p.skipped],
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in p.config},
        "bytesSaved": report.size_before - report.size_after,
        "before": {"layers": list(report.before), "total": report.size_before},
        "after": {"layers": list(report.after), "total": report.size_after},
        "imageId": report.image_id,
        "destination": report.destination,
        "written": report.written,
        "forced": report.forced,
        "verification": None,
    }
    if report.verification is not None:
        doc["verification"] = {
            "passed": report.verification.passed,
            "checks": [
                {
                    "name": c.name,
                    "subject": c.subject,
                    "passed": c.passed,
                    "reason": c.reason,
                    "original": _run(c.original),
                    "optimized": _run(c.optimized),
                }
                for c in report.verification.checks
            ],
        }
    return doc


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
