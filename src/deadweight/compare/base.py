"""The base image of an image, for ``diff``, ``optimize`` and ``analyze``: how many bottom
layers are the base's (``dockerfile.base``, from the history, the same answer ``lint IMAGE``
gives) and, when the build recorded one in a label, its name.
"""

from __future__ import annotations

from collections.abc import Sequence

from deadweight.compare.result import BaseInfo
from deadweight.dockerfile.reconstruct import image_base
from deadweight.image import Image

LABELS = ("org.opencontainers.image.base.name", "org.label-schema.base-image")


def base_layers(image: Image) -> int:
    """How many bottom layers belong to the base (0 when the history cannot tell)."""
    return min(image_base(image).layers, len(image.layers))


def base_info(image: Image, sizes: Sequence[int]) -> BaseInfo:
    count = base_layers(image)
    labels = image.config.container_config.get("Labels")
    name = ""
    if isinstance(labels, dict):
        name = next((str(labels[k]) for k in LABELS if labels.get(k)), "")
    top = image.layers[count - 1].diff_id if count else ""
    return BaseInfo(name, count, sum(sizes[:count]), top)
