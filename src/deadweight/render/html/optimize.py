"""``optimize --html``: before and after, the bytes each step saved, what each removed,
the layers, the config changes and the verification runs."""

from __future__ import annotations

from deadweight.optimize.report import Report
from deadweight.render.html.markup import (
    chart,
    figure,
    figures,
    more_line,
    section,
    size,
    table,
)
from deadweight.render.html.outcome import checks_table, status_line, verdict_figure
from deadweight.render.html.page import page
from deadweight.render.optimize import layer_rows

ROWS = 200


def _headline(r: Report) -> str:
    saved = r.size_before - r.size_after
    share = f" ({saved / r.size_before * 100:.1f}%)" if r.size_before else ""
    items = [
        figure("before", size(r.size_before), test_id="before"),
        figure("after", size(r.size_after), test_id="after"),
        figure("saved", size(saved) + share, "good" if saved > 0 else "", "saved"),
    ]
    if r.verification is not None:
        items.append(verdict_figure(r.verification.passed, ""))
    return figures(items)


def optimize_html(r: Report) -> str:
    p = r.plan
    removed = [(s.name, x) for s in p.steps for x in s.removed]
    removed.sort(key=lambda sx: (-sx[1].bytes, sx[1].path))
    steps_rows = [(s.name, s.title, size(s.bytes), s.note) for s in p.steps]
    steps_rows += [(s.name, "not done", "-", s.reason) for s in p.skipped]
    body = "".join(
        [
            _headline(r),
            status_line(
                dry_run=r.dry_run,
                written=r.written,
                forced=r.forced,
                destination=r.destination,
                image_id=r.image_id,
                refused="verification failed; --force writes",
            ),
            section(
                "Bytes each step saved",
                chart("sizes", 150)
                + chart("savings", 70 + 30 * max(1, len(p.steps)))
                + table(
                    "steps-table",
                    [("step", "code"), ("what", ""), ("saved", "num"), ("note", "")],
                    steps_rows,
                    empty="nothing to do: no layers above the base image",
                ),
                "steps",
            ),
            section(
                "What was removed",
                table(
                    "removed-table",
                    [("step", "code"), ("path", "path"), ("bytes", "num"), ("files", "num")],
                    [(n, "/" + x.path, size(x.bytes), str(x.files)) for n, x in removed[:ROWS]],
                    more=more_line(len(removed) - ROWS, "paths"),
                    empty="nothing removed",
                ),
                "removed",
            ),
            section("Verification", _verification(r), "verification-section"),
            section(
                "Layers",
                table(
                    "layers-table",
                    [("#", "num"), ("before", "num"), ("after", "num")],
                    [
                        (
                            label,
                            size(b) if b >= 0 else "-",
                            ("" if a is None else size(a) if a >= 0 else "-")
                            + (f" ({note})" if note else ""),
                        )
                        for label, b, a, note in layer_rows(r)
                    ],
                ),
                "layers",
            ),
            section(
                "Config changes",
                table(
                    "config-table",
                    [("key", "code"), ("value", "code")],
                    [
                        (k, "(removed)" if v is None else v if isinstance(v, str) else " ".join(v))
                        for k, v in p.config
                    ],
                    empty="none",
                ),
                "config",
            ),
        ]
    )
    data = {
        "kind": "optimize",
        "before": r.size_before,
        "after": r.size_after,
        "savings": [{"label": s.name, "bytes": s.bytes} for s in p.steps],
    }
    sub = f"level {p.level}, squash {p.squash}  ·  deadweight optimize"
    return page(title=r.image, subtitle=sub, body=body, data=data)


def _verification(r: Report) -> str:
    if r.verification is None:
        return '<p class="note">Not verified (--verify runs both images on the engine).</p>'
    return checks_table("verification-table", r.verification.checks, "optimized")
