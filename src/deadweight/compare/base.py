"""The base image, as far as an image's config can tell.

A label (``org.opencontainers.image.base.name``) names it when the build recorded one.
Otherwise the history draws the line: a base ends with its ``CMD``/``ENTRYPOINT``, so the
base is every layer below the last such step that a layer-writing step follows. Failing
that, BuildKit marks the Dockerfile's own steps with the comment ``buildkit.dockerfile.v0``:
the base is every layer before the first of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from deadweight.analysis.instructions import instruction_text
from deadweight.compare.result import BaseInfo
from deadweight.image import Image

BUILDKIT = "buildkit.dockerfile.v0"
LABELS = ("org.opencontainers.image.base.name", "org.label-schema.base-image")


def base_layers(image: Image) -> int:
    """How many bottom layers belong to the base (0 when the history cannot tell)."""
    history = image.history or ()
    layers = seen = 0
    for i, entry in enumerate(history):
        if not entry.empty_layer:
            seen += 1
            continue
        word = instruction_text(entry.created_by).split(" ", 1)[0]
        if word in ("CMD", "ENTRYPOINT") and any(not e.empty_layer for e in history[i + 1 :]):
            layers = seen
    if layers:
        return layers
    seen = 0
    for entry in history:
        if entry.comment == BUILDKIT:
            return seen
        seen += 0 if entry.empty_layer else 1
    return 0


def base_info(image: Image, sizes: Sequence[int]) -> BaseInfo:
    count = min(base_layers(image), len(image.layers))
    labels = image.config.container_config.get("Labels")
    name = ""
    if isinstance(labels, dict):
        name = next((str(labels[k]) for k in LABELS if labels.get(k)), "")
    top = image.layers[count - 1].diff_id if count else ""
    return BaseInfo(name, count, sum(sizes[:count]), top)
