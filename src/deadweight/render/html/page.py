"""One self-contained HTML page: styles, the charting library (Apache ECharts, vendored
with its licence under ``assets/echarts``), the report's data and script, all inline, so
the file opens anywhere without fetching anything (issue 15)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from deadweight.render.html.markup import COLORS, text


@cache
def asset(name: str) -> str:
    """A file of ``assets/``; a script that could close its ``<script>`` element early
    is refused (it would cut the page)."""
    body = resources.files("deadweight.render.html").joinpath("assets", *name.split("/"))
    content = body.read_text(encoding="utf-8")
    if name.endswith(".js") and "</script" in content.lower():
        raise ValueError(f"{name}: holds </script and cannot be inlined")
    return content


def embed(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``</script>``,
    no ``<!--``, no line or paragraph separators."""
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        raw.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def page(*, title: str, subtitle: str, body: str, data: dict[str, Any]) -> str:
    doc = {**data, "colors": COLORS}
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="deadweight">'
        f"<title>{text(title)}</title>"
        f"<style>{asset('report.css')}</style>"
        "</head><body>"
        f'<header><h1>{text(title)}</h1><div class="sub">{text(subtitle)}</div></header>'
        f"<main>{body}</main>"
        f'<script type="application/json" id="dw-data">{embed(doc)}</script>'
        f"<script>{asset('echarts/echarts.min.js')}</script>"
        f"<script>{asset('report.js')}</script>"
        "</body></html>\n"
    )
