"""``plan`` → ``apply``: what optimizing an image would remove, then the new image.

A plan is computed from the layer deltas alone (pure): squash the image's own layers
above its base (``squash="own"``; base layers stay as they are, so pulls keep sharing
them) or every layer (``"all"``), drop package-manager caches and temp files from the
squashed layers (categories from ``analysis.bloat``), and stamp a reproducible time.
``apply`` writes the one new layer (see ``mutate.squash``) and checks that it removed
exactly what the plan said.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from deadweight.analysis.bloat import categorise
from deadweight.compare.base import base_layers
from deadweight.errors import CorruptImage, UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.image import Image
from deadweight.mutate import Merge, merge, squash_merge
from deadweight.mutate.squash import layer_deltas

Level = Literal["safe", "moderate"]
SquashMode = Literal["own", "all"]
LEVELS: tuple[Level, ...] = ("safe", "moderate")

# What each level removes from the squashed layers: analysis.bloat category names.
SAFE_CATEGORIES = (
    "apt-cache",
    "apk-cache",
    "pip-cache",
    "poetry-cache",
    "uv-cache",
    "npm-cache",
    "yarn-cache",
    "pnpm-store",
    "temp",
)
MODERATE_CATEGORIES = (*SAFE_CATEGORIES, "docs", "man", "info", "locales")
CATEGORIES: dict[Level, tuple[str, ...]] = {
    "safe": SAFE_CATEGORIES,
    "moderate": MODERATE_CATEGORIES,
}
TITLES = {
    "squash": "squash layers (drop the bytes later layers hide)",
    "apt-cache": "remove apt package lists and downloaded archives",
    "apk-cache": "remove the apk cache",
    "pip-cache": "remove the pip cache",
    "poetry-cache": "remove the poetry cache",
    "uv-cache": "remove the uv cache",
    "npm-cache": "remove the npm cache",
    "yarn-cache": "remove the yarn cache",
    "pnpm-store": "remove the pnpm store (files node_modules links to stay)",
    "temp": "remove temporary files (/tmp, /var/tmp)",
    "docs": "remove documentation (/usr/share/doc)",
    "man": "remove manual pages",
    "info": "remove info pages",
    "locales": "remove locales",
    "epoch": "reproducible timestamps",
}


@dataclass(frozen=True, slots=True)
class Removed:
    """``bytes`` freed by removing ``files`` non-directory paths under ``path``."""

    path: str
    bytes: int
    files: int


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a plan: what it removes and the bytes it saves."""

    name: str
    title: str
    bytes: int
    removed: tuple[Removed, ...] = ()  # grouped, bytes descending then path
    paths: tuple[str, ...] = ()  # every removed path, in path order (for --explain)
    note: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``apply`` will do to the image ``image_id``."""

    image_id: str
    level: Level
    squash: SquashMode
    keep_bottom: int
    layers: int
    categories: tuple[str, ...]
    epoch: int | None
    steps: tuple[Step, ...]
    size_before: int
    base_detected: bool

    @property
    def bytes_saved(self) -> int:
        return sum(s.bytes for s in self.steps)

    @property
    def size_after(self) -> int:
        return self.size_before - self.bytes_saved

    @property
    def changes(self) -> bool:
        return self.keep_bottom < self.layers

    def drop(self) -> Callable[[str], bool] | None:
        return dropper(self.categories) if self.categories else None

    @property
    def created_by(self) -> str:
        epoch = f" --epoch {self.epoch}" if self.epoch is not None else ""
        return f"deadweight optimize --level {self.level} --squash {self.squash}{epoch}"


def dropper(categories: Sequence[str]) -> Callable[[str], bool]:
    """Whether a path belongs to one of ``categories`` (by ``analysis.bloat`` rules)."""
    wanted = frozenset(categories)

    def drop(path: str) -> bool:
        found = categorise(path)
        return found is not None and found[0] in wanted

    return drop


def _removal_steps(merged: Merge, categories: Sequence[str]) -> list[Step]:
    groups: dict[str, dict[str, list[int]]] = {}
    paths: dict[str, list[str]] = {}
    for d in merged.dropped:
        found = categorise(d.path)
        assert found is not None
        cat, group = found
        row = groups.setdefault(cat, {}).setdefault(group, [0, 0])
        row[0] += d.bytes
        row[1] += 1
        paths.setdefault(cat, []).append(d.path)
    steps = []
    for cat in categories:
        if cat not in groups:
            continue
        removed = sorted(
            (Removed(g, b, n) for g, (b, n) in groups[cat].items()),
            key=lambda r: (-r.bytes, r.path),
        )
        steps.append(
            Step(cat, TITLES[cat], sum(r.bytes for r in removed), tuple(removed), tuple(paths[cat]))
        )
    return steps


def plan(
    image: Image,
    *,
    level: Level = "safe",
    squash: SquashMode = "own",
    epoch: int | None = None,
    deltas: Sequence[LayerDelta] | None = None,
    keep_bottom: int | None = None,
) -> Plan:
    """The plan for ``image``; ``deltas`` are its layer deltas when already read.

    ``keep_bottom`` overrides the base detection (``compare.base.base_layers``). When the
    base cannot be told, every layer is squashed, and the plan says so.
    """
    if level not in LEVELS:
        raise UsageError(f"unknown level {level!r} (choose from {', '.join(LEVELS)})")
    if squash not in ("own", "all"):
        raise UsageError(f"unknown squash mode {squash!r} (choose from own, all)")
    count = len(image.layers)
    if deltas is None:
        deltas = layer_deltas(image)
    if len(deltas) != count:
        raise CorruptImage(f"{len(deltas)} layer deltas for an image with {count} layers")
    detected = base_layers(image) if squash == "own" else 0
    keep = keep_bottom if keep_bottom is not None else detected
    keep = max(0, min(keep, count))
    categories = CATEGORIES[level]
    sizes = [d.size for d in deltas]
    steps: list[Step] = []
    if keep < count:
        merged = merge(deltas, keep, dropper(categories))
        kept = merge(deltas, keep)
        squashed = sum(sizes[keep:]) - _layer_bytes(deltas, keep, kept)
        note = (
            f"{count - keep} layer(s) above the {keep} base layer(s) merged into one"
            if keep
            else f"all {count} layer(s) merged into one"
        )
        if squash == "own" and not detected and keep_bottom is None:
            note += " (the base image could not be told from the history)"
        steps.append(Step("squash", TITLES["squash"], squashed, note=note))
        steps.extend(_removal_steps(merged, categories))
    if epoch is not None and keep < count:
        steps.append(Step("epoch", TITLES["epoch"], 0, note=f"timestamps set to {epoch}"))
    return Plan(
        image_id=image.id,
        level=level,
        squash=squash,
        keep_bottom=keep,
        layers=count,
        categories=categories if keep < count else (),
        epoch=epoch,
        steps=tuple(steps),
        size_before=sum(sizes),
        base_detected=bool(detected),
    )


def _layer_bytes(deltas: Sequence[LayerDelta], keep: int, merged: Merge) -> int:
    """Docker's size of the squashed layer ``merged`` would write."""
    from deadweight.filetree.tree import stack

    tree = stack(deltas)
    total = 0
    for item in merged.items:
        if item.action in ("copy", "data"):
            node = tree.nodes[item.path]
            if node.kind in ("file", "hardlink"):
                total += node.size
            elif node.kind == "symlink":
                total += len(node.link.encode("utf-8", "surrogateescape"))
    return total


def apply(image: Image, plan_: Plan, *, deltas: Sequence[LayerDelta] | None = None) -> Image:
    """The optimized image. Refuses a plan made for another image."""
    if plan_.image_id != image.id:
        raise UsageError(f"the plan was made for {plan_.image_id[:19]}, not {image.id[:19]}")
    if not plan_.changes:
        return image
    result, merged = squash_merge(
        image,
        plan_.keep_bottom,
        drop=plan_.drop(),
        epoch=plan_.epoch,
        deltas=deltas,
        created_by=plan_.created_by,
    )
    planned = sum(s.bytes for s in plan_.steps if s.name in plan_.categories)
    if merged is None or merged.dropped_bytes != planned:
        raise CorruptImage(
            "the image's layers changed between plan and apply "
            f"({merged.dropped_bytes if merged else 0} bytes dropped, {planned} planned)"
        )
    return result
