"""``scan --html``: the fleet's figures, the images that waste most as bars, and the
tables of images, shared layers, duplicated files, packages, changes and failures."""

from __future__ import annotations

from deadweight.fleet.changes import Changes
from deadweight.fleet.tally import Fleet
from deadweight.render.html.markup import (
    chart,
    figure,
    figures,
    more_line,
    section,
    signed,
    size,
    table,
    text,
)
from deadweight.render.html.page import page

ROWS = 200
BARS = 30  # images in the chart


def _headline(f: Fleet) -> str:
    share = f" ({f.reclaimable / f.total_bytes * 100:.1f}%)" if f.total_bytes else ""
    return figures(
        [
            figure("images", str(len(f.images)), test_id="images"),
            figure("failed", str(len(f.failed)), "bad" if f.failed else "good", "failed"),
            figure("total (images apart)", size(f.total_bytes), test_id="total"),
            figure("unique (layers shared)", size(f.unique_bytes), test_id="unique"),
            figure("stored (compressed)", size(f.stored_bytes), test_id="stored"),
            figure("reclaimable", size(f.reclaimable) + share,
                   "bad" if f.reclaimable else "good", "reclaimable"),
            figure("unique layers read", f"{f.layers_read} of {f.unique_layers}", test_id="read"),
        ]
    )  # fmt: skip


def _images(f: Fleet) -> str:
    rows = sorted(f.images, key=lambda i: (-i.reclaimable, -i.size, i.name))
    return table(
        "images-table",
        [("image", "code"), ("size", "num"), ("reclaimable", "num"), ("causes", ""),
         ("bloat", ""), ("packages of note", "")],
        [
            (i.name, size(i.size), size(i.reclaimable),
             ", ".join(f"{c} {size(b)}" for c, b in i.causes[:3]),
             ", ".join(f"{c} {size(b)}" for c, b in i.bloat[:3]),
             ", ".join(f"{p.name} ({p.why})" for p in i.notable[:4]))
            for i in rows[:ROWS]
        ],
        more=more_line(len(rows) - ROWS, "images"),
        empty="no image",
    )  # fmt: skip


def _shared(f: Fleet) -> str:
    return table(
        "shared-table",
        [("images", "num"), ("size", "num"), ("layer", "code"), ("instruction", "code"),
         ("on", "")],
        [(str(len(s.images)), size(s.size), s.diff_id[7:19], s.instruction,
          ", ".join(s.images[:8]) + (f" … {len(s.images) - 8} more" if len(s.images) > 8 else ""))
         for s in f.shared_layers],
        empty="no layer is shared",
    )  # fmt: skip


def _duplicates(f: Fleet) -> str:
    return table(
        "duplicates-table",
        [("copies", "num"), ("size", "num"), ("extra", "num"), ("path", "path"), ("images", "")],
        [(str(d.copies), size(d.size), size(d.extra_bytes), "/" + d.paths[0],
          ", ".join(d.images[:6])) for d in f.duplicate_files],
        empty="no large file is stored twice",
    )  # fmt: skip


def _packages(f: Fleet) -> str:
    return table(
        "packages-table",
        [("images", "num"), ("ecosystem", ""), ("package", "code"), ("versions", "")],
        [(str(p.images), p.ecosystem, p.name, ", ".join(p.versions[:5])) for p in f.packages],
        empty="no package database found",
    )


def _changes(c: Changes | None) -> str:
    if c is None:
        return '<p class="note">No previous report (--previous FILE compares with one).</p>'
    rows = [(x.name, signed(x.grown), size(x.size_after),
             signed(x.reclaimable_after - x.reclaimable_before), "yes" if x.rebuilt else "")
            for x in c.changed]  # fmt: skip
    rows += [(n, "new", "", "", "") for n in c.added]
    rows += [(n, "gone", "", "", "") for n in c.removed]
    before, after = c.total_bytes
    return f'<p class="note">Total {text(signed(after - before))} since the previous scan.</p>' + (
        table(
            "changes-table",
            [("image", "code"), ("grew", "num"), ("size now", "num"), ("reclaimable", "num"),
             ("rebuilt", "")],
            rows[:ROWS],
            more=more_line(len(rows) - ROWS, "images"),
            empty="nothing changed",
        )
    )  # fmt: skip


def _failed(f: Fleet) -> str:
    rows = [(x.name, x.reason) for x in f.failed]
    return table("failed-table", [("image", "code"), ("reason", "")], rows, empty="none")


def fleet_html(f: Fleet, changes: Changes | None = None, title: str = "fleet") -> str:
    worst = sorted(f.images, key=lambda i: (-i.reclaimable, -i.size, i.name))[:BARS]
    body = "".join(
        [
            _headline(f),
            section(
                "Images that waste most",
                chart("images", 70 + 26 * max(1, len(worst))) + _images(f),
                "images-section",
            ),
            section("Most shared layers", _shared(f), "shared"),
            section("Large files stored in several layers", _duplicates(f), "duplicates"),
            section("Packages by how many images carry them", _packages(f), "packages"),
            section("Since the previous scan", _changes(changes), "changes"),
            section("Failed", _failed(f), "failed-section"),
        ]
    )
    data = {
        "kind": "fleet",
        "images": [
            {"label": i.name, "kept": i.size - i.reclaimable, "wasted": i.reclaimable}
            for i in worst
        ],
    }
    sub = f"{len(f.images)} images, {f.unique_layers} unique layers  ·  deadweight scan"
    return page(title=title, subtitle=sub, body=body, data=data)
