"""The click group of the ``deadweight`` command: loads each command's module when it runs."""

from __future__ import annotations

import difflib
import importlib
import sys

import click

from deadweight import __version__
from deadweight.cli import COMMANDS

# Commands that read an image's layers: given an image on disk whose layers the store
# does not hold, they start the helper processes that will read them before importing
# their own modules, which takes as long.
READS_LAYERS = frozenset(
    {"analyze", "cat", "diff", "explore", "export", "lint", "minify", "optimize"}
)


# Commands whose one image on disk is read ahead, before their modules are imported, with
# what they read it with: the packages' capture and the default per-file digest.
READS_AHEAD = frozenset({"analyze"})


def _warm_up(command: str, args: list[str]) -> None:
    from deadweight.sources import on_disk

    here = [arg for arg in args if not arg.startswith("-") and on_disk(arg)]
    no_cache = "--no-cache" in args
    if here and (no_cache or not all(_stored(spec) for spec in here)):
        from deadweight.reading import warm_up

        warm_up()
        # one image, as it opens without --platform (with it, the layers may be others)
        if command in READS_AHEAD and len(here) == 1 and not _has_option(args, "--platform"):
            _read_ahead(here[0], no_cache=no_cache)


def _has_option(args: list[str], name: str) -> bool:
    return any(arg == name or arg.startswith(f"{name}=") for arg in args)


def _read_ahead(spec: str, *, no_cache: bool) -> None:
    """Start reading the layers of the image ``spec`` names that the store does not hold,
    for the command's read to take (``reading.read_ahead``); a compressed archive is left
    unopened (opening it spools it whole, which the command would do a second time), and
    an image that cannot be opened is left to the command to report."""
    from deadweight.analysis import packages as pkgs
    from deadweight.cli._context import Context
    from deadweight.errors import DeadweightError
    from deadweight.reading import read_ahead
    from deadweight.sources import spooled

    if spooled(spec):
        return
    ctx = Context(None, insecure=False, no_cache=no_cache)
    try:
        read_ahead(ctx.open_ahead(spec), capture=pkgs.capture, store=ctx.store)
    except (DeadweightError, OSError):
        pass
    finally:
        ctx.close()


def _stored(spec: str) -> bool:
    """Whether the layer store holds every layer of the image ``spec`` names, so that
    reading it reads no layer (True too when it is no image: nothing to read). A
    compressed archive counts as not held, unopened: opening it spools the whole archive,
    which the command would then do a second time."""
    from deadweight.cli._context import Context
    from deadweight.errors import DeadweightError
    from deadweight.sources import spooled

    if spooled(spec):
        return False

    ctx = Context(None, insecure=False, no_cache=False)
    try:
        return ctx.stored(ctx.open(spec))
    except (DeadweightError, OSError):
        return True
    finally:
        ctx.close()


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
        context = sys.modules.get("deadweight.cli._context")  # imported: maybe an image
        if context is not None:
            context.forget_opened()  # that an earlier command (in this process) left
        if name in READS_LAYERS:
            _warm_up(name, args[1:])
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
    oci-archive:PATH[:TAG], docker://REGISTRY/REPO[:TAG|@DIGEST], docker-daemon:NAME[:TAG],
    or a bare path (archive file or layout directory) or image name.
    """
    if ctx.invoked_subcommand is None:  # bare `deadweight`: the help, not an error
        click.echo(ctx.get_help())
