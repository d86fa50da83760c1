"""``deadweight minify`` output: sizes, what was removed and why the rest stays, each
probe in both images, time per phase; as text or as a versioned JSON document."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from deadweight.optimize.verify import Check, Run
from deadweight.render.units import human_size
from deadweight.runs.report import SCHEMA, MinifyReport

TOP = 10  # rows of the "by package" and "by directory" tables in text


def _kept_by_reason(report: MinifyReport) -> Counter[str]:
    counts: Counter[str] = Counter()
    for reasons in report.shrunk.plan.kept.values():
        for reason in reasons:
            counts[reason.value] += 1
    return counts


def _check_line(check: Check) -> str:
    verdict = "ok  " if check.passed else "FAIL"
    line = f"  {verdict} {check.name} {check.subject}: original {check.original.describe()}, "
    line += f"minified {check.optimized.describe()}"
    return line + (f" ({check.reason})" if check.reason else "")


def render_text(report: MinifyReport, *, explain: bool = False) -> str:
    shrunk, plan = report.shrunk, report.shrunk.plan
    out: list[str] = []
    head = "Plan" if report.dry_run else "Minified"
    mode = "static, unverified" if plan.static_only else f"packages {plan.packages}"
    out.append(f"{head}: {report.image} ({mode})")
    size = f"  image: {human_size(report.before_size)}"
    if report.after_size is not None and report.ratio is not None:
        size += f" -> {human_size(report.after_size)} ({report.ratio:.2f}x)"
    out.append(size)
    removed = plan.before_bytes - plan.after_bytes
    out.append(
        f"  files: {human_size(plan.before_bytes)} -> {human_size(plan.after_bytes)}"
        f" ({len(plan.removed)} path(s) removed, {human_size(removed)})"
    )
    if plan.removed_by_package:
        out.append("")
        out.append("Removed by package:")
        for manager, package, size_ in plan.removed_by_package[:TOP]:
            out.append(f"  {human_size(size_):>9}  {manager} {package}")
        if len(plan.removed_by_package) > TOP:
            out.append(f"  ... {len(plan.removed_by_package) - TOP} more (--format json)")
    if plan.removed_by_top_dir:
        out.append("")
        out.append("Removed by directory:")
        for top, size_ in plan.removed_by_top_dir[:TOP]:
            out.append(f"  {human_size(size_):>9}  {top}")
    out.append("")
    reasons = _kept_by_reason(report)
    out.append(
        f"Kept: {len(plan.kept)} path(s); "
        + ", ".join(f"{name} {n}" for name, n in sorted(reasons.items()))
    )
    for db in plan.databases:
        change = "rewritten" if db.changed else "unchanged"
        out.append(
            f"Package database {db.path}: lists {db.listed} of {db.total} package(s) ({change},"
            f" {human_size(db.size)} -> {human_size(len(db.data))})"
        )
    if plan.unmatched_keeps:
        out.append("--keep entries that name nothing: " + ", ".join(plan.unmatched_keeps))
    if plan.missing:
        out.append(f"Asked for but not in the image ({len(plan.missing)}):")
        out.extend(f"  {what}" for what in plan.missing[:TOP])
        if len(plan.missing) > TOP:
            out.append(f"  ... {len(plan.missing) - TOP} more (--format json)")
    if shrunk.repaired:
        out.append(f"Repair: kept {len(shrunk.repaired)} more path(s) after a failed check:")
        out.extend(f"  {path}" for path in shrunk.repaired[:TOP])
        if len(shrunk.repaired) > TOP and not explain:
            out.append(f"  ... {len(shrunk.repaired) - TOP} more (--explain)")
        elif explain:
            out.extend(f"  {path}" for path in shrunk.repaired[TOP:])
    for i, attempt in enumerate(shrunk.attempts):
        out.append("")
        title = "Verification" if i == 0 else "Verification after the repair"
        verdict = "passed" if attempt.verification.passed else "FAILED"
        out.append(f"{title}: {verdict}")
        out.extend(_check_line(c) for c in attempt.verification.checks)
        if not attempt.verification.passed and attempt.result_logs:
            out.append("  the minified image's last log lines:")
            out.extend(f"    {line}" for line in attempt.result_logs.splitlines())
    if plan.static_only:
        out.append("")
        out.append("Not verified (--static): nothing was run.")
    if shrunk.phases:
        out.append("")
        out.append("Time: " + ", ".join(f"{name} {s:.1f}s" for name, s in shrunk.phases))
    if explain:
        out.append("")
        out.append("Removed paths:")
        out.extend(f"  {human_size(r.size):>9}  {r.path}" for r in plan.removed)
        out.append("")
        out.append("Kept paths:")
        for path, why in sorted(plan.kept.items()):
            out.append(f"  {path}  ({', '.join(r.value for r in why)})")
    out.append("")
    if report.dry_run:
        out.append("Dry run: nothing written.")
    elif report.written:
        out.append(f"Written: {report.destination}" + (" (forced)" if report.forced else ""))
    else:
        out.append(f"Not written: {report.destination}")
    return "\n".join(out) + "\n"


def _run(run: Run) -> dict[str, Any]:
    doc: dict[str, Any] = {"running": run.running, "exitCode": run.exit_code}
    if run.status is not None:
        doc["status"] = run.status
        doc["contentType"] = run.content_type
    if run.error:
        doc["error"] = run.error
    return doc


def _check(check: Check) -> dict[str, Any]:
    return {
        "name": check.name,
        "subject": check.subject,
        "passed": check.passed,
        "reason": check.reason,
        "original": _run(check.original),
        "minified": _run(check.optimized),
    }


def to_json(report: MinifyReport) -> str:
    shrunk, plan = report.shrunk, report.shrunk.plan
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "image": report.image,
        "imageId": report.image_id,
        "destination": report.destination,
        "dryRun": report.dry_run,
        "written": report.written,
        "forced": report.forced,
        "static": plan.static_only,
        "packages": plan.packages,
        "size": {"before": report.before_size, "after": report.after_size},
        "files": {"before": plan.before_bytes, "after": plan.after_bytes},
        "removedByPackage": [
            {"manager": m, "package": p, "bytes": b} for m, p, b in plan.removed_by_package
        ],
        "removedByTopDir": [{"dir": d, "bytes": b} for d, b in plan.removed_by_top_dir],
        "removed": [
            {"path": r.path, "bytes": r.size, "package": r.package, "manager": r.manager}
            for r in plan.removed
        ],
        "kept": [
            {"path": path, "reasons": [r.value for r in why]}
            for path, why in sorted(plan.kept.items())
        ],
        "traces": [
            {"source": t.source, "opened": len(t.opened), "executed": len(t.executed)}
            for run in shrunk.traced
            for t in run.traces
        ],
        "databases": [
            {
                "path": db.path,
                "manager": db.manager,
                "listed": db.listed,
                "total": db.total,
                "bytes": {"before": db.size, "after": len(db.data)},
            }
            for db in plan.databases
        ],
        "repaired": list(shrunk.repaired),
        "missing": list(plan.missing),
        "unmatchedKeeps": list(plan.unmatched_keeps),
        "verifications": [
            {
                "passed": a.verification.passed,
                "checks": [_check(c) for c in a.verification.checks],
                "resultLogs": a.result_logs,
            }
            for a in shrunk.attempts
        ],
        "phases": {name: round(seconds, 3) for name, seconds in shrunk.phases},
    }
    return json.dumps(doc, indent=2) + "\n"
