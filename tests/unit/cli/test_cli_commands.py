"""Every registered command loads, and start-up imports none of them."""

from __future__ import annotations

import subprocess
import sys

import click

from deadweight.cli import COMMANDS, cli


def test_every_command_loads_and_has_help() -> None:
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert command.name == name
        assert command.help


def test_unknown_command_is_none() -> None:
    assert cli.get_command(click.Context(cli), "nope") is None


def test_startup_does_not_import_commands() -> None:
    code = (
        "import sys, deadweight.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('deadweight.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['deadweight.cli._errors']"
