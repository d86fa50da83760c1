"""Transformations of images: each returns a new image and never changes its input.

``squash`` merges the layers above a point into one (keeping the whiteouts the kept layers
need), ``prune`` drops paths from the top layer, ``gzip_layers`` stores layers compressed,
``with_config`` changes the runtime config; an ``Edit`` writes files and sets owners in a
squashed layer.
"""

from __future__ import annotations

from deadweight.mutate._disjoint import Ordered, disjoint_merge
from deadweight.mutate._merge import Dropped, Item, Merge, Stacking, merge, stacking
from deadweight.mutate.compress import gzip_layer, gzip_layers
from deadweight.mutate.edit import Edit, NewFile, Owner, with_config
from deadweight.mutate.squashing import (
    Squashed,
    layer_deltas,
    prune,
    squash,
    squash_merge,
    squashed_config,
)

__all__ = [
    "Dropped",
    "Edit",
    "Item",
    "Merge",
    "NewFile",
    "Ordered",
    "Owner",
    "Squashed",
    "Stacking",
    "disjoint_merge",
    "gzip_layer",
    "gzip_layers",
    "layer_deltas",
    "merge",
    "prune",
    "squash",
    "squash_merge",
    "squashed_config",
    "stacking",
    "with_config",
]
