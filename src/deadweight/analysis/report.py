"""The result of ``analyze``: one frozen, deterministically ordered value."""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.analysis.bloat import Bloat
from deadweight.analysis.efficiency import DiveFigures
from deadweight.analysis.packages import Package
from deadweight.analysis.waste import Waste

# Bump when a field of the JSON document changes meaning or disappears.
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class SizeItem:
    path: str
    bytes: int


@dataclass(frozen=True, slots=True)
class LayerReport:
    """What one layer does: files it adds or changes, paths it deletes, bytes it ships.

    ``wasted`` is the bytes this layer wrote that a later layer hides. ``added_bytes`` and
    ``changed_bytes`` are the bytes (as docker counts them: a file's length, a symlink's
    target) it writes at new paths and over paths already there; ``deleted_bytes`` the
    bytes its whiteouts hide for good (a hardlink whose file lives on elsewhere frees none).
    """

    index: int
    diff_id: str
    instruction: str
    size: int
    added: int
    changed: int
    deleted: int
    wasted: int
    largest: tuple[SizeItem, ...]
    added_bytes: int = 0
    changed_bytes: int = 0
    deleted_bytes: int = 0


@dataclass(frozen=True, slots=True)
class UnsafeItem:
    layer: int
    name: str
    reason: str
    action: str


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A Dockerfile change, the bytes it would save, and the layers and paths it concerns."""

    id: str
    title: str
    change: str
    bytes: int
    layers: tuple[int, ...]
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    """Where every byte of an image goes.

    ``size`` is the sum of docker's layer sizes; ``final_size`` the size of the merged file
    system (what a squash would ship). ``scope_size`` counts the layers above the base
    (all of them when no base is excluded); ``efficiency`` and ``wasted_percent`` are
    ours, relative to it. ``dive`` holds dive's own figures, for comparison.
    """

    image: str
    image_id: str
    layers: tuple[LayerReport, ...]
    size: int
    final_size: int
    base_layers: int
    scope_size: int
    efficiency: float
    wasted_percent: float
    waste: Waste
    bloat: Bloat
    packages: tuple[Package, ...]
    largest_files: tuple[SizeItem, ...]
    largest_dirs: tuple[SizeItem, ...]
    dive: DiveFigures
    unsafe: tuple[UnsafeItem, ...]
    recommendations: tuple[Recommendation, ...]
    ignore: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION
