"""Self-contained HTML reports (``--html FILE``): one module per command's report."""

from __future__ import annotations

from deadweight.render.html.analyze import analyze_html

__all__ = ["analyze_html"]
