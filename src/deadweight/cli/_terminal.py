"""What the terminal the CLI writes to wants: colour, width. Light: lint imports it."""

from __future__ import annotations

import os
import sys


def color_wanted() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def width(fallback: int = 120) -> int:
    """The terminal's columns: COLUMNS when set, else stdout's terminal's, else
    ``fallback`` (a pipe: reports stay the same wherever they are written)."""
    import shutil  # not at start-up: it loads the archive modules (lint imports this)

    return max(40, shutil.get_terminal_size((fallback, 24)).columns)
