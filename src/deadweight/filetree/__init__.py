"""File trees: what each layer changes, read in one pass, and the merged file system."""

from __future__ import annotations

from deadweight.filetree.delta import Captured, LayerDelta, default_hash, read_delta
from deadweight.filetree.entry import Entry, Kind, Unsafe
from deadweight.filetree.tree import Hidden, Inode, Node, Stacker, Tree, stack, stack_all

__all__ = [
    "Captured",
    "Entry",
    "Hidden",
    "Inode",
    "Kind",
    "LayerDelta",
    "Node",
    "Stacker",
    "Tree",
    "Unsafe",
    "default_hash",
    "read_delta",
    "stack",
    "stack_all",
]
