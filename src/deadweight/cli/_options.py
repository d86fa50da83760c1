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
from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.platform import Platform

F = TypeVar("F", bound=Callable[..., Any])


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


# Sources whose layers are files on disk (an engine's save stream is spooled to one): their
# layers are read side by side, by helper processes where there are CPUs for them.
LOCAL_TRANSPORTS = ("docker-archive", "oci", "oci-archive", "docker-daemon")


def reading_workers(transport: str) -> int:
    """Threads to read an image's layers with: 4 for local sources, 1 for a registry."""
    return 4 if transport in LOCAL_TRANSPORTS else 1


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


def sizes_of(image: Image, layer_store: LayerStore | None) -> tuple[int, ...]:
    """Per-layer sizes, with a progress bar on a terminal when layers must be read."""
    need = sum(
        1
        for layer in image.layers
        if layer.size is None and (layer_store is None or layer_store.get(layer.diff_id) is None)
    )
    if need == 0 or not sys.stderr.isatty():
        return layer_sizes(image, layer_store)
    from rich.progress import Progress

    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task("reading layers", total=len(image.layers))
        return layer_sizes(image, layer_store, lambda done, _: bar.update(task, completed=done))


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def now() -> float:
    return time.time()


def echo_raw(text: str) -> None:
    """Write exactly these characters (no newline added), UTF-8 whatever the locale."""
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()


def all_sizes(images: Sequence[Image], layer_store: LayerStore | None) -> list[int]:
    return [sum(sizes_of(i, layer_store)) for i in images]
