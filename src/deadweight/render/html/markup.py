"""The pieces every HTML report is made of: escaped text, figures, tables, chart boxes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from deadweight.render.units import human_size

# What the bytes are -> colour, shared by the treemap, its legend and the layer bars.
COLORS = {
    "base": "#8d99ae",
    "app": "#2b6cb0",
    "waste": "#d62839",
    "other": "#a0aec0",
}
# Bloat categories: one colour per family (caches, docs, build tools, package extras...).
_FAMILIES = {
    "#f59f00": ("apt-cache", "apk-cache", "pip-cache", "poetry-cache", "uv-cache", "npm-cache",
                "yarn-cache", "pnpm-store", "go-build-cache", "maven-cache", "gradle-cache"),
    "#9c36b5": ("docs", "man", "info", "locales"),
    "#e8590c": ("toolchain",),
    "#c2255c": ("npm-dev-dependencies",),
    "#0ca678": ("package-extras",),
    "#5c940d": ("vcs", "temp", "core-dump", "duplicates"),
}  # fmt: skip
for _colour, _names in _FAMILIES.items():
    COLORS.update(dict.fromkeys(_names, _colour))


def text(value: object) -> str:
    return escape(str(value), quote=True)


def size(n: int) -> str:
    return human_size(n)


def signed(n: int) -> str:
    return ("+" if n > 0 else "-" if n < 0 else "") + human_size(abs(n))


def figure(label: str, value: str, tone: str = "", test_id: str = "") -> str:
    attr = f' data-figure="{text(test_id)}"' if test_id else ""
    cls = f"figure {tone}".strip()
    return (
        f'<div class="{cls}"{attr}><div class="value">{text(value)}</div>'
        f'<div class="label">{text(label)}</div></div>'
    )


def figures(items: Iterable[str]) -> str:
    return f'<div class="figures">{"".join(items)}</div>'


def section(title: str, body: str, section_id: str) -> str:
    return f'<section id="{text(section_id)}"><h2>{text(title)}</h2>{body}</section>'


def chart(chart_id: str, height: int) -> str:
    return f'<div class="chart" id="{text(chart_id)}" style="height:{int(height)}px"></div>'


def legend(kinds: Iterable[str]) -> str:
    spans = "".join(
        f'<span style="--c:{COLORS.get(k, COLORS["other"])}">{text(k)}</span>' for k in kinds
    )
    return f'<div class="legend">{spans}</div>'


def table(
    table_id: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[str]],
    *,
    more: str = "",
    empty: str = "none",
) -> str:
    """A table; ``columns`` are (header, cell class: "num", "path", "code" or "").
    Cells are plain text, escaped here."""
    head = "".join(f'<th class="{c}">{text(h)}</th>' for h, c in columns)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="{c}">{text(v)}</td>' for (_, c), v in zip(columns, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr class="more"><td colspan="{len(columns)}">{text(empty)}</td></tr>')
    if more:
        body.append(f'<tr class="more"><td colspan="{len(columns)}">{text(more)}</td></tr>')
    rows_html = "".join(body)
    return (
        f'<table id="{text(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows_html}</tbody></table>"
    )


def more_line(left: int, noun: str, total: int | None = None) -> str:
    """The line under a cut table: how many rows were left out, and their bytes."""
    if left <= 0:
        return ""
    tail = f" ({size(total)})" if total is not None else ""
    return f"… and {left} more {noun}{tail}"
