"""``deadweight history IMAGE``: docker image history, byte for byte."""

from __future__ import annotations

import click

from deadweight.cli._context import Context, with_context
from deadweight.cli._options import (
    echo_raw,
    now,
    parse_bool,
)
from deadweight.history import history_rows
from deadweight.render.history import format_history


@click.command()
@click.argument("image")
@click.option("--format", "fmt", default="", metavar="TEMPLATE", help="Go template, as docker.")
@click.option(
    "-H",
    "--human",
    default="true",
    is_flag=False,
    flag_value="true",
    metavar="BOOL",
    help="Print sizes and dates in human readable format (default true; -H=false for raw).",
)
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@with_context
def history(
    image: str,
    fmt: str,
    human: str,
    no_trunc: bool,
    quiet: bool,
    ctx: Context,
) -> None:
    """Show the history of an image, exactly as `docker history` prints it."""
    human_flag = parse_bool(human, "human")
    loc = ctx.locate(image)
    if loc.transport == "docker-daemon":
        from deadweight.sources import engine

        rows = engine.history_rows(loc.target)
    else:
        img = ctx.open(loc)
        rows = history_rows(img, ctx.sizes(img))
    echo_raw(
        format_history(
            rows, now=now(), no_trunc=no_trunc, human=human_flag, quiet=quiet, format=fmt
        )
    )
