"""``squash``: merge the layers above a point into one, ``prune``: drop paths from the top.

Both return a new image; the input is never changed. The new layer tar is written once to
a temp file (never held in memory) because the config must name its diff_id; the layer's
opener re-reads that file. The output is deterministic: entries sorted by path, PAX
format, mtimes set to ``epoch`` when given (else kept), owners and modes kept, user and
group names dropped, so the same input and options give the same diff_id and image ID.
"""

from __future__ import annotations

import heapq
import json
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from deadweight import mediatypes
from deadweight.errors import CorruptImage, UsageError
from deadweight.filetree.delta import Capture, LayerDelta
from deadweight.filetree.paths import ROOT, parent
from deadweight.filetree.tree import Node
from deadweight.image import Image, Layer, assemble
from deadweight.mutate._disjoint import DATA, IMPLICIT, Ordered, disjoint_merge
from deadweight.mutate._merge import (
    Item,
    Items,
    Merge,
    Stacking,
    item_key,
    marker_name,
    merge,
    stacking,
)
from deadweight.mutate._sources import REGULAR, Found, Head, Sources
from deadweight.mutate._spool import DigestingWriter, Spool
from deadweight.mutate._tarwrite import Headers, TarWriter
from deadweight.mutate.edit import Edit, NewFile, Owner, config_document
from deadweight.reading import read_deltas
from deadweight.spec.manifest import Descriptor

SQUASH_COMMENT = "deadweight squash"


def iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def layer_deltas(
    image: Image, layers: Iterable[int] | None = None, *, capture: Capture | None = None
) -> tuple[LayerDelta, ...]:
    """The deltas of the image's layers (``reading.read_deltas``: each layer read once, no
    layer cache); ``capture`` says which small files' content to keep."""
    return read_deltas(image, capture=capture, layers=layers)


def squash(
    image: Image,
    keep_bottom: int = 0,
    *,
    drop: Callable[[str], bool] | None = None,
    epoch: int | None = None,
    deltas: Sequence[LayerDelta] | None = None,
    created_by: str = "",
    drop_dirs: bool = False,
) -> Image:
    """A new image: the bottom ``keep_bottom`` layers as they are, the rest merged into one.

    ``drop`` removes non-directory paths written by the merged layers (directories too with
    ``drop_dirs``; the caller keeps every directory above a path it keeps). ``deltas`` are the
    layers' deltas when the caller already read them (from ``analyze``). With nothing to
    merge and nothing to drop, the image is returned as it is.
    """
    return _squashed(image, keep_bottom, drop, epoch, deltas, created_by, drop_dirs=drop_dirs).image


@dataclass(frozen=True, slots=True)
class Squashed:
    """A squash's result: the new image, what its merged layer holds and dropped (None if
    nothing was merged), and docker's size of that layer, counted as it was written."""

    image: Image
    merge: Merge | None
    layer_size: int = -1


def squash_merge(
    image: Image,
    keep_bottom: int = 0,
    *,
    drop: Callable[[str], bool] | None = None,
    epoch: int | None = None,
    deltas: Sequence[LayerDelta] | None = None,
    created_by: str = "",
    edit: Edit | None = None,
    drop_dirs: bool = False,
    merged: Merge | None = None,
    stacked: Stacking | None = None,
) -> Squashed:
    """:func:`squash`, with what the merged layer holds and its size.

    ``edit`` writes files into the merged layer and sets owners there (see ``mutate.edit``).
    ``merged`` and ``stacked`` are the merge (made with ``drop``) and the stacking of the
    deltas when the caller already has them (``optimize.planning`` does): nothing is stacked or
    merged again, and each merged layer is streamed once, to copy what it holds.
    """
    return _squashed(
        image,
        keep_bottom,
        drop,
        epoch,
        deltas,
        created_by,
        edit,
        drop_dirs=drop_dirs,
        merged=merged,
        stacked=stacked,
    )


def prune(image: Image, predicate: Callable[[str], bool], *, epoch: int | None = None) -> Image:
    """A new image without the top layer's non-directory paths for which ``predicate`` holds
    (the top layer is rewritten; a path a lower layer also holds gets a whiteout)."""
    if not image.layers:
        return image
    return squash(image, len(image.layers) - 1, drop=predicate, epoch=epoch)


def _squashed(
    image: Image,
    keep: int,
    drop: Callable[[str], bool] | None,
    epoch: int | None,
    deltas: Sequence[LayerDelta] | None,
    created_by: str,
    edit: Edit | None = None,
    *,
    drop_dirs: bool = False,
    merged: Merge | None = None,
    stacked: Stacking | None = None,
) -> Squashed:
    count = len(image.layers)
    if keep < 0 or keep > count:
        raise UsageError(f"cannot keep {keep} bottom layers of an image with {count}")
    if keep == count:
        return Squashed(image, None)
    edit = edit or Edit()
    if merged is None or (edit and stacked is None):
        if deltas is None:
            deltas = layer_deltas(image)
        if len(deltas) != count:
            raise UsageError(f"{len(deltas)} layer deltas for an image with {count} layers")
        if merged is None and not edit and not drop_dirs:  # no tree where none is needed
            merged = disjoint_merge(deltas, keep, drop)
        if (merged is None or edit) and (stacked is None or stacked.keep != keep):
            stacked = stacking(deltas, keep)
        if merged is None:
            merged = merge(deltas, keep, drop, drop_dirs=drop_dirs, stacked=stacked)
    plan = merged
    if edit:
        assert stacked is not None
        plan = _edited(plan, edit, stacked)
    layer, size = _write_layer(image, plan, epoch, edit)
    said = created_by or f"{SQUASH_COMMENT} {count - keep} layer(s) above layer {keep}"
    raw = squashed_config(image, keep, layer.diff_id, epoch=epoch, created_by=said)
    result = assemble(
        raw,
        [*image.layers[:keep], layer],
        repo_tags=image.repo_tags,
        source=f"squash({image.source or image.id})",
    )
    return Squashed(result, plan, size)


def squashed_config(
    image: Image, keep: int, diff_id: str, *, epoch: int | None, created_by: str
) -> bytes:
    """The config with layers ``keep..`` replaced by ``diff_id``: their history rows become
    empty and one row for the new layer is appended."""
    doc = config_document(image)
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict):
        raise CorruptImage("config: no rootfs")
    rootfs["diff_ids"] = [*image.config.diff_ids[:keep], diff_id]
    created = iso(epoch) if epoch is not None else doc.get("created")
    if epoch is not None:
        doc["created"] = created
    history = doc.get("history")
    if isinstance(history, list):
        seen = 0
        for row in history:
            if not isinstance(row, dict) or row.get("empty_layer"):
                continue
            if seen >= keep:
                row["empty_layer"] = True
            seen += 1
        row_new: dict[str, Any] = {"created_by": created_by, "comment": SQUASH_COMMENT}
        if created:
            row_new = {"created": created, **row_new}
        history.append(row_new)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _header(
    heads: Headers,
    name: str,
    src: Head | None,
    epoch: int | None,
    owner: Owner | None,
    type_: bytes | None = None,
    size: int = 0,
    link: str | None = None,
) -> bytes:
    """The header of one member of the new layer: ``src``'s fields (an implicit directory
    without one; ``type_`` and ``link`` replace its own, and a new link keeps no extended
    attributes), the time set to ``epoch``, the owner changed under ``owner``."""
    if src is not None:
        kind, mode, uid, gid, mtime, old_link, device, xattrs = src
        if epoch is not None:
            mtime = epoch
    else:
        kind, mode, uid, gid, old_link, device, xattrs = (
            tarfile.DIRTYPE,
            0o755,
            0,
            0,
            "",
            (0, 0),
            (),
        )
        mtime = 0 if epoch is None else epoch
    if type_ is not None:
        kind = type_
    if link is not None:
        old_link, xattrs = link, ()
    if owner is not None and owner.covers(name):
        uid, gid = owner.uid, owner.gid
    pax = dict(xattrs) if xattrs else None
    return heads.header(name, kind, mode, uid, gid, size, mtime, old_link, device, pax)


def _edited(plan: Merge, edit: Edit, stacked: Stacking) -> Merge:
    """``plan`` without the items ``edit.files`` replace and the directories ``edit.remove``
    names, with the directories the files and ``edit.owner`` need; refuses an edit that
    would change more than it names."""
    live = stacked.tree.nodes
    items = {item_key(item): item for item in plan.items}
    if edit.remove:
        _remove_dirs(items, edit.remove, live, stacked.lower)
    replaced = {f.path for f in edit.files}
    for item in plan.items:
        if item.action == "link" and item.source in replaced:
            raise UsageError(f"/{item.source} has other names (hardlinks); not rewritten")
    for f in edit.files:
        node = live.get(f.path)
        if node is not None and node.kind == "dir":
            raise UsageError(f"/{f.path} is a directory; not replaced by a file")
        items.pop(f.path, None)
        up = parent(f.path)
        while up != ROOT:
            above = live.get(up)
            if above is not None and above.kind != "dir":
                raise UsageError(f"/{up} is not a directory; /{f.path} not written")
            if above is None and up not in items:
                items[up] = Item(up, "implicit")
            up = parent(up)
    if edit.owner is not None and edit.owner.path not in items:
        node = live.get(edit.owner.path)
        if node is None or node.kind != "dir":
            raise UsageError(f"/{edit.owner.path} is not a directory; owners not changed")
        items[node.path] = Item(node.path, "implicit" if node.implicit else "copy", node.layer)
    return Merge(tuple(items[k] for k in sorted(items)), plan.dropped)


def _remove_dirs(
    items: dict[str, Item], tops: Sequence[str], live: Mapping[str, Node], lower: Iterable[str]
) -> None:
    wanted = set(tops)

    def top_of(path: str) -> str | None:
        p = path
        while p:
            if p in wanted:
                return p
            p = parent(p)
        return None

    for path in lower:
        top = top_of(path)
        if top is not None:
            raise UsageError(f"/{top} is also in the kept layers; not removed")
    for key, item in list(items.items()):
        top = top_of(item.path)
        if top is None:
            continue
        node = live.get(item.path)
        if item.action not in ("copy", "implicit") or node is None or node.kind != "dir":
            raise UsageError(f"/{item.path} is still in /{top}; /{top} not removed")
        del items[key]


def _write_layer(image: Image, plan: Merge, epoch: int | None, edit: Edit) -> tuple[Layer, int]:
    """The new layer, and docker's size of it (counted as it is written: file data and
    symlink targets)."""
    sources = Sources()
    sources.read(image, plan.items)
    spool = Spool()
    writer = DigestingWriter(spool.file)
    tar = TarWriter(cast(IO[bytes], writer))
    add = _Adder(tar, sources, epoch, edit.owner)
    if edit.files:  # the merge's items are in key order already: the new files go between
        files = sorted(((f.path, f) for f in edit.files), key=lambda kv: kv[0])
        entries: Iterable[tuple[str, Item | NewFile]] = heapq.merge(
            ((item_key(i), i) for i in plan.items), files, key=lambda kv: kv[0]
        )
        for _, entry in entries:
            if isinstance(entry, NewFile):
                add.new_file(entry)
            else:
                add(entry)
    elif isinstance(plan.items, Ordered):  # entries by their numbers, in path order
        add.ordered(plan.items)
    elif isinstance(plan.items, Items):  # nodes written as the items they stand for
        repeated = plan.items.repeated
        for raw in plan.items.raw:
            if isinstance(raw, Node):
                add.node(raw, repeated)
            else:
                add(raw)
    else:
        for item in plan.items:
            add(item)
    tar.close()
    spool.file.flush()
    desc = Descriptor(mediatypes.OCI_LAYER, writer.digest, writer.size)
    layer = Layer(
        diff_id=writer.digest, blob=desc, opener=spool.opener(), size=add.size, seekable=True
    )
    return layer, add.size


class _Adder:
    """Writes items to the new layer, counting the bytes docker counts for them (file
    data and symlink targets) in ``size``."""

    def __init__(
        self, tar: TarWriter, sources: Sources, epoch: int | None, owner: Owner | None
    ) -> None:
        self.tar, self.sources, self.epoch, self.owner = tar, sources, epoch, owner
        self.data = sources.spool.file
        self.heads = Headers()
        self.size = 0

    def new_file(self, entry: NewFile) -> None:
        owner = self.owner
        uid, gid = (
            (owner.uid, owner.gid) if owner is not None and owner.covers(entry.path) else (0, 0)
        )
        mtime = 0 if self.epoch is None else self.epoch
        data = entry.data
        head = self.heads.header(
            entry.path, tarfile.REGTYPE, entry.mode, uid, gid, len(data), mtime
        )
        self.tar.add(head, data, len(data))
        self.size += len(data)

    def ordered(self, items: Ordered) -> None:
        """The items of a merge without a tree (see ``mutate._disjoint``), each entry's as
        the second read found it: both in path order, so taken in step."""
        found = self.sources.ordered_found()
        for path, action, layer, number in items.records:
            if action == IMPLICIT:
                self.tar.add(_header(self.heads, path, None, self.epoch, self.owner))
                continue
            met = next(found, None)
            if met is None or met[1] != number:
                raise CorruptImage(f"layer {layer}: {path} was not found on a second read")
            _, _, head, at, size = met
            if action == DATA:
                self._found(path, layer, (head, at, size))
            else:
                self._put(path, head)

    def node(self, node: Node, repeated: Mapping[int, int]) -> None:
        """The item a node of the merge stands for (see ``mutate._merge.Items``)."""
        entry = node.entry
        if entry.kind == "file":
            self._found(entry.path, node.layer, self.sources.node_found(node, repeated))
        elif node.implicit:
            self.tar.add(_header(self.heads, entry.path, None, self.epoch, self.owner))
        else:
            self._copy(entry.path, node.layer)

    def __call__(self, item: Item) -> None:
        action = item.action
        if action == "data":
            self._data(item.path, item.layer, item.source, item.occurrence)
        elif action == "copy":
            self._copy(item.path, item.layer)
        elif action == "whiteout" or action == "opaque":  # markers have no owner to change
            mtime = 0 if self.epoch is None else self.epoch
            self.tar.add(
                self.heads.header(marker_name(item), tarfile.REGTYPE, 0o644, 0, 0, 0, mtime)
            )
        elif action == "implicit":
            self.tar.add(_header(self.heads, item.path, None, self.epoch, self.owner))
        else:  # a link
            src = self.sources.last_of(item.layer, item.path)
            head = _header(
                self.heads, item.path, src, self.epoch, self.owner, tarfile.LNKTYPE, 0, item.source
            )
            self.tar.add(head)

    def _data(self, path: str, layer: int, source: str, occurrence: int) -> None:
        found = self.sources.exact_of(layer, source, occurrence)
        if found is None:
            raise CorruptImage(f"layer {layer}: {source} was not found on a second read")
        self._found(path, layer, found)

    def _found(self, path: str, layer: int, found: Found | None) -> None:
        if found is None:
            raise CorruptImage(f"layer {layer}: {path} was not found on a second read")
        src, start, size = found
        if src[0] not in REGULAR:  # a hardlink to a symlink is that symlink
            self._put(path, src)
            return
        head = _header(self.heads, path, src, self.epoch, self.owner, tarfile.REGTYPE, size)
        if not size:
            self.tar.add(head)
            return
        data = self.data
        data.seek(start)
        self.tar.add(head, data, size)
        data.seek(0, 2)
        self.size += size

    def _copy(self, path: str, layer: int) -> None:
        src = self.sources.last_of(layer, path)
        if src is None:
            raise CorruptImage(f"layer {layer}: {path} was not found on a second read")
        self._put(path, src)

    def _put(self, path: str, src: Head) -> None:
        self.tar.add(_header(self.heads, path, src, self.epoch, self.owner))
        if src[0] == tarfile.SYMTYPE:
            self.size += len(src[5].encode("utf-8", "surrogateescape"))
