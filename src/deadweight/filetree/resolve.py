"""Paths looked up in a merged tree the way the kernel does inside the container.

Symlinks are followed within the tree: an absolute target starts again at the image's
root, ``..`` stops at the root (as it does for a process whose root is the container's),
and more than :data:`MAX_HOPS` links in one lookup is a loop (the kernel's ELOOP limit is
40). Every link crossed is reported, because a file reached through links needs those links
too.
"""

from __future__ import annotations

from dataclasses import dataclass

from deadweight import limits
from deadweight.filetree.tree import Node, Tree

MAX_HOPS = limits.SYMLINK_HOPS


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a lookup ended (``path``, a tree key) and the symlinks it crossed on the way.

    ``node`` is None when nothing is at ``path`` (a dangling link, a missing file) or the
    lookup looped.
    """

    path: str
    node: Node | None
    links: tuple[str, ...] = ()


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


class Resolver:
    """Looks paths up in ``tree``; results are remembered, so ask as often as you like."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._memo: dict[tuple[str, bool], Resolved] = {}

    def resolve(self, path: str, *, follow: bool = True) -> Resolved:
        """Resolve ``path`` (absolute or relative to the root). With ``follow`` False a
        symlink at the last component is not followed (``lstat``)."""
        key = (path, follow)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._walk(path, follow)
        return hit

    def _walk(self, path: str, follow: bool) -> Resolved:
        nodes = self.tree.nodes
        todo = _parts(path)
        todo.reverse()  # a stack: the next component is last
        done: list[str] = []
        links: list[str] = []
        hops = 0
        while todo:
            part = todo.pop()
            if part == "..":
                if done:
                    done.pop()
                continue
            here = "/".join((*done, part))
            node = nodes.get(here)
            if node is None:
                rest = "/".join([here, *reversed(todo)])
                return Resolved(rest, None, tuple(links))
            if node.kind == "symlink" and (todo or follow):
                hops += 1
                if hops > MAX_HOPS:
                    return Resolved(here, None, tuple(links))
                links.append(here)
                target = _parts(node.link)
                if node.link.startswith("/"):
                    done = []
                todo.extend(reversed(target))
                continue
            if todo and node.kind not in ("dir", "symlink"):
                return Resolved("/".join([here, *reversed(todo)]), None, tuple(links))
            done.append(part)
        final = "/".join(done)
        return Resolved(final, nodes.get(final) if final else None, tuple(links))
