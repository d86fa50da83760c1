"""``deadweight images [SOURCE]``: docker images, for any source."""

from __future__ import annotations

import click

from deadweight.cli._context import Context, with_context
from deadweight.cli._options import echo_raw, now
from deadweight.render.images import format_images
from deadweight.summary import ImageFilters, ImageSummary, select_images, sort_summaries


def _engine_summaries(
    reference: str | None, all_images: bool, filters: ImageFilters
) -> list[ImageSummary]:
    from deadweight.sources import engine

    wanted = filters.as_engine_filters()
    if reference:
        wanted.setdefault("reference", []).append(reference)
    return [
        ImageSummary(
            id=row["Id"],
            repo_tags=tuple(t for t in row.get("RepoTags") or () if t != "<none>:<none>"),
            repo_digests=tuple(d for d in row.get("RepoDigests") or () if d != "<none>@<none>"),
            created=int(row.get("Created") or 0),
            size=int(row.get("Size") or 0),
        )
        for row in engine.list_summaries(wanted, all_images=all_images)
    ]


@click.command()
@click.argument("source", required=False)
@click.option(
    "-a",
    "--all",
    "show_all",
    is_flag=True,
    help="Show all images (default hides intermediate images).",
)
@click.option("--digests", is_flag=True, help="Show digests.")
@click.option(
    "-f",
    "--filter",
    "filter_flags",
    multiple=True,
    metavar="FILTER",
    help="Filter output based on conditions provided, as docker: dangling=true|false, "
    "label=KEY[=VALUE], reference=PATTERN, before=IMAGE, since=IMAGE (repeatable).",
)
@click.option("--format", "fmt", default="", metavar="TEMPLATE", help="Go template, as docker.")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@with_context
def images(
    source: str | None,
    show_all: bool,
    digests: bool,
    filter_flags: tuple[str, ...],
    fmt: str,
    no_trunc: bool,
    quiet: bool,
    ctx: Context,
) -> None:
    """List the images of a source (an archive, a layout, a registry repository, an engine).

    Rows come newest first, as docker orders them; ties keep a fixed, documented order.
    With no SOURCE, the local engine's images are listed.
    """
    filters = ImageFilters.parse(filter_flags)
    loc = ctx.locate(source) if source else None
    if loc is None or (loc.transport == "docker-daemon" and source == loc.target):
        # the engine filters, as for docker: only references matching REPOSITORY[:TAG] stay
        target = loc.target if loc is not None else None
        summaries = _engine_summaries(target, show_all, filters)
    else:
        summaries = [
            ImageSummary(
                id=image.id,
                repo_tags=tags,
                repo_digests=digests,
                created=image.created,
                size=sum(ctx.sizes(image)),
            )
            for image, tags, digests in select_images(ctx.images(loc), filters, show_all=show_all)
        ]
    echo_raw(
        format_images(
            sort_summaries(summaries),
            now=now(),
            no_trunc=no_trunc,
            quiet=quiet,
            digests=digests,
            format=fmt,
        )
    )
