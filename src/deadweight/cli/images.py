"""``deadweight images [SOURCE]``: docker images, for any source."""

from __future__ import annotations

import click

from deadweight.cli._context import Context, with_context
from deadweight.cli._options import echo_raw, now
from deadweight.render.images import format_images
from deadweight.summary import ImageSummary, sort_summaries


def _engine_summaries(reference: str | None, all_images: bool) -> list[ImageSummary]:
    from deadweight.sources import engine

    return [
        ImageSummary(
            id=row["Id"],
            repo_tags=tuple(t for t in row.get("RepoTags") or () if t != "<none>:<none>"),
            repo_digests=tuple(d for d in row.get("RepoDigests") or () if d != "<none>@<none>"),
            created=int(row.get("Created") or 0),
            size=int(row.get("Size") or 0),
        )
        for row in engine.list_summaries(reference, all_images=all_images)
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
@click.option("--format", "fmt", default="", metavar="TEMPLATE", help="Go template, as docker.")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@with_context
def images(
    source: str | None,
    show_all: bool,
    digests: bool,
    fmt: str,
    no_trunc: bool,
    quiet: bool,
    ctx: Context,
) -> None:
    """List the images of a source (an archive, a layout, a registry repository, an engine).

    Rows come newest first, as docker orders them; ties keep a fixed, documented order.
    With no SOURCE, the local engine's images are listed.
    """
    loc = ctx.locate(source) if source else None
    if loc is None or (loc.transport == "docker-daemon" and source == loc.target):
        # the engine filters, as for docker: only references matching REPOSITORY[:TAG] stay
        summaries = _engine_summaries(loc.target if loc is not None else None, show_all)
    else:
        found = ctx.images(loc)
        # docker hides untagged images that are the parent of another one unless -a (§4.1)
        parents = {i.ancestors[0] for i in found if i.ancestors}
        found = [
            i for i in found if show_all or i.repo_tags or i.repo_digests or i.id not in parents
        ]
        summaries = [
            ImageSummary(
                id=i.id,
                repo_tags=i.repo_tags,
                repo_digests=i.repo_digests,
                created=i.created,
                size=sum(ctx.sizes(i)),
            )
            for i in found
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
