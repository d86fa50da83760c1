"""Files that differ between two final file systems, and their roll-up per directory.

A directory is reported only when it changes kind or metadata on both sides (its files
carry its bytes); a path one side writes and the other inherits from an unread base is
compared with *absent* and listed as assumed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from deadweight.compare.result import DirChange, FileChange, FileState
from deadweight.compare.view import BASE, View
from deadweight.filetree.paths import ROOT, parent
from deadweight.filetree.tree import Node


@dataclass(frozen=True, slots=True)
class FileDiff:
    changes: tuple[FileChange, ...]
    directories: tuple[DirChange, ...]
    assumed: tuple[str, ...]
    unresolved: tuple[str, ...]


def state(node: Node, shared: dict[FileState, FileState] | None = None) -> FileState:
    """Bytes as docker counts them: a file's length, a symlink's target length; a hardlink
    shares its target's bytes and adds none. With ``shared``, a state without content of
    its own (an empty file, a link, a device) is made one object with the equal ones met
    before: a million empty files removed held a million equal states (issue 16)."""
    if node.kind == "file":
        size = node.size
    elif node.kind == "symlink":
        size = len(node.link.encode("utf-8", "surrogateescape"))
    else:
        size = 0
    link = node.link if node.kind in ("symlink", "hardlink") else ""
    made = FileState(node.kind, size, node.mode, node.uid, node.gid, link, node.digest)
    if shared is not None and (size == 0 or not node.digest):
        return shared.setdefault(made, made)
    return made


def changed(a: Node, b: Node) -> tuple[str, ...]:
    what = []
    if a.kind != b.kind:
        what.append("kind")
    if state(a).size != state(b).size:
        what.append("size")
    if a.mode != b.mode:
        what.append("mode")
    if (a.uid, a.gid) != (b.uid, b.gid):
        what.append("owner")
    if a.kind == b.kind and a.kind in ("file", "hardlink") and a.digest != b.digest:
        what.append("content")
    if a.link != b.link and "symlink" in (a.kind, b.kind):
        what.append("link")
    return tuple(what)


def _compare(
    path: str, a: Node | None, b: Node | None, shared: dict[FileState, FileState] | None = None
) -> FileChange | None:
    if a is None and b is None:
        return None
    if a is None or b is None:
        node = a if a is not None else b
        assert node is not None
        if node.kind == "dir":
            return None
        return FileChange(
            path,
            "added" if a is None else "removed",
            state(a, shared) if a is not None else None,
            state(b, shared) if b is not None else None,
            (),
        )
    if a.kind == b.kind == "dir" and (a.implicit or b.implicit):
        return None  # a directory a tar only implies has no metadata to compare
    what = changed(a, b)
    if not what:
        return None
    return FileChange(path, "modified", state(a, shared), state(b, shared), what)


def roll_up(changes: tuple[FileChange, ...]) -> tuple[DirChange, ...]:
    """Every directory holding a change ("" is the root), largest |delta| first."""
    sums: dict[str, list[int]] = {}
    column = {"added": 1, "removed": 2, "modified": 3}
    for c in changes:
        p = c.path
        while p != ROOT:
            p = parent(p)
            row = sums.setdefault(p, [0, 0, 0, 0])
            row[0] += c.delta
            row[column[c.status]] += 1
    rows = (DirChange(p, *v) for p, v in sums.items())
    return tuple(sorted(rows, key=lambda d: (-abs(d.delta), d.path)))


def union(a: Iterable[str], b: Iterable[str]) -> Iterator[str]:
    """The paths of two trees, each once, in order: two sorted lists merged (a set of both
    sides' paths was ~50 bytes a path, issue 16)."""
    last = None
    for path in heapq.merge(sorted(a), sorted(b)):
        if path != last:
            yield path
            last = path


def diff_files(a: View, b: View) -> FileDiff:
    """Changes from ``a`` to ``b``, largest |delta| first, then by path."""
    changes = FileChanges()
    changes.add(a, b, union(a.tree.nodes, b.tree.nodes))
    changes.resolve(a, b)
    return changes.result()


class FileChanges:
    """:func:`diff_files`, over the paths given (:meth:`add`): those of two whole views,
    or of the parts of two trees stacked a range of paths at a time
    (:mod:`deadweight.filetree.partition`), each part's views with the paths it owns."""

    def __init__(self) -> None:
        self.out: list[FileChange] = []
        self.assumed: list[str] = []
        self.unresolved: list[str] = []
        self.shared: dict[FileState, FileState] = {}
        self.adds = 0

    def add(self, a: View, b: View, paths: Iterable[str]) -> None:
        """Compare the two views at ``paths`` (in path order)."""
        self.adds += 1
        out, assumed, shared = self.out, self.assumed, self.shared
        for path in paths:
            sa, sb = a.state(path), b.state(path)
            if sa is BASE and sb is BASE:
                continue
            if sa is BASE or sb is BASE:
                known = sb if sa is BASE else sa
                if not isinstance(known, Node) or known.kind == "dir":
                    continue
                assumed.append(path)
            na = sa if isinstance(sa, Node) else None
            nb = sb if isinstance(sb, Node) else None
            change = _compare(path, na, nb, shared)
            if change is not None:
                out.append(change)

    def resolve(self, a: View, b: View, owns: Callable[[str], bool] | None = None) -> None:
        """Note the paths one side deletes from an unread base the other keeps (of those
        ``owns``, when given)."""
        self.unresolved += [
            p
            for side, other in ((a, b), (b, a))
            for p in side.deleted
            if (owns is None or owns(p)) and other.state(p) is BASE and side.state(p) is None
        ]

    def result(self) -> FileDiff:
        out, self.out = self.out, []
        self.shared = {}
        if self.adds > 1:  # the parts came in subtree order: path order first
            out.sort(key=_path)
            self.assumed.sort()
        # ``out`` is in path order: a stable sort by |delta| alone gives (-|delta|, path)
        # without a key tuple per change
        out.sort(key=_largest_first)
        changes = tuple(out)
        del out
        unresolved = tuple(dict.fromkeys(sorted(self.unresolved)))
        return FileDiff(changes, roll_up(changes), tuple(self.assumed), unresolved)


def _path(change: FileChange) -> str:
    return change.path


def _largest_first(change: FileChange) -> int:
    return -abs(change.delta)
