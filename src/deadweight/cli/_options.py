"""Options shared by several commands, and how they reach the library."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from deadweight.analysis.sizes import layer_sizes
from deadweight.cache import LayerStore
from deadweight.cli import _terminal
from deadweight.errors import UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.image import Image
from deadweight.platform import Platform
from deadweight.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def source_options(func: F) -> F:
    func = click.option(
        "--no-cache", is_flag=True, help="Do not read or write the layer store (sizes, analyses)."
    )(func)
    func = click.option(
        "--insecure", is_flag=True, help="Allow plain HTTP and skip TLS checks for registries."
    )(func)
    func = click.option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="Pick this platform from a multi-arch index.",
    )(func)
    return func


def parse_platform(text: str | None) -> Platform | None:
    return Platform.parse(text) if text else None


def parse_bool(value: str | None, name: str) -> bool:
    """Go's strconv.ParseBool, as docker's flags accept it (``-H=false``)."""
    text = (value or "true").lstrip("=")
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise UsageError(f'invalid argument "{text}" for "{name}" flag: parse error')


@contextmanager
def store(no_cache: bool) -> Iterator[LayerStore | None]:
    if no_cache:
        yield None
        return
    s = LayerStore()
    try:
        yield s
    finally:
        s.close()


@contextmanager
def progress_bars(
    labels: Sequence[str], totals: Sequence[int | None] = (), *, quiet: bool = False
) -> Iterator[list[Progress] | None]:
    """One :data:`~deadweight.progress.Progress` per label, each drawn as a transient bar
    on stderr when it is a terminal (and not ``quiet``); None otherwise. A total fixes its
    bar's length; None (or none given) takes the total each report gives. The one
    progress block of the CLI."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as Bars

    fixed = list(totals) + [None] * (len(labels) - len(totals))
    with Bars(transient=True, console=_stderr_console()) as bars:

        def bar(label: str, total: int | None) -> Progress:
            task = bars.add_task(label, total=total)

            def report(done: int, seen: int) -> None:
                bars.update(task, completed=done, total=total if total is not None else seen)

            return report

        yield [bar(label, total) for label, total in zip(labels, fixed, strict=True)]


def with_progress(
    label: str, total: int | None, run: Callable[[Progress | None], T], *, quiet: bool = False
) -> T:
    """``run(progress)`` with one bar (:func:`progress_bars`)."""
    with progress_bars([label], [total], quiet=quiet) as bars:
        return run(bars[0] if bars else None)


def deltas_of(image: Image, no_cache: bool) -> tuple[LayerDelta, ...]:
    """Every layer's delta through the layer store, with progress on a terminal."""
    from deadweight.analysis import packages as pkgs
    from deadweight.reading import read_deltas

    with store(no_cache) as layer_store:
        return with_progress(
            "reading layers",
            len(image.layers),
            lambda progress: read_deltas(
                image, capture=pkgs.capture, store=layer_store, progress=progress
            ),
        )


def sizes_of(image: Image, layer_store: LayerStore | None) -> tuple[int, ...]:
    """Per-layer sizes, with a progress bar on a terminal when layers must be read."""
    unsized = {layer.diff_id for layer in image.layers if layer.size is None}
    need = sum(1 for d in unsized if layer_store is None or layer_store.get(d) is None)
    return with_progress(
        "reading layers",
        len(image.layers),
        lambda progress: layer_sizes(image, layer_store, progress),
        quiet=need == 0,
    )


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def now() -> float:
    return time.time()


def echo_raw(text: str, *, colour: bool = False) -> None:
    """Write exactly these characters (no newline added), UTF-8 whatever the locale; on a
    terminal, what it would act on instead of showing (a file name's escape sequences) is
    written escaped (``_terminal.for_terminal``), but colour sequences when ``colour``
    (text a renderer coloured)."""
    if _terminal.on_terminal():
        text = _terminal.for_terminal(text, colour=colour)
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()
