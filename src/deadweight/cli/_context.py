"""The one CLI context: where a command locates and opens images, reads their layers
through the layer store, and shows progress.

Commands that read images take ``ctx: Context`` (:func:`with_context` adds the shared
``--platform``, ``--insecure`` and ``--no-cache`` options and builds it). The layer store
is opened on first use and closed when the command ends, whatever the outcome.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from deadweight.cache import LayerStore
from deadweight.cli._options import parse_platform, sizes_of, source_options, with_progress
from deadweight.cli._warm import take_opened
from deadweight.filetree.delta import LayerDelta
from deadweight.image import Image
from deadweight.platform import Platform
from deadweight.progress import Progress
from deadweight.sources import Location, list_images, locate, open_image

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Context:
    """A command's access to images: ``--platform``, ``--insecure``, ``--no-cache``."""

    def __init__(self, platform: Platform | None, insecure: bool, no_cache: bool) -> None:
        self.platform = platform
        self.insecure = insecure
        self.no_cache = no_cache
        self._store: LayerStore | None = None

    def locate(self, spec: str, *, destination: bool = False) -> Location:
        return locate(spec, destination=destination)

    def open(self, spec: str | Location) -> Image:
        """One image, reading only its manifest and config (or as opened ahead)."""
        loc = spec if isinstance(spec, Location) else self.locate(spec)
        ahead = take_opened(loc, self.platform, self.insecure)
        return ahead or open_image(loc, platform=self.platform, insecure=self.insecure)

    def images(self, spec: str | Location) -> list[Image]:
        return list_images(spec, platform=self.platform, insecure=self.insecure)

    @property
    def store(self) -> LayerStore | None:
        """The layer store (None with ``--no-cache``), opened on first use."""
        if self._store is None and not self.no_cache:
            self._store = LayerStore()
        return self._store

    def progress(
        self, label: str, total: int | None, run: Callable[[Progress | None], T], *,
        quiet: bool = False,
    ) -> T:  # fmt: skip
        """``run(progress)`` with a bar on a terminal (``_options.with_progress``)."""
        return with_progress(label, total, run, quiet=quiet)

    def deltas(self, image: Image, *, lazy: bool = False) -> tuple[LayerDelta, ...]:
        """Every layer's delta through the layer store (what the package and bloat
        detectors read kept), with progress on a terminal; ``lazy`` leaves a large
        layer's entries on disk (``reading.read_deltas``)."""
        from deadweight.analysis import packages as pkgs
        from deadweight.reading import read_deltas

        store = self.store
        return self.progress(
            "reading layers",
            len(image.layers),
            lambda progress: read_deltas(
                image, capture=pkgs.capture, store=store, progress=progress, lazy=lazy
            ),
        )

    def stored(self, image: Image) -> bool:
        """Whether the layer store holds every layer's delta (reading them reads no layer)."""
        from deadweight.analysis import packages as pkgs
        from deadweight.filetree.delta import default_hash
        from deadweight.reading import store_kind

        store, kind = self.store, store_kind(default_hash(), pkgs.capture)
        return store is not None and all(
            store.has_blob(kind, layer.diff_id) for layer in image.layers
        )

    def sizes(self, image: Image) -> tuple[int, ...]:
        return sizes_of(image, self.store)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def with_context(func: F) -> F:
    """Give the command ``ctx: Context`` in place of the three shared options."""

    @source_options
    @functools.wraps(func)
    def command(*args: Any, platform: str | None, insecure: bool, no_cache: bool, **kw: Any) -> Any:
        ctx = Context(parse_platform(platform), insecure, no_cache)
        try:
            return func(*args, ctx=ctx, **kw)
        finally:
            ctx.close()

    return cast(F, command)
