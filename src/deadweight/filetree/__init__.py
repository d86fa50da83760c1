"""File trees: what each layer changes, read in one pass, and the merged file system.

The names below load on first use, so that a helper process importing
``deadweight.reading._helper`` pays only for what it needs.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from deadweight.filetree.delta import Captured, LayerDelta, default_hash, read_delta
    from deadweight.filetree.entry import Entry, Kind, Unsafe
    from deadweight.filetree.tree import Hidden, Inode, Node, Stacker, Tree, stack, stack_all

_EXPORTS = {
    **dict.fromkeys(("Captured", "LayerDelta", "default_hash", "read_delta"), "delta"),
    **dict.fromkeys(("Entry", "Kind", "Unsafe"), "entry"),
    **dict.fromkeys(("Hidden", "Inode", "Node", "Stacker", "Tree", "stack", "stack_all"), "tree"),
}

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


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deadweight.filetree' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"deadweight.filetree.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
