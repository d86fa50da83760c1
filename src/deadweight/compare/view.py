"""One image's file system above the shared base, as far as it is known.

When the shared base's deltas are at hand the view is the whole merged tree
(``complete``). Otherwise it is the stack of the image's own layers only, plus what those
layers delete from the unread base: a path they do not write is then either gone (a
whiteout, an opaque directory, a non-directory parent in the way) or the base's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.paths import ROOT, parent
from deadweight.filetree.tree import Node, Stacker, Tree


class Inherited(Enum):
    """A path an incomplete view does not write: it holds whatever the base holds."""

    BASE = "base"


BASE = Inherited.BASE
State = Node | Inherited | None


@dataclass(frozen=True, slots=True)
class View:
    """The tree of one side; ``offset`` is the image index of the view's layer 0.

    Node layers and ``captured`` layers count from the view's first layer.
    """

    tree: Tree
    complete: bool
    offset: int
    captured: tuple[tuple[int, str, bytes], ...] = ()
    deleted: frozenset[str] = field(default_factory=frozenset)
    opaque: frozenset[str] = field(default_factory=frozenset)

    def state(self, path: str) -> State:
        """The node at ``path``; None if absent; BASE if only the unread base can tell."""
        node = self.tree.get(path)
        if node is not None:
            return node
        if self.complete:
            return None
        p = path
        while True:
            if p in self.deleted:
                return None
            up = parent(p)
            if p != ROOT and up in self.opaque:
                return None
            above = self.tree.get(up) if up != ROOT else None
            if above is not None and above.kind != "dir":
                return None
            if p == ROOT or up == ROOT:
                return BASE
            p = up


def view(deltas: Sequence[LayerDelta], offset: int, complete: bool) -> View:
    """Stack ``deltas`` (the whole image when ``complete``, else the layers above the base)."""
    stacker = Stacker()
    deleted: set[str] = set()
    opaque: set[str] = set()
    for delta in deltas:
        stacker.apply(delta)
        deleted.update(delta.whiteouts)
        opaque.update(delta.opaques)
    captured = tuple((i, c.path, c.data) for i, d in enumerate(deltas) for c in d.captured)
    # the stacker is done with: the view takes its maps instead of a copy (issue 16)
    return View(
        stacker.tree(last=True), complete, offset, captured, frozenset(deleted), frozenset(opaque)
    )
