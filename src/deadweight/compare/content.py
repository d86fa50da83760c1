"""Looking inside: the bytes of one file of a merged tree, and a unified diff of two
(:func:`file_diff`, ``diff A B --file PATH``).

A file's bytes live in the layer that wrote its inode (a hardlink's in its target's
layer). :func:`copy_members` streams one layer tar once and hands each wanted member to a
sink; when a tar holds a path twice, the last copy is the one the tree shows.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, cast

from deadweight import limits
from deadweight.errors import CorruptImage, NotFound, UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.partition import Views
from deadweight.filetree.paths import clean, lexical, parent
from deadweight.filetree.tarstream import BLOCK, HEADER_ONLY, TarError, TarStream
from deadweight.filetree.tree import Node, Tree
from deadweight.image import Image, Layer
from deadweight.streams import CHUNK

MAX_LINKS = limits.SYMLINK_HOPS
MAX_TEXT = limits.DIFF_TEXT
_REGULAR = (b"0", b"7", b"S")  # tarfile's isreg(): regular, contiguous, GNU sparse
Sink = Callable[[str, IO[bytes]], None]


def normal(path: str) -> str:
    """A user's path (``/etc/passwd``, ``etc//passwd``) as a tree key."""
    found, _ = clean(path)
    if found is None:
        raise UsageError(f"{path}: the path leaves the image root")
    return found


def resolve(tree: Tree, path: str, *, follow: bool = True, what: str = "image") -> Node:
    """The node at ``path``; with ``follow``, symlinks are resolved inside the image root,
    as the kernel would inside the container (``..`` stops at the root)."""
    return resolved(lambda _: tree, path, follow=follow, what=what)[1]


def resolved(
    trees: Callable[[str], Tree], path: str, *, follow: bool = True, what: str = "image"
) -> tuple[Tree, Node]:
    """:func:`resolve` in the trees ``trees`` gives for each key it looks up (one that
    holds the key and its ancestors as the image's tree does: ``partition.Views``), and
    the tree the node is in (whose inodes say where a hardlink's bytes are)."""
    key = normal(path)
    for _ in range(MAX_LINKS):
        tree = trees(key)
        node = tree.get(key)
        if node is None:
            # a symlinked directory on the way: resolve the longest linked prefix
            new = _through_links(tree, key) if follow else None
            if new is not None:
                key = new
                tree = trees(key)
                node = tree.get(key)
            if node is None:
                raise NotFound(f"{path}: no such file in {what}")
        if not follow or node.kind != "symlink":
            return tree, node
        target = node.link if node.link.startswith("/") else f"{parent(key)}/{node.link}"
        key = normal(lexical(target))
    raise NotFound(f"{path}: too many levels of symbolic links in {what}")


def _through_links(tree: Tree, key: str) -> str | None:
    """Where ``key`` leads through the first of its ancestors that is a symlink (None if
    none is before one that is missing)."""
    parts = key.split("/")
    for i in range(1, len(parts)):
        head = "/".join(parts[:i])
        node = tree.get(head)
        if node is not None and node.kind == "symlink":
            target = node.link if node.link.startswith("/") else f"{parent(head)}/{node.link}"
            rest = "/".join(parts[i:])
            return lexical(f"{target}/{rest}")
        if node is None:
            break
    return None


def holder(tree: Tree, node: Node) -> tuple[int, str]:
    """(layer, path in that layer's tar) of the bytes a file node shows."""
    if node.kind == "hardlink" and node.inode >= 0:
        inode = tree.inodes[node.inode]
        return inode.layer, inode.path
    return node.layer, node.path


def occurrences(delta: LayerDelta, paths: Sequence[str]) -> dict[str, int]:
    """How many times each path is a regular file in the layer (its last copy counts)."""
    wanted = set(paths)
    counts: dict[str, int] = {}
    for e in delta.entries:
        if e.path in wanted and e.kind == "file":
            counts[e.path] = counts.get(e.path, 0) + 1
    return counts


class _Member(io.RawIOBase):
    """The data of the current member of a :class:`TarStream`, as a file to read once."""

    def __init__(self, tar: TarStream, size: int) -> None:
        self._tar = tar
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        n = self.left if size is None or size < 0 else min(size, self.left)
        if n <= 0:
            return b""
        data = self._tar.data(n)
        out = bytes(data) if data is not None else self._tar.take(min(n, CHUNK))
        self.left -= len(out)
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def copy_members(layer: Layer, wanted: Mapping[str, int], sink: Sink) -> None:
    """Stream ``layer`` once; call ``sink`` for the ``wanted[path]``-th copy of each path.

    The tar is read by the reader every command uses (``filetree.tarstream``), so what
    ``analyze`` accepted, ``export`` and ``cat`` read the same way (issue 16)."""
    what = f"layer {layer.diff_id[:19]}"
    seen: dict[str, int] = {}
    left = len(wanted)
    try:
        with layer.open() as stream:
            tar = TarStream(stream, what)
            while left and (m := tar.next()) is not None:
                size = 0 if m.type in HEADER_ONLY else m.size
                path, _ = clean(m.name)
                if path is None or path not in wanted or m.type not in _REGULAR:
                    _skip(tar, size)
                    continue
                seen[path] = seen.get(path, 0) + 1
                if seen[path] != wanted[path]:
                    _skip(tar, size)
                    continue
                if m.sparse:
                    raise CorruptImage(f"{what}: /{path} is a GNU sparse file: not extracted")
                member = _Member(tar, size)
                sink(path, cast(IO[bytes], member))
                if member.left:  # what the sink did not read
                    tar.skip(member.left)
                tar.pad(size)
                left -= 1
    except TarError as exc:
        raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc


def _skip(tar: TarStream, n: int) -> None:
    if n:
        tar.skip(n + (-n % BLOCK))


def read_bytes(
    tree: Tree,
    node: Node,
    layers: Sequence[Layer],
    deltas: Sequence[LayerDelta],
    limit: int = MAX_TEXT,
) -> bytes:
    """The content of a file node, at most ``limit`` bytes (UsageError beyond)."""
    if node.kind not in ("file", "hardlink"):
        raise UsageError(f"/{node.path}: not a regular file ({node.kind})")
    if node.size > limit:
        raise UsageError(f"/{node.path}: {node.size} bytes is more than {limit} to show")
    layer, path = holder(tree, node)
    if node.size == 0:
        return b""
    out: list[bytes] = []
    copy_members(
        layers[layer], occurrences(deltas[layer], [path]), lambda _, f: out.append(f.read())
    )
    if not out:
        raise CorruptImage(f"/{node.path}: not found in layer {layers[layer].diff_id[:19]}")
    return out[0]


def is_text(data: bytes) -> bool:
    if b"\0" in data[:8000]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unified(path: str, a: bytes | None, b: bytes | None, a_name: str, b_name: str) -> str:
    """``diff -u`` of one file (None: the side does not have it); "" when equal."""
    if a == b:
        return ""
    left = f"a/{path}\t{a_name}" if a is not None else "/dev/null"
    right = f"b/{path}\t{b_name}" if b is not None else "/dev/null"
    if not is_text(a or b"") or not is_text(b or b""):
        return f"Binary files {left.split(chr(9))[0]} and {right.split(chr(9))[0]} differ\n"
    lines = difflib.unified_diff(
        (a or b"").decode().splitlines(keepends=True),
        (b or b"").decode().splitlines(keepends=True),
        left,
        right,
        lineterm="\n",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _node_at(trees: Views, path: str) -> tuple[Tree, Node] | None:
    try:
        return resolved(trees, path, follow=False)
    except NotFound:
        return None


def file_diff(
    a: Image, a_deltas: Sequence[LayerDelta], b: Image, b_deltas: Sequence[LayerDelta], path: str
) -> str:
    """A unified diff of the file ``path`` in both images ("" when equal); NotFound when
    neither has it, UsageError when either has something else than a regular file. A large
    image is looked at only around ``path`` (``partition.Views``)."""
    key = normal(path)
    fa, fb = _node_at(Views(a_deltas), key), _node_at(Views(b_deltas), key)
    if fa is None and fb is None:
        raise NotFound(f"/{key}: no such file in either image")
    for found in (fa, fb):
        if found is not None and found[1].kind not in ("file", "hardlink"):
            raise UsageError(f"/{key}: not a regular file ({found[1].kind})")
    if fa is not None and fb is not None:
        na, nb = fa[1], fb[1]
        if na.digest == nb.digest and na.size == nb.size:
            return ""  # same content (a shared layer's file is never read)
    left = read_bytes(*fa, a.layers, a_deltas) if fa is not None else None
    right = read_bytes(*fb, b.layers, b_deltas) if fb is not None else None
    return unified(key, left, right, a.name, b.name)
