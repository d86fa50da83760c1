"""The ``deadweight`` command line: one module per command, one error handler.

Commands are imported when they run, not at start-up: ``deadweight history`` should not
pay for the Dockerfile linter's or the analyzer's imports.
"""

from __future__ import annotations

import gc
import sys

from deadweight.cli._errors import run

TYPE_CHECKING = False  # not `typing`: start-up of `deadweight lint FILE` (issue 14)
if TYPE_CHECKING:
    from typing import Any

# command name -> module in deadweight.cli holding a click command of the same name
COMMANDS = {
    "analyze": "analyze",
    "cat": "files",
    "diff": "diff",
    "dockerfile": "dockerfile",
    "explore": "explore",
    "export": "files",
    "history": "history",
    "images": "images",
    "inspect": "inspect",
    "lint": "lint",
    "minify": "minify",
    "optimize": "optimize",
    "scan": "scan",
}


def __getattr__(name: str) -> Any:
    # the click group is loaded on first use: `deadweight lint FILE` starts without click
    if name in ("cli", "LazyGroup"):
        from deadweight.cli import _group

        return getattr(_group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    if sys.argv[1:2] == ["lint"]:
        from deadweight.cli._lint_argv import lint_without_click

        lint_without_click(sys.argv[2:])  # exits when it can run the command itself
    from deadweight.cli._warm import main_early

    main_early(sys.argv[1:])  # the layers' readers, even the reading, before click
    from deadweight.cli._group import cli

    try:
        run(cli)
    finally:
        # The interpreter's last collection would walk every object the command made
        # (20 ms after analyze) to find cycles that the exit frees anyway; what a command
        # must finish at exit (temp files, helpers) is registered with atexit, which runs.
        gc.freeze()
