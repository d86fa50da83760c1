"""Reading layers into deltas: the one service every command uses to look inside layers.

:func:`read_deltas` (and :func:`iter_deltas`, one layer at a time) reads each distinct
layer of an image once, through a :class:`~deadweight.cache.LayerCache`, in helper
processes where the layers are files on disk. Parallelism follows from the layers
(``Layer.seekable``), never from the caller; a caller about to read layers from files may
start the helpers early (:func:`warm_up`), so that their start-up overlaps its own, and
even start reading an image's layers (:func:`read_ahead`) for the read that follows.

The names below load on first use, so that a helper process (``reading._helper``) pays
only for what it needs.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from deadweight.reading._deltas import (
        iter_deltas,
        iter_layers,
        paused_gc,
        read_ahead,
        read_deltas,
        read_layer,
        store_kind,
        stored_delta,
    )
    from deadweight.reading._pool import warm_up

__all__ = [
    "iter_deltas",
    "iter_layers",
    "paused_gc",
    "read_ahead",
    "read_deltas",
    "read_layer",
    "store_kind",
    "stored_delta",
    "warm_up",
]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module 'deadweight.reading' has no attribute {name!r}")
    module = "_pool" if name == "warm_up" else "_deltas"
    value = getattr(_importlib.import_module(f"deadweight.reading.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
