"""What a squashed layer copies from the layers it merges: the headers and file data of the
members its items name, from one pass over each layer that holds them (with
``filetree.tarstream``, the reader every command uses). Data goes to a temp file, never to
memory.

Equal headers are kept once (a layer of a million files has a handful of distinct ones),
and so is the record of an empty member; what a layer must give is one map, filled in
place as it is read. A member without extended records and link is recognised by its raw
header fields but the name, so its head is made once per distinct set of them (issue 16:
about 1 µs a member saved on a million).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from deadweight.errors import CorruptImage
from deadweight.filetree.delta import kind_of
from deadweight.filetree.nodes import Node
from deadweight.filetree.paths import clean
from deadweight.filetree.record import StoredEntries
from deadweight.filetree.tarstream import BLOCK, HEADER_ONLY, Member, TarError, TarStream
from deadweight.image import Image
from deadweight.mutate._disjoint import Ordered
from deadweight.mutate._merge import Item, Items
from deadweight.mutate._spool import Spool
from deadweight.spilled import Sorter
from deadweight.streams import CHUNK

if TYPE_CHECKING:
    from deadweight.filetree.entry import Entry

# pax records worth keeping: extended attributes (file capabilities live there)
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
REGULAR = (b"0", b"7", b"S")  # regular, contiguous, GNU sparse
# type, mode, uid, gid, mtime, link, device, extended attributes (pax records, in order)
Head = tuple[bytes, int, int, int, int, str, tuple[int, int], tuple[tuple[str, str], ...]]
_Key = str | tuple[str, int]  # a path, or (path, n) for its n-th member (n > 0) in a layer
Found = tuple[Head, int, int]  # a member's head, and where its data lies in the spool
Numbered = tuple[str, int, Head, int, int]  # an entry's path and number, and its Found
_FOUND_BATCH = 4096  # entries found given the sorter at once
_RAW_HEADS = 4096  # distinct raw headers (but the name), and heads, remembered at once


def _head(member: Member) -> Head:
    """What a copy of ``member`` keeps."""
    pax = member.pax
    xattrs = tuple((k, v) for k, v in pax.items() if k.startswith(_XATTR_PREFIXES)) if pax else ()
    return (
        member.type,
        member.mode,
        member.uid,
        member.gid,
        member.mtime,
        member.linkname,
        member.device,
        xattrs,
    )


class Located:
    """What members were found as, by inode number: each one's head, and where a file's
    data lies in the spool, as columns made at the first file with data (a :data:`Found`
    tuple and its two ints per file took 120 bytes, issue 16)."""

    __slots__ = ("at", "heads", "size")

    def __init__(self, count: int = 0) -> None:
        self.heads: list[Head | None] = [None] * count
        self.at = array("q")
        self.size = array("q")

    def put(self, number: int, found: Found) -> None:
        head, at, size = found
        self.heads[number] = head
        if size:
            if not self.at:
                self.at = array("q", bytes(8 * len(self.heads)))
                self.size = array("q", bytes(8 * len(self.heads)))
            self.at[number], self.size[number] = at, size

    def __getitem__(self, number: int) -> Found | None:
        head = self.heads[number]
        if head is None:
            return None
        if not self.at:  # no file with data
            return head, 0, 0
        return head, self.at[number], self.size[number]


def _key_of(path: str, n: int) -> _Key:
    return path if n == 0 else (path, n)


class Sources:
    """Headers and file data of the members the merged layer copies (see the module)."""

    def __init__(self) -> None:
        self.last: dict[int, dict[str, Head]] = {}  # the live member of a name, per layer
        self.exact: dict[int, dict[_Key, Found | None]] = {}  # None: not met yet
        self.heads: dict[Head, Head] = {}
        self.raw: dict[bytes, Head] = {}  # raw header fields but the name -> head
        self.empty: dict[Head, Found] = {}  # (head, 0, 0), made once
        self.spool = Spool(".data")
        # files the merge's nodes stand for, in layers that hold each name once: found by
        # their inode, through the merged tree, instead of a map entry per path (issue 16)
        self.live: Mapping[str, Node] = {}
        self.flags = bytearray()  # per inode: 1 wanted, 2 found
        self.found = Located()
        self.by_node: set[int] = set()  # layers that give such files
        # an ``Ordered`` merge's kept entries as found (see ``ordered_found``)
        self.ordered: Sorter[Numbered] = Sorter()

    def node_found(self, node: Node, repeated: Mapping[int, int]) -> Found | None:
        """What the file ``node`` stands for was found as."""
        if node.layer in self.by_node:
            return self.found[node.inode]
        return self.exact_of(node.layer, node.entry.path, repeated.get(node.inode, 0))

    def last_of(self, layer: int, path: str) -> Head | None:
        return self.last.get(layer, {}).get(path)

    def exact_of(self, layer: int, path: str, n: int) -> Found | None:
        return self.exact.get(layer, {}).get(_key_of(path, n))

    def _wanted(self, items: Sequence[Item]) -> dict[int, set[str]]:
        """Note what each layer must give: heads of the names copied or linked (returned),
        and headers and data of the members files are made of (in ``exact``)."""
        meta: dict[int, set[str]] = {}
        exact = self.exact
        raw: Sequence[Item | Node] = items
        repeated: Mapping[int, int] = {}
        single: dict[int, bool] = {}
        if isinstance(items, Items):
            raw, repeated, self.live = items.raw, items.repeated, items.live
            self.flags = bytearray(items.inodes)
        flags, by_node = self.flags, self.by_node
        for item in raw:
            if isinstance(item, Node):  # an item as ``Items`` would make it, without making it
                if item.entry.kind == "file":
                    layer = item.layer
                    alone = single.get(layer)
                    if alone is None:
                        alone = single[layer] = isinstance(items, Items) and items.single(layer)
                    if alone:
                        flags[item.inode] = 1
                        by_node.add(layer)
                        exact.setdefault(layer, {})  # the layer is read
                        continue
                    wanted = exact.get(item.layer)
                    if wanted is None:
                        wanted = exact[item.layer] = {}
                    wanted[_key_of(item.entry.path, repeated.get(item.inode, 0))] = None
                elif not item.implicit:
                    meta.setdefault(item.layer, set()).add(item.entry.path)
            elif item.action in ("copy", "link"):
                meta.setdefault(item.layer, set()).add(item.path)
            elif item.action == "data":
                wanted = exact.setdefault(item.layer, {})
                wanted[_key_of(item.source, item.occurrence)] = None
        return meta

    def read(self, image: Image, items: Sequence[Item]) -> None:
        if isinstance(items, Ordered):
            self._read_ordered(image, items)
            return
        meta = self._wanted(items)
        if self.by_node:
            self.found = Located(len(self.flags))
        for index in sorted(meta.keys() | self.exact.keys()):
            what = f"layer {image.layers[index].diff_id[:19]}"
            with image.layers[index].open() as stream:
                try:
                    self._read_layer(
                        TarStream(stream, what),
                        index,
                        meta.pop(index, set()),
                        self.exact.setdefault(index, {}),
                    )
                except TarError as exc:
                    raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
                while stream.read(CHUNK):  # to the end, so the layer's digest is verified
                    pass

    def _read_ordered(self, image: Image, items: Ordered) -> None:
        """What an ``Ordered`` merge's entries are made of: each layer's members met in its
        delta's order (see ``mutate._disjoint``), from each layer that holds an entry kept,
        sorted by path (:meth:`ordered_found`)."""
        wanted, starts = items.wanted, items.starts
        self.ordered = Sorter()
        for at, delta in enumerate(items.deltas):
            start, index = starts[at], items.first + at
            if not any(wanted[start : start + len(delta.entries)]):
                continue
            what = f"layer {image.layers[index].diff_id[:19]}"
            with image.layers[index].open() as stream:
                try:
                    self._read_numbered(
                        TarStream(stream, what), index, delta.entries, start, wanted
                    )
                except TarError as exc:
                    raise CorruptImage(f"{what}: not a valid tar stream ({exc})") from exc
                while stream.read(CHUNK):  # to the end, so the layer's digest is verified
                    pass

    def ordered_found(self) -> Iterator[Numbered]:
        """What the kept entries of an ``Ordered`` merge were found as, in its items' order
        (path, then number): ``(path, number, head, where its data lies, its size)``."""
        return self.ordered.sorted()

    def _read_numbered(
        self,
        tar: TarStream,
        index: int,
        entries: Sequence[Entry],
        start: int,
        wanted: bytearray,
    ) -> None:
        """Each member that is the layer's next entry (its path and kind) taken as that
        entry's; every other member (one the reader dropped or skipped) passed over."""
        found: list[Numbered] = []
        add = found.append
        each = iter(entries.unshared() if isinstance(entries, StoredEntries) else entries)
        entry = next(each, None)
        number = start
        while (member := tar.next()) is not None:
            if len(found) >= _FOUND_BATCH:
                self.ordered.extend(found)
                found.clear()
            size = 0 if member.type in HEADER_ONLY else member.size
            if entry is not None:
                path = clean(member.name)[0]
                if path == entry.path and kind_of(member.type) == entry.kind:
                    kind, at = entry.kind, number
                    number += 1
                    entry = next(each, None)
                    if wanted[at]:
                        if kind == "file":
                            head, where, length = self._take(tar, member, size, index, path)
                            add((path, at, head, where, length))
                            continue
                        add((path, at, self._head_of(member), 0, 0))
            tar.skip(size + (-size % BLOCK))
        self.ordered.extend(found)
        self.spool.file.flush()

    def _write(self, chunk: memoryview | bytes) -> None:
        self.spool.file.write(chunk)

    def _head_of(self, member: Member) -> Head:
        """``member``'s head, made once per distinct one."""
        if member.pax is None and not member.linkname:
            # type (as read), mode, uid, gid; mtime; device numbers: all the head holds
            h = member.header
            key = member.type + h[100:124] + h[136:148] + h[329:345]
            head = self.raw.get(key)
            if head is None:
                if len(self.raw) >= _RAW_HEADS:
                    self.raw.clear()
                head = self.raw[key] = self._interned(_head(member))
            return head
        return self._interned(_head(member))

    def _interned(self, head: Head) -> Head:
        """The one object kept for heads equal to ``head``, of the last
        :data:`_RAW_HEADS` distinct ones (a layer whose every member differs, its times
        say, is not kept whole)."""
        heads = self.heads
        kept = heads.get(head)
        if kept is None:
            if len(heads) >= _RAW_HEADS:
                heads.clear()
            kept = heads[head] = head
        return kept

    def _read_layer(
        self, tar: TarStream, index: int, meta: set[str], want: dict[_Key, Found | None]
    ) -> None:
        """Fill ``want`` (keys: a path for its first member, ``(path, n)`` for its n-th) and
        the heads of the members named in ``meta`` (the last member of each name)."""
        out = self.spool.file
        later = {k[0] for k in want if not isinstance(k, str)}  # names wanted past the first
        counted: dict[str, int] = {}  # members so far of those names
        last = self.last.setdefault(index, {})
        live, flags, found_at = self.live, self.flags, self.found
        by_node = index in self.by_node
        while (member := tar.next()) is not None:
            size = 0 if member.type in HEADER_ONLY else member.size
            path = clean(member.name)[0]
            if not path:
                tar.skip(size + (-size % BLOCK))
                continue
            if by_node:
                node = live.get(path)
                if (
                    node is not None
                    and node.layer == index
                    and node.entry.kind == "file"
                    and member.type in REGULAR
                ):
                    inode = node.inode
                    if flags[inode] == 1:  # wanted, and this layer's one member of the name
                        flags[inode] = 2
                        found_at.put(inode, self._take(tar, member, size, index, path))
                        continue
            copied = path in meta
            if not copied and path not in want and path not in later:
                tar.skip(size + (-size % BLOCK))
                continue
            head = self._head_of(member)
            if copied:
                last[path] = head
            key: _Key = path
            if path in later:
                n = counted.get(path, 0)
                counted[path] = n + 1
                key = _key_of(path, n)
            elif want.get(path, 0) is not None:  # not wanted, or its first member was met
                key = ""  # wanted under no name
            if key not in want or want[key] is not None:
                tar.skip(size + (-size % BLOCK))
                continue
            want[key] = self._take(tar, member, size, index, path, head)
        out.flush()

    def _take(
        self,
        tar: TarStream,
        member: Member,
        size: int,
        index: int,
        path: str,
        head: Head | None = None,
    ) -> Found:
        """The head of ``member`` and where its data was spooled (consumed from ``tar``)."""
        if head is None:
            head = self._head_of(member)
        if member.sparse and member.type in REGULAR:
            raise CorruptImage(
                f"layer {index}: /{path} is a GNU sparse file, which optimize does not rewrite"
            )
        if not size:  # nothing to spool: one record for every empty member of a head
            found = self.empty.get(head)
            if found is None:
                if len(self.empty) >= _RAW_HEADS:
                    self.empty.clear()
                found = self.empty[head] = (head, 0, 0)
            return found
        out = self.spool.file
        start = out.tell()
        if member.type in REGULAR:
            tar.stream_into(size, self._write)
            tar.pad(size)
        else:
            tar.skip(size + (-size % BLOCK))
        return (head, start, out.tell() - start)
