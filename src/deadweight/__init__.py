"""deadweight: find and remove the dead weight in container images.

The library first, the CLI on top::

    import deadweight

    image = deadweight.open_image("docker-archive:app.tar")
    sizes = deadweight.layer_sizes(image)
    for row in deadweight.history_rows(image, sizes):
        print(row.created_by, row.size)
"""

from __future__ import annotations

from deadweight.analysis.sizes import layer_sizes
from deadweight.cache import LayerStore
from deadweight.errors import (
    AuthError,
    CorruptImage,
    DeadweightError,
    DigestMismatch,
    EngineError,
    InvalidReference,
    NetworkError,
    NotFound,
    RegistryError,
    UnsafeLayer,
    UnsupportedMediaType,
    UsageError,
)
from deadweight.history import HistoryRow, history_rows
from deadweight.image import Image, Layer
from deadweight.platform import Platform
from deadweight.reference import Reference
from deadweight.sources import Location, list_images, locate, open_image

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "CorruptImage",
    "DeadweightError",
    "DigestMismatch",
    "EngineError",
    "HistoryRow",
    "Image",
    "InvalidReference",
    "Layer",
    "LayerStore",
    "Location",
    "NetworkError",
    "NotFound",
    "Platform",
    "Reference",
    "RegistryError",
    "UnsafeLayer",
    "UnsupportedMediaType",
    "UsageError",
    "history_rows",
    "layer_sizes",
    "list_images",
    "locate",
    "open_image",
]
