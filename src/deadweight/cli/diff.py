"""``deadweight diff A B``: how much bigger or smaller B is than A, and exactly where."""

from __future__ import annotations

from typing import TypeVar

import click

from deadweight.analysis import packages as pkgs
from deadweight.analysis.rules import parse_bytes
from deadweight.cache import LayerStore
from deadweight.cli._options import echo_raw, parse_platform, source_options, store, with_progress
from deadweight.cli._report import check_writable, html_option, write_report
from deadweight.compare import check, compare
from deadweight.compare.content import normal, read_bytes, resolve, unified
from deadweight.compare.diff import check_platforms, name_of
from deadweight.errors import NotFound, UsageError
from deadweight.filetree.tree import Node, Tree, stack
from deadweight.image import Image
from deadweight.reading import read_deltas
from deadweight.render.diff import render_text, to_json
from deadweight.sources import open_image

T = TypeVar("T")


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


def _node(tree: Tree, path: str) -> Node | None:
    try:
        return resolve(tree, path, follow=False)
    except NotFound:
        return None


def file_diff(a: Image, b: Image, path: str, layer_store: LayerStore | None) -> str:
    """A unified diff of one file of both images; NotFound when neither has it."""
    key = normal(path)
    da = read_deltas(a, capture=pkgs.capture, store=layer_store)
    db = read_deltas(b, capture=pkgs.capture, store=layer_store)
    ta, tb = stack(da), stack(db)
    na, nb = _node(ta, key), _node(tb, key)
    if na is None and nb is None:
        raise NotFound(f"/{key}: no such file in either image")
    for n in (na, nb):
        if n is not None and n.kind not in ("file", "hardlink"):
            raise UsageError(f"/{key}: not a regular file ({n.kind})")
    if na is not None and nb is not None and na.digest == nb.digest and na.size == nb.size:
        return ""  # same content (a shared layer's file is never read)
    left = read_bytes(ta, na, a.layers, da) if na is not None else None
    right = read_bytes(tb, nb, b.layers, db) if nb is not None else None
    return unified(key, left, right, name_of(a), name_of(b))


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
@source_options
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
    platform: str | None,
    insecure: bool,
    no_cache: bool,
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
    plat = parse_platform(platform)
    a = open_image(image_a, platform=plat, insecure=insecure)
    b = open_image(image_b, platform=plat, insecure=insecure)
    if not any_platform:
        check_platforms(a, b)
    with store(no_cache) as layer_store:
        if file_path is not None:
            echo_raw(file_diff(a, b, file_path, layer_store))
            return
        result = with_progress(
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
    echo_raw(to_json(result, budget) if fmt == "json" else render_text(result, budget))
    if not budget.passed:
        raise click.exceptions.Exit(1)
