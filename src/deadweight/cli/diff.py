"""``deadweight diff A B``: how much bigger or smaller B is than A, and exactly where."""

from __future__ import annotations

import click

from deadweight.analysis.rules import parse_bytes
from deadweight.cli._context import Context, with_context
from deadweight.cli._options import echo_raw
from deadweight.cli._report import check_writable, html_option, write_report
from deadweight.compare import check, compare
from deadweight.compare.content import file_diff, normal
from deadweight.compare.diff import check_platforms
from deadweight.errors import UsageError
from deadweight.render.diff import json_chunks, render_text


def parse_percent(value: str | None) -> float | None:
    """``10``, ``10%`` or ``2.5``: a growth limit in percent (negative: must shrink)."""
    if value is None:
        return None
    text = value.strip().removesuffix("%")
    try:
        pct = float(text)
    except ValueError:
        raise UsageError(
            f"invalid --max-growth value {value!r} (expected a percentage like 10 or 2.5%)"
        ) from None
    if pct != pct:  # NaN
        raise UsageError(f"invalid --max-growth value {value!r}")
    return pct


@click.command()
@click.argument("image_a", metavar="A")
@click.argument("image_b", metavar="B")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--max-growth", metavar="PERCENT", help="Exit 1 if B is more than PERCENT bigger than A."
)
@click.option(
    "--max-growth-bytes", metavar="SIZE", help="Exit 1 if B is more than SIZE (e.g. 5MB) bigger."
)
@click.option("--file", "file_path", metavar="PATH", help="Show a unified diff of one text file.")
@click.option(
    "--read-base",
    is_flag=True,
    help="Also read the shared layers (when not cached) to compare paths only one image writes.",
)
@click.option("--any-platform", is_flag=True, help="Compare images of different platforms.")
@html_option
@with_context
def diff(
    image_a: str,
    image_b: str,
    fmt: str,
    max_growth: str | None,
    max_growth_bytes: str | None,
    file_path: str | None,
    read_base: bool,
    any_platform: bool,
    html: str | None,
    ctx: Context,
) -> None:
    """Compare image A with image B: sizes, steps, files, packages and config.

    Layers both images share are not read. With --max-growth or --max-growth-bytes, exit 1
    when B grew past the limit (for CI: A is the previous build, B the new one).
    """
    check_writable(html)
    max_pct = parse_percent(max_growth)
    max_bytes = (
        None if max_growth_bytes is None else parse_bytes(max_growth_bytes, "--max-growth-bytes")
    )
    a, b = ctx.open(image_a), ctx.open(image_b)
    if not any_platform:
        check_platforms(a, b)
    if file_path is not None:
        normal(file_path)  # a bad path is refused before any layer is read
        deltas_a, deltas_b = ctx.deltas(a, lazy=True), ctx.deltas(b, lazy=True)
        echo_raw(file_diff(a, deltas_a, b, deltas_b, file_path))
        return
    layer_store = ctx.store
    result = ctx.progress(
        "reading layers",
        None,
        # a percentage budget needs A's whole size: only then are shared registry
        # layers streamed to size them
        lambda progress: compare(
            a, b, store=layer_store, read_base=read_base, any_platform=True,
            progress=progress, size_shared=max_pct is not None,
        ),
    )  # fmt: skip
    budget = check(result, max_pct, max_bytes)
    if html is not None:
        from deadweight.render.html import diff_html

        write_report(html, diff_html(result))
    if fmt == "json":
        for chunk in json_chunks(result, budget):  # a diff of a million files: no 4 GB
            echo_raw(chunk)
    else:
        echo_raw(render_text(result, budget))
    if not budget.passed:
        raise click.exceptions.Exit(1)
