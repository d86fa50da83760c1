"""``--html FILE``: the option, the check that FILE can be written (made before any image
is read, so a typo costs nothing), and the atomic write of the page."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze_read
from deadweight.analysis.report import Analysis
from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.progress import Progress
from deadweight.reading import paused_gc, read_deltas
from deadweight.scratch import atomic_file

if TYPE_CHECKING:
    from deadweight.analysis.bytemap import Region

F = TypeVar("F", bound=Callable[..., Any])


def html_option(func: F) -> F:
    return click.option(
        "--html",
        "html",
        metavar="FILE",
        help="Also write a self-contained HTML report (charts and tables) to FILE.",
    )(func)


def check_writable(path: str | None, option: str = "--html") -> None:
    """A UsageError unless a file can be created at ``path``: its folder exists and takes a
    new file (tried, not guessed: permissions, read-only mounts), and ``path`` is not a
    directory."""
    if path is None:
        return
    dest = Path(path)
    if not path or dest.is_dir():
        raise UsageError(f"{option} {path}: is a directory, not a file")
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: no such directory: {folder}")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{dest.name}.")
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write there ({exc.strerror or exc})") from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


def write_report(path: str, text: str) -> None:
    """Write beside the destination, then rename: never half a report."""
    with atomic_file(Path(path), mode=0o644, parents=False) as f:
        f.write(text.encode("utf-8", "surrogateescape"))  # a name that is no UTF-8: its bytes


def analyze_with_map(
    image: Image,
    *,
    store: Any,
    base: int,
    ignore: Sequence[str],
    progress: Progress | None,
) -> tuple[Analysis, Region, int]:
    """The analysis ``analyze`` prints, the byte map of the same read of the layers, and
    how many bottom layers are the base image's (``--exclude-base``, else as the history
    tells)."""
    # imported here, for --html only: the base-image guess brings the Dockerfile parser
    from deadweight.analysis.bytemap import byte_map
    from deadweight.compare.base import base_layers as guess_base

    # a large layer's entries stay on disk: the analysis and the map stack a large image
    # a range of paths at a time (issue 16)
    deltas = read_deltas(image, capture=pkgs.capture, store=store, progress=progress, lazy=True)
    result = analyze_read(image, deltas, base_layers=base, ignore=ignore)
    base = max(base, min(guess_base(image), len(image.layers)))
    with paused_gc():  # as analyze: many small acyclic objects, no cycle to find
        mapped = byte_map(deltas, waste=result.waste, bloat=result.bloat, base_layers=base)
    return result, mapped, base


def render_analysis(path: str, result: Analysis, mapped: Region, base: int) -> None:
    from deadweight.render.html import analyze_html

    write_report(path, analyze_html(result, mapped, base_layers=base))
