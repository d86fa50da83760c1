"""The click group of the ``deadweight`` command: loads each command's module when it runs."""

from __future__ import annotations

import difflib
import importlib

import click

from deadweight import __version__
from deadweight.cli import COMMANDS
from deadweight.cli._warm import warm_up


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

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            close = difflib.get_close_matches(name, sorted(COMMANDS), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(f"no such command '{name}'{hint} (see deadweight --help)")
        warm_up(name, args[1:])
        return super().resolve_command(ctx, args)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="deadweight")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Find and remove the dead weight in container images.

    IMAGE is a skopeo-style source: docker-archive:PATH[:REF], oci:DIR[:TAG],
    oci-archive:PATH[:TAG], dir:DIR, docker://REGISTRY/REPO[:TAG|@DIGEST],
    docker-daemon:NAME[:TAG], or a bare path (archive file or layout directory) or image name.
    """
    if ctx.invoked_subcommand is None:  # bare `deadweight`: the help, not an error
        click.echo(ctx.get_help())
