"""The paths a stage's instructions made so far (COPY, ADD, ``wget``, ``curl -o``, ``git
clone``), for DW005: which of them a later ``rm`` removes.

Found by exact path or by a directory above them in constant time, so a stage of 100,000
downloads and 100,000 ``rm`` stays linear (issue 16); only a glob target (``rm *.tgz``)
is matched against the paths one by one.
"""

from __future__ import annotations

import fnmatch

_GLOB = frozenset("*?[")


def removes(path: str, target: str) -> bool:
    """Whether ``rm target`` (a normalized absolute path, maybe a glob) removes ``path``."""
    return (
        path == target or path.startswith(target.rstrip("/") + "/") or fnmatch.fnmatch(path, target)
    )


class CreatedPaths:
    """(path, line of the instruction that made it), in the order they were made."""

    __slots__ = ("_exact", "_under", "items")

    def __init__(self) -> None:
        self.items: list[tuple[str, int]] = []
        self._exact: dict[str, int] = {}  # path -> its first position in items
        self._under: dict[str, int] = {}  # "dir/" -> first position of a path below it

    def add(self, path: str, line: int) -> None:
        at = len(self.items)
        self.items.append((path, line))
        self._exact.setdefault(path, at)
        head = path
        while "/" in head:
            head = head.rpartition("/")[0]
            if head + "/" in self._under:
                break  # set by an earlier path, and so is every directory above it
            self._under[head + "/"] = at

    def first_removed(self, targets: list[str]) -> int | None:
        """The position of the first path made that one of ``targets`` removes."""
        best: int | None = None
        globs = []
        for t in targets:
            if _GLOB.intersection(t):
                globs.append(t)
                continue
            for at in (self._exact.get(t), self._under.get(t.rstrip("/") + "/")):
                if at is not None and (best is None or at < best):
                    best = at
        if globs:
            end = len(self.items) if best is None else best
            for at in range(end):
                if any(removes(self.items[at][0], t) for t in globs):
                    return at
        return best
