"""``deadweight cat IMAGE PATH`` and ``deadweight export IMAGE [PATH...] -o DIR``.

The work is :mod:`deadweight.extraction`'s (safe extraction: nothing written outside DIR,
no link followed, the tree renamed into place when whole); this module reads the image
and reports. A whole image is exported layer by layer (``export_all``, each layer read
once, in flat memory) unless the layer store holds every layer's delta and they are not
``partition.large``; PATHs come from the stacked tree, or a large image's views of them
(``export``).
"""

from __future__ import annotations

import sys

import click

from deadweight.cli._context import Context, with_context
from deadweight.extraction import check_destination, copy_file, export_all
from deadweight.extraction import export as export_files
from deadweight.filetree import partition


@click.command()
@click.argument("image")
@click.argument("path")
@with_context
def cat(image: str, path: str, ctx: Context) -> None:
    """Print the file PATH of IMAGE (symlinks are followed inside the image)."""
    img = ctx.open(image)
    copy_file(img, ctx.deltas(img, lazy=True), path, sys.stdout.buffer, what=image)
    sys.stdout.buffer.flush()


@click.command()
@click.argument("image")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("-o", "--output", "output", required=True, metavar="DIR", help="Where to extract.")
@with_context
def export(image: str, paths: tuple[str, ...], output: str, ctx: Context) -> None:
    """Extract files of IMAGE (all, or PATHs and what lies below them) into DIR, safely."""
    check_destination(output, paths)
    img = ctx.open(image)
    # stored deltas say which layers hold what is written, so that only those are read;
    # but their tree grows with the files: past ``partition.SIZE`` members the whole image
    # is written layer by layer onto disk, in memory that does not grow (issue 16)
    deltas = ctx.deltas(img, lazy=True) if paths or ctx.stored(img) else None
    if deltas is not None and (paths or not partition.large(deltas)):
        counts = export_files(img, deltas, output, paths, what=image)
    else:
        counts = export_all(img, output)
    click.echo(
        f"exported {counts.files} files, {counts.dirs} directories and "
        f"{counts.links} symlinks to {output}"
        + (f" ({counts.skipped} devices or fifos skipped)" if counts.skipped else "")
        + (
            f"; {counts.rewritten} symlinks that pointed outside {output} now point inside it"
            if counts.rewritten
            else ""
        ),
        err=True,
    )
