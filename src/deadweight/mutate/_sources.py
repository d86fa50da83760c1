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

from collections.abc import Sequence

from deadweight.errors import CorruptImage
from deadweight.filetree.nodes import Node
from deadweight.filetree.paths import clean
from deadweight.filetree.tarstream import BLOCK, HEADER_ONLY, Member, TarError, TarStream
from deadweight.image import Image
from deadweight.mutate._merge import Item, Items
from deadweight.mutate._spool import Spool
from deadweight.streams import CHUNK

# pax records worth keeping: extended attributes (file capabilities live there)
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
REGULAR = (b"0", b"7", b"S")  # regular, contiguous, GNU sparse
# type, mode, uid, gid, mtime, link, device, extended attributes (pax records, in order)
Head = tuple[bytes, int, int, int, int, str, tuple[int, int], tuple[tuple[str, str], ...]]
_Key = str | tuple[str, int]  # a path, or (path, n) for its n-th member (n > 0) in a layer
_Found = tuple[Head, int, int]  # a member's head, and where its data lies in the spool
_RAW_HEADS = 4096  # distinct raw headers (but the name) remembered at once


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


def _key_of(path: str, n: int) -> _Key:
    return path if n == 0 else (path, n)


class Sources:
    """Headers and file data of the members the merged layer copies (see the module)."""

    def __init__(self) -> None:
        self.last: dict[int, dict[str, Head]] = {}  # the live member of a name, per layer
        self.exact: dict[int, dict[_Key, _Found | None]] = {}  # None: not met yet
        self.heads: dict[Head, Head] = {}
        self.raw: dict[bytes, Head] = {}  # raw header fields but the name -> head
        self.empty: dict[Head, _Found] = {}  # (head, 0, 0), made once
        self.spool = Spool(".data")

    def last_of(self, layer: int, path: str) -> Head | None:
        return self.last.get(layer, {}).get(path)

    def exact_of(self, layer: int, path: str, n: int) -> _Found | None:
        return self.exact.get(layer, {}).get(_key_of(path, n))

    def _wanted(self, items: Sequence[Item]) -> dict[int, set[str]]:
        """Note what each layer must give: heads of the names copied or linked (returned),
        and headers and data of the members files are made of (in ``exact``)."""
        meta: dict[int, set[str]] = {}
        exact = self.exact
        raw = items.raw if isinstance(items, Items) else items
        repeated = items.repeated if isinstance(items, Items) else {}
        for item in raw:
            if isinstance(item, Node):  # an item as ``Items`` would make it, without making it
                if item.entry.kind == "file":
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
        meta = self._wanted(items)
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
                head = _head(member)
                head = self.raw[key] = self.heads.setdefault(head, head)
            return head
        head = _head(member)
        return self.heads.setdefault(head, head)

    def _read_layer(
        self, tar: TarStream, index: int, meta: set[str], want: dict[_Key, _Found | None]
    ) -> None:
        """Fill ``want`` (keys: a path for its first member, ``(path, n)`` for its n-th) and
        the heads of the members named in ``meta`` (the last member of each name)."""
        out = self.spool.file
        later = {k[0] for k in want if not isinstance(k, str)}  # names wanted past the first
        counted: dict[str, int] = {}  # members so far of those names
        last = self.last.setdefault(index, {})
        while (member := tar.next()) is not None:
            size = 0 if member.type in HEADER_ONLY else member.size
            path = clean(member.name)[0]
            if not path:
                tar.skip(size + (-size % BLOCK))
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
            if member.sparse and member.type in REGULAR:
                raise CorruptImage(
                    f"layer {index}: /{path} is a GNU sparse file, which optimize does not rewrite"
                )
            if not size:  # nothing to spool: one record for every empty member of a head
                found = self.empty.get(head)
                if found is None:
                    found = self.empty[head] = (head, 0, 0)
                want[key] = found
                continue
            start = out.tell()
            if member.type in REGULAR:
                tar.stream_into(size, self._write)
                tar.pad(size)
            else:
                tar.skip(size + (-size % BLOCK))
            want[key] = (head, start, out.tell() - start)
        out.flush()
