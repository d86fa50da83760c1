"""``analyze --html``: headline figures, the byte map as a zoomable treemap, one bar per
layer, and the waste, bloat, package and recommendation tables."""

from __future__ import annotations

from typing import Any

from deadweight.analysis.bytemap import Region
from deadweight.analysis.report import Analysis, LayerReport
from deadweight.analysis.waste import CAUSE_TEXT
from deadweight.render.html.markup import (
    chart,
    figure,
    figures,
    legend,
    more_line,
    section,
    size,
    table,
)
from deadweight.render.html.page import page

ROWS = 200  # longest table; the rest is summed in one line
# layers drawn as bars: an image of more draws those that changed the most bytes (a
# browser's canvas stops at 32,767 pixels; the table lists every layer)
BAR_LAYERS = 150
LABEL = 60  # characters of an instruction in a bar's label


def short(text: str, width: int = LABEL) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def layer_label(index: int, instruction: str, width: int = LABEL) -> str:
    return f"#{index} {short(instruction, width) or '(no instruction)'}"


def region_doc(r: Region) -> dict[str, Any]:
    """A region as ECharts' treemap takes it (``id`` is the path: unique, and what the
    page shows when the treemap is zoomed into it)."""
    doc: dict[str, Any] = {"name": r.name, "value": r.bytes, "id": r.path, "kind": r.kind}
    if r.files != 1:
        doc["files"] = r.files
    if len(r.kinds) > 1:
        doc["kinds"] = [list(k) for k in r.kinds[:6]]
    if r.children:
        doc["children"] = [region_doc(c) for c in r.children]
    return doc


def _headline(a: Analysis) -> str:
    return figures(
        [
            figure("image size (sum of layers)", size(a.size), test_id="size"),
            figure("final file system", size(a.final_size), test_id="final"),
            figure(
                "reclaimable (hidden by later layers)",
                size(a.waste.reclaimable),
                "bad" if a.waste.reclaimable else "good",
                "reclaimable",
            ),
            figure("efficiency", f"{a.efficiency * 100:.1f}%", test_id="efficiency"),
            figure("bloat still in the image", size(a.bloat.total), test_id="bloat"),
            figure("layers", str(len(a.layers)), test_id="layers"),
        ]
    )


def _files(n: int, count: int) -> str:
    return f"{size(n)} ({count})" if count else "-"


def _layers_table(a: Analysis) -> str:
    return table(
        "layers-table",
        [("#", "num"), ("instruction", "code"), ("size", "num"), ("added (files)", "num"),
         ("modified (files)", "num"), ("deleted (files)", "num"), ("wasted", "num")],
        [
            (str(lr.index), lr.instruction, size(lr.size), _files(lr.added_bytes, lr.added),
             _files(lr.changed_bytes, lr.changed), _files(lr.deleted_bytes, lr.deleted),
             size(lr.wasted))
            for lr in a.layers
        ],
    )  # fmt: skip


def layer_doc(lr: LayerReport, base: bool) -> dict[str, Any]:
    """One layer's bar group: the bytes it added, modified, deleted and wasted."""
    return {
        "label": layer_label(lr.index, lr.instruction),
        "size": lr.size,
        "added": lr.added_bytes,
        "modified": lr.changed_bytes,
        "deleted": lr.deleted_bytes,
        "wasted": lr.wasted,
        "files": [lr.added, lr.changed, lr.deleted],
        "base": base,
    }


def _waste_table(a: Analysis) -> str:
    items = a.waste.items
    rows = [
        (
            "/" + i.path,
            size(i.bytes),
            CAUSE_TEXT[i.cause],
            layer_label(i.written_by, i.written_instruction, 400),
            layer_label(i.hidden_by, i.hidden_instruction, 400),
        )
        for i in items[:ROWS]
    ]
    left = items[ROWS:]
    return table(
        "waste-table",
        [("path", "path"), ("bytes", "num"), ("why", ""), ("written by", "code"),
         ("hidden by", "code")],
        rows,
        more=more_line(len(left), "items", sum(i.bytes for i in left)),
        empty="no waste: no layer hides what an earlier one wrote",
    )  # fmt: skip


def _bloat_table(a: Analysis) -> str:
    items = a.bloat.items
    left = items[ROWS:]
    return table(
        "bloat-table",
        [("category", ""), ("path", "path"), ("bytes", "num"), ("files", "num"),
         ("layer", "num")],
        [("" + b.category, "/" + b.path, size(b.bytes), str(b.files), str(b.layer))
         for b in items[:ROWS]],
        more=more_line(len(left), "findings", sum(b.bytes for b in left)),
    )  # fmt: skip


def _packages_table(a: Analysis) -> str:
    pkgs = sorted(a.packages, key=lambda p: (-p.bytes, p.ecosystem, p.name, p.version))
    left = pkgs[ROWS:]
    return table(
        "packages-table",
        [("ecosystem", ""), ("name", "code"), ("version", "code"), ("bytes", "num"),
         ("layer", "num"), ("dev", "")],
        [(p.ecosystem, p.name, p.version, size(p.bytes), str(p.layer), "dev" if p.dev else "")
         for p in pkgs[:ROWS]],
        more=more_line(len(left), "packages", sum(p.bytes for p in left)),
        empty="no package database found",
    )  # fmt: skip


def _recommendations(a: Analysis) -> str:
    return table(
        "recommendations-table",
        [("saves", "num"), ("what", ""), ("change", ""), ("layers", "num")],
        [(size(r.bytes), r.title, r.change, ", ".join(str(i) for i in r.layers))
         for r in a.recommendations],
        empty="nothing to recommend",
    )  # fmt: skip


def drawn_layers(a: Analysis, most: int = BAR_LAYERS) -> list[LayerReport]:
    """The layers drawn as bars: all, or the ``most`` that added, modified, deleted and
    wasted the most bytes, in layer order."""
    if len(a.layers) <= most:
        return list(a.layers)
    moved = sorted(
        a.layers,
        key=lambda lr: (-(lr.added_bytes + lr.changed_bytes + lr.deleted_bytes + lr.wasted),
                        lr.index),
    )  # fmt: skip
    return sorted(moved[:most], key=lambda lr: lr.index)


def _drawn_note(a: Analysis, drawn: list[LayerReport]) -> str:
    left = len(a.layers) - len(drawn)
    if not left:
        return ""
    return (
        f" The chart draws the {len(drawn)} layers that changed the most bytes; the other "
        f"{left} are in the table."
    )


def analyze_html(a: Analysis, byte_map: Region, *, base_layers: int = 0) -> str:
    """The report of one analysis; ``byte_map`` is its final tree's map; the bottom
    ``base_layers`` are the base image's."""
    kinds = sorted({k for k, _ in _all_kinds(byte_map)})
    drawn = drawn_layers(a)
    body = "".join(
        [
            _headline(a),
            section(
                "Where the bytes sit",
                '<div class="caption">Final file system by directory, with the bytes later '
                "layers hid (red) where they were hidden. Click a directory to zoom in; the "
                'bar at the bottom goes back. Showing <span id="treemap-root">/</span></div>'
                + legend(kinds)
                + chart("treemap", 560),
                "map",
            ),
            section(
                "Layers",
                '<div class="caption">What each layer added, modified and deleted, and '
                "the bytes it wrote that a later layer hides (wasted); base layers are "
                f"paler.{_drawn_note(a, drawn)}</div>"
                + chart("layers", 60 + 48 * len(drawn))
                + _layers_table(a),
                "layers-section",
            ),
            section("Recommendations", _recommendations(a), "recommendations"),
            section("Waste: bytes shipped but hidden", _waste_table(a), "waste"),
            section("Bloat still in the final file system", _bloat_table(a), "bloat"),
            section("Packages", _packages_table(a), "packages"),
        ]
    )
    data = {
        "kind": "analyze",
        "map": region_doc(byte_map),
        "layers": [layer_doc(lr, lr.index < base_layers) for lr in drawn],
    }
    subtitle = f"{a.image_id}  ·  deadweight analyze"
    return page(title=a.image, subtitle=subtitle, body=body, data=data)


def _all_kinds(r: Region) -> list[tuple[str, int]]:
    return list(r.kinds)
