"""The ``deadweight`` command line: one module per command, one error handler.

Commands are imported when they run, not at start-up: ``deadweight history`` should not
pay for the Dockerfile linter's or the analyzer's imports.
"""

from __future__ import annotations

import importlib

import click

from deadweight import __version__
from deadweight.cli._errors import run

# command name -> module in deadweight.cli holding a click command of the same name
COMMANDS = {
    "analyze": "analyze",
    "cat": "files",
    "diff": "diff",
    "dockerfile": "dockerfile",
    "export": "files",
    "history": "history",
    "images": "images",
    "inspect": "inspect",
    "lint": "lint",
    "optimize": "optimize",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command = getattr(importlib.import_module(f"deadweight.cli.{module}"), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="deadweight")
def cli() -> None:
    """Find and remove the dead weight in container images.

    IMAGE is a skopeo-style source: docker-archive:PATH[:REF], oci:DIR[:TAG],
    oci-archive:PATH[:TAG], docker://REGISTRY/REPO[:TAG|@DIGEST], docker-daemon:NAME[:TAG],
    or a bare path (archive file or layout directory) or image name.
    """


def main() -> None:
    run(cli)
