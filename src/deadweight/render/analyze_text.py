"""``analyze``'s terminal report: headline, layers, biggest directories, waste, bloat,
packages, recommendations and CI lines, drawn with rich. Reads an :class:`Analysis`;
computes nothing."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from deadweight.analysis.instructions import instruction_text
from deadweight.analysis.report import Analysis
from deadweight.analysis.rules import Verdict
from deadweight.analysis.waste import CAUSE_TEXT
from deadweight.render.text import middle_cut
from deadweight.render.units import human_size

TOP = 10
MIB = 1 << 20
# a terminal table of more layers shows the first and last half of these (issue 16)
SHOWN_LAYERS = 200


def _layers(count: int) -> str:
    return f"{count} layer" + ("" if count == 1 else "s")


def minor_threshold(size: int) -> int:
    """The default ``--min-saving``: a recommendation saving less than 1 MiB and less than
    1% of the image is summarised, not listed (a 30B /etc/passwd is not advice)."""
    return min(MIB, size // 100)


def _num(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else round(x, 6)


def verdict_lines(verdict: Verdict) -> list[str]:
    lines = []
    for r in verdict.results:
        detail = r.message if r.status == "FAIL" else f"{r.actual} (limit {r.limit})"
        if r.status == "SKIP":
            detail = "disabled"
        lines.append(f"  {r.status}: {r.key}: {detail}")
    lines.append("Result:" + (" PASS" if verdict.passed else " FAIL"))
    return lines


def _short(text: str, width: int = 70) -> str:
    return instruction_text(text, width)


def render_text(
    a: Analysis,
    verdict: Verdict | None = None,
    *,
    width: int = 110,
    color: bool = False,
    min_saving: int | None = None,
) -> str:
    """The terminal report as text, ``width`` columns (ANSI colours only with ``color``).
    Recommendations saving less than ``min_saving`` bytes (default ``minor_threshold``)
    are counted in one line."""
    from rich.console import Console
    from rich.markup import escape as escape_markup

    esc = escape_markup
    from rich.table import Table
    from rich.tree import Tree

    buf = io.StringIO()
    con = Console(
        file=buf,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
        emoji=False,
    )
    hs = human_size
    con.print(f"[bold]Image[/bold] {escape_markup(a.image)}  {a.image_id[:19]}", soft_wrap=True)
    con.print(
        f"  size {hs(a.size)} in {_layers(len(a.layers))}; final file system {hs(a.final_size)}"
    )
    con.print(
        f"  reclaimable by squashing: [bold]{hs(a.waste.reclaimable)}[/bold] "
        f"({a.wasted_percent * 100:.1f}%), efficiency {a.efficiency:.4f}"
        + (f"  [base: {_layers(a.base_layers)} excluded]" if a.base_layers else "")
    )
    pct = a.dive.user_wasted_percent
    con.print(
        f"  dive-compatible: efficiency {a.dive.efficiency:.4f}, wasted {hs(a.dive.wasted_bytes)}, "
        f"user wasted {'n/a' if _num(pct) is None else f'{pct * 100:.1f}%'}"
    )

    t = Table(title="Layers", title_justify="left", show_edge=False, pad_edge=False)
    for col, just in (
        ("#", "right"),
        ("size", "right"),
        ("added", "right"),
        ("changed", "right"),
        ("deleted", "right"),
        ("wasted", "right"),
        ("instruction", "left"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    layers = a.layers
    hidden = len(layers) - SHOWN_LAYERS
    for n, lr in enumerate(layers):
        if hidden > 0 and SHOWN_LAYERS // 2 <= n < SHOWN_LAYERS // 2 + hidden:
            if n == SHOWN_LAYERS // 2:
                t.add_row(
                    "…", "", "", "", "", "", f"{hidden} more layers (--format json lists all)"
                )
            continue
        t.add_row(
            str(lr.index),
            hs(lr.size),
            str(lr.added),
            str(lr.changed),
            str(lr.deleted),
            hs(lr.wasted) if lr.wasted else "-",
            _short(lr.instruction, max(70, width - 40)),
        )
    con.print(t)

    if a.largest_dirs:
        tree = Tree("[bold]Biggest directories[/bold]")
        shown = {s.path for s in a.largest_dirs[:TOP]}
        branches: dict[str, Any] = {}
        # biggest first; a parent holds at least its child's bytes, so it comes first
        for s in sorted(a.largest_dirs[:TOP], key=lambda s: (-s.bytes, s.path)):
            up = s.path.rpartition("/")[0]
            while up and up not in shown:
                up = up.rpartition("/")[0]
            branches[s.path] = branches.get(up, tree).add(f"{hs(s.bytes):>8}  /{esc(s.path)}")
        con.print(tree)

    if a.waste.items:
        t = Table(title="Waste by cause", title_justify="left", show_edge=False, pad_edge=False)
        t.add_column("bytes", justify="right")
        t.add_column("cause")
        for cause, b in a.waste.by_cause:
            if b:
                t.add_row(hs(b), CAUSE_TEXT[cause])
        con.print(t)
        t = Table(title="Largest waste", title_justify="left", show_edge=False, pad_edge=False)
        for col in ("bytes", "path", "cause", "written by", "hidden by"):
            t.add_column(
                col,
                justify="right" if col == "bytes" else "left",
                no_wrap=col in ("bytes", "path", "cause"),
            )
        items = a.waste.items[:TOP]
        steps = max(30, (width - 60) // 3)
        rows = [
            (
                hs(i.bytes),
                "/" + i.path,
                i.cause,
                f"{i.written_by}: {_short(i.written_instruction, steps)}",
                f"{i.hidden_by}: {_short(i.hidden_instruction, steps)}",
            )
            for i in items
        ]
        room = _path_room(rows, width)
        for row in rows:
            t.add_row(row[0], esc(middle_cut(row[1], room)), *row[2:])
        con.print(t)

    if a.bloat.by_category:
        t = Table(
            title="Bloat in the final image", title_justify="left", show_edge=False, pad_edge=False
        )
        for col in ("bytes", "category", "where"):
            t.add_column(col, justify="right" if col == "bytes" else "left")
        for cat, b in sorted(a.bloat.by_category, key=lambda cb: (-cb[1], cb[0])):
            where = [f"/{i.path}" for i in a.bloat.items if i.category == cat][:3]
            if cat == "duplicates":
                where = [f"/{g.paths[0]} (+{len(g.paths) - 1})" for g in a.bloat.duplicates[:3]]
            t.add_row(hs(b), cat, esc(", ".join(where)))
        con.print(t)

    if a.packages:
        counts: dict[str, int] = {}
        for p in a.packages:
            counts[p.ecosystem] = counts.get(p.ecosystem, 0) + 1
        con.print(
            "[bold]Packages[/bold] " + ", ".join(f"{e}: {n}" for e, n in sorted(counts.items()))
        )

    if a.unsafe:
        con.print(f"[bold yellow]Unsafe entries neutralised:[/bold yellow] {len(a.unsafe)}")
        for u in a.unsafe[:TOP]:
            con.print(
                f"  layer {u.layer}: {u.name!r}: {u.reason} ({u.action})",
                markup=False,
                soft_wrap=True,
            )

    if a.recommendations:
        floor = minor_threshold(a.size) if min_saving is None else min_saving
        major = [r for r in a.recommendations if r.bytes >= floor]
        minor = [r for r in a.recommendations if r.bytes < floor]
        con.print("[bold]Recommendations[/bold]")
        for n, r in enumerate(major[:TOP], 1):
            con.print(f"  {n}. save {hs(r.bytes)}: {r.title}", markup=False, soft_wrap=True)
            con.print(f"     {r.change}", soft_wrap=True)
        if minor:
            con.print(
                f"  {len(minor)} smaller one(s), {hs(sum(r.bytes for r in minor))} in all, "
                f"each below {hs(floor)} (--min-saving 0 lists them)",
                markup=False,
                soft_wrap=True,
            )
    if verdict is not None:
        con.print("[bold]CI rules[/bold]")
        for line in verdict_lines(verdict):
            con.print(line, markup=False, soft_wrap=True)
    return buf.getvalue()


def _path_room(rows: Sequence[tuple[str, str, str, str, str]], width: int) -> int:
    """Columns for the path in the "Largest waste" table: all it needs when everything
    fits in ``width``, else at least half of what the fixed columns (bytes, cause) and
    rich's separators (3 per column gap) leave; the steps' columns wrap instead."""
    heads = ("bytes", "path", "cause", "written by", "hidden by")
    widest = [max([len(heads[c]), *(len(row[c]) for row in rows)]) for c in range(5)]
    if sum(widest) + 3 * 4 <= width:
        return widest[1]
    free = width - widest[0] - widest[2] - 3 * 4
    return max(24, free - widest[3] - widest[4], free // 2)
