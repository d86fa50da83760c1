"""Self-contained HTML reports (``--html FILE``): one module per command's report."""

from __future__ import annotations

from deadweight.render.html.analyze import analyze_html
from deadweight.render.html.diff import diff_html
from deadweight.render.html.fleet import fleet_html
from deadweight.render.html.minify import minify_html
from deadweight.render.html.optimize import optimize_html

__all__ = ["analyze_html", "diff_html", "fleet_html", "minify_html", "optimize_html"]
