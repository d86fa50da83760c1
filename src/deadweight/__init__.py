"""deadweight: find and remove the dead weight in container images.

The library first, the CLI on top::

    import deadweight

    image = deadweight.open_image("docker-archive:app.tar")
    sizes = deadweight.layer_sizes(image)
    for row in deadweight.history_rows(image, sizes):
        print(row.created_by, row.size)
"""

from __future__ import annotations

import importlib as _importlib

# not `typing.TYPE_CHECKING`: importing typing is a noticeable part of the start-up of
# `deadweight lint FILE` (issue 14); private, so it stays out of the public names
_TYPE_CHECKING = False
if _TYPE_CHECKING:
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
    from deadweight.validation import Validation, validate

__version__ = "0.1.0"

# The public names, loaded from their modules on first use: ``import deadweight.x`` (the
# CLI's commands, the layer-reading helper process) then costs only what ``x`` needs.
_EXPORTS = {
    "layer_sizes": "deadweight.analysis.sizes",
    "LayerStore": "deadweight.cache",
    **dict.fromkeys(
        (
            "AuthError",
            "CorruptImage",
            "DeadweightError",
            "DigestMismatch",
            "EngineError",
            "InvalidReference",
            "NetworkError",
            "NotFound",
            "RegistryError",
            "UnsafeLayer",
            "UnsupportedMediaType",
            "UsageError",
        ),
        "deadweight.errors",
    ),
    "HistoryRow": "deadweight.history",
    "history_rows": "deadweight.history",
    "Image": "deadweight.image",
    "Layer": "deadweight.image",
    "Platform": "deadweight.platform",
    "Reference": "deadweight.reference",
    "Location": "deadweight.sources",
    "list_images": "deadweight.sources",
    "locate": "deadweight.sources",
    "open_image": "deadweight.sources",
    "Validation": "deadweight.validation",
    "validate": "deadweight.validation",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deadweight' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
    "Validation",
    "history_rows",
    "layer_sizes",
    "list_images",
    "locate",
    "open_image",
    "validate",
]
