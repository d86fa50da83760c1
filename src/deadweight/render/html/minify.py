"""``minify --html``: before and after, the bytes each package's removal saved and each
directory lost, why the rest stays, and every verification run."""

from __future__ import annotations

from collections import Counter

from deadweight.render.html.markup import (
    chart,
    figure,
    figures,
    more_line,
    section,
    size,
    table,
    text,
)
from deadweight.render.html.outcome import checks_table, status_line, verdict_figure
from deadweight.render.html.page import page
from deadweight.runs.report import MinifyReport

ROWS = 200
BARS = 25  # packages and directories drawn as bars; the tables hold the rest


def _headline(r: MinifyReport) -> str:
    plan = r.shrunk.plan
    items = [figure("before", size(r.before_size), test_id="before")]
    if r.after_size is not None:
        share = f" ({r.ratio:.2f}x)" if r.ratio is not None else ""
        items.append(figure("after", size(r.after_size) + share, "good", "after"))
    items.append(figure(f"removed: {len(plan.removed)} paths",
                        size(plan.before_bytes - plan.after_bytes), test_id="removed"))  # fmt: skip
    items.append(verdict_figure(r.shrunk.verified, "not run (--static)"))
    return figures(items)


def _verification(r: MinifyReport) -> str:
    if not r.shrunk.attempts:
        return '<p class="note">Not verified: nothing was run (--static).</p>'
    out = []
    for i, attempt in enumerate(r.shrunk.attempts):
        title = "first run" if i == 0 else "after the repair"
        out.append(f'<p class="note">{text(title)}</p>')
        out.append(checks_table(f"verification-table-{i}", attempt.verification.checks, "minified"))
    return "".join(out)


def minify_html(r: MinifyReport) -> str:
    plan = r.shrunk.plan
    by_package = sorted(plan.removed_by_package, key=lambda x: (-x[2], x[0], x[1]))
    by_dir = sorted(plan.removed_by_top_dir, key=lambda x: (-x[1], x[0]))
    removed = sorted(plan.removed, key=lambda x: (-x.size, x.path))
    reasons: Counter[str] = Counter(reason.value for why in plan.kept.values() for reason in why)
    body = "".join(
        [
            _headline(r),
            status_line(
                dry_run=r.dry_run, written=r.written, forced=r.forced, destination=r.destination
            ),
            section(
                "What the removal saved",
                chart("sizes", 150)
                + (chart("savings", 70 + 26 * min(BARS, len(by_package))) if by_package else "")
                + table(
                    "packages-table",
                    [("manager", ""), ("package", "code"), ("removed", "num")],
                    [(m, p, size(b)) for m, p, b in by_package[:ROWS]],
                    more=more_line(len(by_package) - ROWS, "packages"),
                    empty="no package lost files",
                ),
                "savings-section",
            ),
            section(
                "By directory",
                chart("dirs", 70 + 26 * max(1, min(BARS, len(by_dir))))
                + table(
                    "dirs-table",
                    [("directory", "path"), ("removed", "num")],
                    [(d, size(b)) for d, b in by_dir[:ROWS]],
                ),
                "dirs-section",
            ),
            section("Verification", _verification(r), "verification-section"),
            section(
                "Why the rest stays",
                table(
                    "kept-table",
                    [("reason", ""), ("paths", "num")],
                    sorted(((k, str(n)) for k, n in reasons.items()), key=lambda x: x[0]),
                ),
                "kept",
            ),
            section(
                "Removed paths (largest first)",
                table(
                    "removed-table",
                    [("path", "path"), ("bytes", "num"), ("package", "code")],
                    [
                        (x.path, size(x.size), f"{x.manager} {x.package}" if x.package else "")
                        for x in removed[:ROWS]
                    ],
                    more=more_line(
                        len(removed) - ROWS, "paths", sum(x.size for x in removed[ROWS:])
                    ),
                ),
                "removed",
            ),
            section(
                "Time",
                table(
                    "phases-table",
                    [("phase", ""), ("seconds", "num")],
                    [(name, f"{s:.1f}") for name, s in r.shrunk.phases],
                ),
                "phases",
            ),
        ]
    )
    data = {
        "kind": "minify",
        "before": r.before_size,
        "after": r.after_size if r.after_size is not None else r.before_size,
        "savings": [{"label": f"{m} {p}", "bytes": b} for m, p, b in by_package[:BARS]],
        "dirs": [{"path": d, "delta": -b} for d, b in by_dir[:BARS]],
    }
    mode = "static, unverified" if plan.static_only else f"packages {plan.packages}"
    return page(title=r.image, subtitle=f"{mode}  ·  deadweight minify", body=body, data=data)
