"""Waste: bytes a layer ships that a later layer hides, by cause, with who did what.

Every byte is attributed to the layer (and history instruction) that wrote it and the one
that hid it. Bytes are counted as docker counts them (docker-formats.md §3.4): a regular
file by its length, a symlink by its target's length, each inode once, so a file with a
surviving hardlink is not wasted. The sum of all waste is exactly what squashing the
layers would drop: ``sum(layer sizes) - size(final tree)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.tree import Hidden, Node, Stacker, Tree

Cause = Literal["deleted", "overwritten_changed", "overwritten_same", "metadata_only", "opaque"]
CAUSES: tuple[Cause, ...] = (
    "deleted",
    "overwritten_changed",
    "overwritten_same",
    "metadata_only",
    "opaque",
)
CAUSE_TEXT: dict[Cause, str] = {
    "deleted": "deleted in a later layer",
    "overwritten_changed": "overwritten in a later layer (content changed)",
    "overwritten_same": "overwritten in a later layer with the same content",
    "metadata_only": "copied again by a later chmod/chown (metadata-only change)",
    "opaque": "hidden by an opaque directory",
}


@dataclass(frozen=True, slots=True)
class WasteItem:
    """``bytes`` written at ``path`` by layer ``written_by`` and hidden by ``hidden_by``."""

    path: str
    bytes: int
    cause: Cause
    written_by: int
    hidden_by: int
    written_instruction: str = ""
    hidden_instruction: str = ""


@dataclass(frozen=True, slots=True)
class Waste:
    """Waste items (size descending, then path, then layers) and their totals."""

    items: tuple[WasteItem, ...]
    by_cause: tuple[tuple[Cause, int], ...]
    reclaimable: int
    base_bytes: int = 0

    def total(self, cause: Cause) -> int:
        return dict(self.by_cause)[cause]


def classify(hidden: Hidden, now: Node | None) -> Cause:
    """Why ``hidden`` disappeared, given what its layer left at the same path."""
    if now is None or now.layer != hidden.by_layer:
        return "opaque" if hidden.how == "opaque" else "deleted"
    old = hidden.node
    same_kind = {old.kind, now.kind} <= {"file", "hardlink"} or old.kind == now.kind
    same_content = (
        old.digest != "" and old.digest == now.digest
        if old.kind in ("file", "hardlink")
        else old.link == now.link
    )
    if not (same_kind and same_content):
        return "overwritten_changed"
    if (old.mode, old.uid, old.gid) != (now.mode, now.uid, now.gid):
        return "metadata_only"
    return "overwritten_same"


def waste_events(deltas: Sequence[LayerDelta]) -> tuple[list[tuple[Hidden, Cause, int]], Tree]:
    """Every inode that stopped being visible, why, and its bytes; and the final tree."""
    stacker = Stacker()
    events: list[tuple[Hidden, Cause, int]] = []
    for delta in deltas:
        for h in stacker.apply(delta):
            if not h.last:
                continue
            held = stacker.inodes[h.node.inode].bytes
            if held:
                events.append((h, classify(h, stacker.nodes.get(h.node.path)), held))
    return events, stacker.tree()


def waste(
    deltas: Sequence[LayerDelta],
    instructions: Sequence[str] = (),
    *,
    base_layers: int = 0,
    ignore: Callable[[str], bool] | None = None,
) -> Waste:
    """Waste of an image's layers.

    Bytes written by the first ``base_layers`` layers are the base image's: they are
    counted in ``base_bytes``, not in the items or ``reclaimable``. Paths for which
    ``ignore`` is true are left out entirely.
    """
    events, _ = waste_events(deltas)
    return summarise(events, instructions, base_layers=base_layers, ignore=ignore)


def summarise(
    events: Sequence[tuple[Hidden, Cause, int]],
    instructions: Sequence[str] = (),
    *,
    base_layers: int = 0,
    ignore: Callable[[str], bool] | None = None,
) -> Waste:
    def said(layer: int) -> str:
        return instructions[layer] if layer < len(instructions) else ""

    items: list[WasteItem] = []
    base_bytes = 0
    for h, cause, held in events:
        if ignore is not None and ignore(h.node.path):
            continue
        if h.node.layer < base_layers:
            base_bytes += held
            continue
        items.append(
            WasteItem(
                h.node.path,
                held,
                cause,
                h.node.layer,
                h.by_layer,
                said(h.node.layer),
                said(h.by_layer),
            )
        )
    items.sort(key=lambda i: (-i.bytes, i.path, i.written_by, i.hidden_by))
    totals = dict.fromkeys(CAUSES, 0)
    for item in items:
        totals[item.cause] += item.bytes
    return Waste(
        tuple(items),
        tuple((c, totals[c]) for c in CAUSES),
        sum(totals.values()),
        base_bytes,
    )
