"""``deadweight dockerfile IMAGE``: the Dockerfile rebuilt from the image's history."""

from __future__ import annotations

import click

from deadweight.cli._context import Context
from deadweight.cli._options import echo_raw, parse_platform
from deadweight.dockerfile.reconstruct import reconstruct_image


@click.command(name="dockerfile")
@click.argument("image")
@click.option("--rows", is_flag=True, help="Put a `# row N` comment above each instruction.")
@click.option(
    "--platform", metavar="OS/ARCH[/VARIANT]", help="Pick this platform from a multi-arch index."
)
@click.option(
    "--insecure", is_flag=True, help="Allow plain HTTP and skip TLS checks for registries."
)
def dockerfile(image: str, rows: bool, platform: str | None, insecure: bool) -> None:
    """Rebuild IMAGE's Dockerfile from its history (no layer is read).

    Comments say what the history cannot tell: the base image's name (a best guess when
    its rows match an official image's), COPY/ADD sources of the classic builder, --from.
    Rows count the history entries from the bottom, from 1, as `lint IMAGE` reports them.
    """
    img = Context(parse_platform(platform), insecure, no_cache=True).open(image)
    recon = reconstruct_image(img)
    echo_raw(recon.with_rows() if rows else recon.text)
