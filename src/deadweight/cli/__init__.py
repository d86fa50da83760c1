"""The ``deadweight`` command line: one module per command, one error handler."""

from __future__ import annotations

import click

from deadweight import __version__
from deadweight.cli._errors import run
from deadweight.cli.analyze import analyze
from deadweight.cli.history import history
from deadweight.cli.images import images
from deadweight.cli.inspect import inspect
from deadweight.cli.lint import lint


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="deadweight")
def cli() -> None:
    """Find and remove the dead weight in container images.

    IMAGE is a skopeo-style source: docker-archive:PATH[:REF], oci:DIR[:TAG],
    oci-archive:PATH[:TAG], docker://REGISTRY/REPO[:TAG|@DIGEST], docker-daemon:NAME[:TAG],
    or a bare path (archive file or layout directory) or image name.
    """


cli.add_command(analyze)
cli.add_command(history)
cli.add_command(images)
cli.add_command(inspect)
cli.add_command(lint)


def main() -> None:
    run(cli)
