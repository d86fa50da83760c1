"""The one place errors become one-line messages and exit codes.

0 ok · 1 policy failed (lint threshold, CI gate) · 2 usage · 3 runtime (not found, corrupt,
auth, network) · 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from deadweight.errors import DeadweightError

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


def _fail(message: str, code: int) -> None:
    first = " ".join(message.split("\n")[0].split()) if message else "unknown error"
    click.echo(f"deadweight: error: {first}", err=True)
    sys.exit(code)


def run(command: click.Command) -> None:
    try:
        # Without standalone mode click returns the code of an Exit instead of raising it.
        code = command.main(standalone_mode=False, prog_name="deadweight")
        if isinstance(code, int) and code:
            sys.exit(code)
    except DeadweightError as exc:
        _fail(exc.message, exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:  # click turns Ctrl-C inside a command into Abort
        _fail("interrupted", 130)
    except click.ClickException as exc:
        _fail(exc.format_message(), EXIT_USAGE)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (| head): exit quietly, as docker does.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
        finally:
            sys.exit(EXIT_OK)
    except MemoryError:
        _fail("out of memory", EXIT_RUNTIME)
    except OSError as exc:
        _fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}", EXIT_RUNTIME)
    except Exception as exc:
        if os.environ.get("DEADWEIGHT_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (DEADWEIGHT_DEBUG=1 shows more)", 3)
    sys.exit(EXIT_OK)
