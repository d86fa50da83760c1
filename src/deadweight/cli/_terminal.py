"""What the terminal the CLI writes to wants: colour, width. Light: lint imports it."""

from __future__ import annotations

import os
import sys


def on_terminal() -> bool:
    """Whether stdout is a terminal."""
    return sys.stdout.isatty()


def color_wanted() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return on_terminal() and not os.environ.get("NO_COLOR")


def width(fallback: int = 120) -> int:
    """The terminal's columns: COLUMNS when set, else stdout's terminal's, else
    ``fallback`` (a pipe: reports stay the same wherever they are written)."""
    import shutil  # not at start-up: it loads the archive modules (lint imports this)

    return max(40, shutil.get_terminal_size((fallback, 24)).columns)


def for_terminal(text: str, *, colour: bool = False) -> str:
    """``text`` made safe to write to a terminal (:func:`deadweight.render.controls.
    for_terminal`)."""
    from deadweight.render.controls import for_terminal as escaped

    return escaped(text, colour=colour)
