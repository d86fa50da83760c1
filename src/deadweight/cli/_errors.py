"""The one place errors become one-line messages and exit codes.

0 ok · 1 policy failed (lint threshold, CI gate) · 2 usage · 3 runtime (not found, corrupt,
auth, network) · 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from deadweight.errors import DeadweightError

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True

if TYPE_CHECKING:
    import click

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


def _fail(message: str, code: int) -> None:
    from deadweight.cli._terminal import for_terminal

    first = " ".join(message.split("\n")[0].split()) if message else "unknown error"
    first = for_terminal(first)  # a name's escape sequences shown, never acted on
    sys.stderr.write(f"deadweight: error: {first}\n")
    sys.stderr.flush()
    sys.exit(code)


def _where(exc: OSError) -> str:
    """Where a full disk was met, when the error names no file: an unnamed temp file (large
    layers are spooled, sorted and stacked on disk, issue 16) or the output being written."""
    import errno

    if exc.errno != errno.ENOSPC or exc.filename:
        return ""
    from deadweight.scratch import folder

    return (
        f" (writing the output, or temp files in {folder()}: DEADWEIGHT_TMPDIR chooses "
        "another folder for them)"
    )


def run(command: click.Command) -> None:
    """Run a click command, every error mapped to one line and an exit code."""
    import click

    def call() -> None:
        # Without standalone mode click returns the code of an Exit instead of raising it.
        code = command.main(standalone_mode=False, prog_name="deadweight")
        if isinstance(code, int) and code:
            sys.exit(code)

    def clicks(exc: Exception) -> None:
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.Abort):  # click turns Ctrl-C inside a command into Abort
            _fail("interrupted", 130)
        if isinstance(exc, click.ClickException):
            _fail(exc.format_message(), EXIT_USAGE)

    guarded(call, clicks)


def guarded(call: Callable[[], None], more: Callable[[Exception], None] | None = None) -> None:
    """Run ``call`` (a command without click, or click's ``main``); ``more`` maps the
    exceptions of the caller's framework before the last resort, "internal error"."""
    try:
        call()
    except DeadweightError as exc:
        _fail(exc.message, exc.exit_code)
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
        _fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}{_where(exc)}",
              EXIT_RUNTIME)  # fmt: skip
    except Exception as exc:
        if more is not None:
            more(exc)
        if os.environ.get("DEADWEIGHT_DEBUG"):
            import traceback

            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (DEADWEIGHT_DEBUG=1 shows more)", 3)
    sys.exit(EXIT_OK)
