"""``deadweight inspect IMAGE``: docker image inspect, plus the raw documents."""

from __future__ import annotations

import sys

import click

from deadweight.cli._context import Context, with_context
from deadweight.cli._options import echo_raw
from deadweight.errors import NotFound
from deadweight.render.gotemplate import render_template
from deadweight.render.inspect import format_inspect, inspect_document, template_data
from deadweight.summary import reference_key


@click.command()
@click.argument("images", nargs=-1, required=True)
@click.option("-f", "--format", "fmt", default="", metavar="TEMPLATE", help="Go template.")
@click.option(
    "--raw",
    type=click.Choice(["manifest", "config", "index"]),
    help="Print the image's manifest, config or index exactly as stored.",
)
@with_context
def inspect(
    images: tuple[str, ...],
    fmt: str,
    raw: str | None,
    ctx: Context,
) -> None:
    """Show an image's details as `docker image inspect` does (a JSON array)."""
    documents = []
    for spec in images:
        loc = ctx.locate(spec)
        if loc.transport == "docker-daemon" and raw is None:
            from deadweight.sources import engine

            documents.append(engine.inspect(loc.target))
            continue
        img = ctx.open(loc)
        if raw is not None:
            data = {"manifest": img.raw_manifest, "config": img.raw_config, "index": img.raw_index}
            blob = data[raw]
            if blob is None:
                raise NotFound(f"{spec}: this image has no {raw} (its medium does not keep one)")
            sys.stdout.buffer.write(blob)
            sys.stdout.flush()
            continue
        size = sum(ctx.sizes(img))
        documents.append(
            inspect_document(
                image_id=img.id,
                # the daemon lists references sorted by their full name (docker-formats §4.1)
                repo_tags=tuple(sorted(img.repo_tags, key=reference_key)),
                repo_digests=tuple(sorted(img.repo_digests, key=reference_key)),
                parent=img.ancestors[0] if img.ancestors else "",
                config_document=img.config.document,
                size=size,
                diff_ids=img.config.diff_ids,
            )
        )
    if raw is not None:
        return
    if fmt:
        echo_raw("".join(render_template(fmt, template_data(d), d) + "\n" for d in documents))
    else:
        echo_raw(format_inspect(documents))
