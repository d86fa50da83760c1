"""How long operations report progress: ``progress(done, total)``, called as work is done.

The library never draws anything; the CLI turns these calls into a bar on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
