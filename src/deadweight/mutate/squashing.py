"""``squash``: merge the layers above a point into one, ``prune``: drop paths from the top.

Both return a new image; the input is never changed. The new layer tar is written once to
a temp file (never held in memory) because the config must name its diff_id; the layer's
opener re-reads that file. The output is deterministic: entries sorted by path, PAX
format, mtimes set to ``epoch`` when given (else kept), owners and modes kept, user and
group names dropped, so the same input and options give the same diff_id and image ID.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, cast

from deadweight import mediatypes
from deadweight.errors import CorruptImage, UsageError
from deadweight.filetree.delta import LayerDelta, read_delta
from deadweight.filetree.paths import ROOT, clean, parent
from deadweight.filetree.tree import Node, stack
from deadweight.image import Image, Layer, assemble
from deadweight.mutate._merge import Item, Merge, marker_name, merge
from deadweight.mutate._spool import CHUNK, DigestingWriter, Spool
from deadweight.mutate.edit import Edit, NewFile, Owner
from deadweight.spec.document import decode_json
from deadweight.spec.manifest import Descriptor

# pax records worth keeping: extended attributes (file capabilities live there)
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
SQUASH_COMMENT = "deadweight squash"


def iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def layer_deltas(image: Image, layers: range | None = None) -> tuple[LayerDelta, ...]:
    """The deltas (no content hashes) of the image's layers, one streaming pass each."""
    out = []
    for i in layers if layers is not None else range(len(image.layers)):
        layer = image.layers[i]
        with layer.open() as stream:
            out.append(read_delta(stream, what=f"layer {layer.diff_id[:19]}"))
    return tuple(out)


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
    return _squashed(image, keep_bottom, drop, epoch, deltas, created_by, drop_dirs=drop_dirs)[0]


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
) -> tuple[Image, Merge | None]:
    """:func:`squash`, and what the merged layer holds and dropped (None if nothing merged).

    ``edit`` writes files into the merged layer and sets owners there (see ``mutate.edit``).
    """
    return _squashed(image, keep_bottom, drop, epoch, deltas, created_by, edit, drop_dirs=drop_dirs)


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
) -> tuple[Image, Merge | None]:
    count = len(image.layers)
    if keep < 0 or keep > count:
        raise UsageError(f"cannot keep {keep} bottom layers of an image with {count}")
    if keep == count:
        return image, None
    if deltas is None:
        deltas = layer_deltas(image)
    if len(deltas) != count:
        raise UsageError(f"{len(deltas)} layer deltas for an image with {count} layers")
    plan = merge(deltas, keep, drop, drop_dirs=drop_dirs)
    edit = edit or Edit()
    if edit:
        plan = _edited(plan, edit, deltas, keep)
    layer = _write_layer(image, plan, epoch, edit)
    said = created_by or f"{SQUASH_COMMENT} {count - keep} layer(s) above layer {keep}"
    raw = squashed_config(image, keep, layer.diff_id, epoch=epoch, created_by=said)
    result = assemble(
        raw,
        [*image.layers[:keep], layer],
        repo_tags=image.repo_tags,
        source=f"squash({image.source or image.id})",
    )
    return result, plan


def squashed_config(
    image: Image, keep: int, diff_id: str, *, epoch: int | None, created_by: str
) -> bytes:
    """The config with layers ``keep..`` replaced by ``diff_id``: their history rows become
    empty and one row for the new layer is appended."""
    doc = decode_json(image.raw_config, "image config")
    if not isinstance(doc, dict):
        raise CorruptImage("image config: not a JSON object")
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


class _Sources:
    """Headers and file data of the members the merged layer copies, from one more pass
    over each layer that holds them; data goes to a temp file, never to memory."""

    def __init__(self) -> None:
        self.last: dict[tuple[int, str], tarfile.TarInfo] = {}  # the live member of a name
        self.exact: dict[tuple[int, str, int], tuple[tarfile.TarInfo, int, int]] = {}
        self.spool = Spool(".data")

    def read(self, image: Image, items: Sequence[Item]) -> None:
        meta: dict[int, set[str]] = {}
        want: dict[int, set[tuple[str, int]]] = {}
        for item in items:
            if item.action in ("copy", "link"):
                meta.setdefault(item.layer, set()).add(item.path)
            elif item.action == "data":
                want.setdefault(item.layer, set()).add((item.source, item.occurrence))
        for index in sorted(meta.keys() | want.keys()):
            self._read_layer(
                image.layers[index], index, meta.get(index, set()), want.get(index, set())
            )

    def _read_layer(
        self, layer: Layer, index: int, meta: set[str], want: set[tuple[str, int]]
    ) -> None:
        out = self.spool.file
        names = {path for path, _ in want}
        seen: dict[str, int] = {}
        with layer.open() as stream:
            with tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK) as tar:
                for member in tar:
                    path, _ = clean(member.name)
                    if not path or (path not in meta and path not in names):
                        continue
                    n = seen.get(path, 0)
                    seen[path] = n + 1
                    if path in meta:
                        self.last[(index, path)] = member
                    if (path, n) not in want:
                        continue
                    start = out.tell()
                    if member.isreg():
                        src = tar.extractfile(member)
                        assert src is not None
                        shutil.copyfileobj(src, out, CHUNK)
                    self.exact[(index, path, n)] = (member, start, out.tell() - start)
            while stream.read(CHUNK):  # to the end, so the layer's digest is verified
                pass
        out.flush()


def _header(name: str, src: tarfile.TarInfo | None, epoch: int | None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    if src is not None:
        info.type, info.mode, info.uid, info.gid = src.type, src.mode, src.uid, src.gid
        info.linkname, info.devmajor, info.devminor = src.linkname, src.devmajor, src.devminor
        info.pax_headers = {
            k: v for k, v in src.pax_headers.items() if k.startswith(_XATTR_PREFIXES)
        }
        # tarfile reads a pax mtime as a float: "nan" and "inf" are no time to write back
        mtime = src.mtime if math.isfinite(src.mtime) else 0
        info.mtime = int(mtime) if epoch is None else epoch
    else:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        info.mtime = 0 if epoch is None else epoch
    info.uname = info.gname = ""
    return info


def _edited(plan: Merge, edit: Edit, deltas: Sequence[LayerDelta], keep: int) -> Merge:
    """``plan`` without the items ``edit.files`` replace and the directories ``edit.remove``
    names, with the directories the files and ``edit.owner`` need; refuses an edit that
    would change more than it names."""
    live = stack(deltas).nodes
    items = {_key(item): item for item in plan.items}
    if edit.remove:
        _remove_dirs(items, edit.remove, live, stack(deltas[:keep]).nodes)
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


def _key(item: Item) -> str:
    return marker_name(item) if item.action in ("whiteout", "opaque") else item.path


def _write_layer(image: Image, plan: Merge, epoch: int | None, edit: Edit) -> Layer:
    sources = _Sources()
    sources.read(image, plan.items)
    spool = Spool()
    writer = DigestingWriter(spool.file)
    data = sources.spool.file
    entries: list[tuple[str, Item | NewFile]] = [(_key(i), i) for i in plan.items]
    entries += [(f.path, f) for f in edit.files]
    entries.sort(key=lambda kv: kv[0])
    with tarfile.open(fileobj=cast(IO[bytes], writer), mode="w", format=tarfile.PAX_FORMAT) as tar:
        for _, entry in entries:
            if isinstance(entry, NewFile):
                _add_file(tar, entry, epoch, edit.owner)
            else:
                _add(tar, entry, sources, data, epoch, edit.owner)
    spool.file.flush()
    desc = Descriptor(mediatypes.OCI_LAYER, writer.digest, writer.size)
    return Layer(diff_id=writer.digest, blob=desc, opener=spool.opener(), seekable=True)


def _add_file(tar: tarfile.TarFile, f: NewFile, epoch: int | None, owner: Owner | None) -> None:
    info = tarfile.TarInfo(f.path)
    info.type, info.mode, info.size = tarfile.REGTYPE, f.mode, len(f.data)
    info.mtime = 0 if epoch is None else epoch
    if owner is not None and owner.covers(f.path):
        info.uid, info.gid = owner.uid, owner.gid
    tar.addfile(info, io.BytesIO(f.data))


def _add(
    tar: tarfile.TarFile,
    item: Item,
    sources: _Sources,
    data: IO[bytes],
    epoch: int | None,
    owner: Owner | None = None,
) -> None:
    if item.action in ("whiteout", "opaque"):
        info = tarfile.TarInfo(marker_name(item))
        info.mode, info.mtime = 0o644, 0 if epoch is None else epoch
        tar.addfile(info)  # markers have no owner to change
        return
    if item.action == "implicit":
        _put(tar, item, owner, _header(item.path, None, epoch))
        return
    if item.action == "link":
        info = _header(item.path, sources.last.get((item.layer, item.path)), epoch)
        info.type, info.linkname, info.size = tarfile.LNKTYPE, item.source, 0
        info.pax_headers = {}
        _put(tar, item, owner, info)
        return
    if item.action == "copy":
        src = sources.last.get((item.layer, item.path))
        if src is None:
            raise CorruptImage(f"layer {item.layer}: {item.path} was not found on a second read")
        info = _header(item.path, src, epoch)
        info.size = 0
        _put(tar, item, owner, info)
        return
    found = sources.exact.get((item.layer, item.source, item.occurrence))
    if found is None:
        raise CorruptImage(f"layer {item.layer}: {item.source} was not found on a second read")
    src, start, size = found
    info = _header(item.path, src, epoch)
    if src.isreg():
        info.type, info.size = tarfile.REGTYPE, size  # contiguous and sparse files: plain
        data.seek(start)
        _put(tar, item, owner, info, data)
        data.seek(0, 2)
    else:  # a hardlink to a symlink is that symlink
        info.size = 0
        _put(tar, item, owner, info)


def _put(
    tar: tarfile.TarFile,
    item: Item,
    owner: Owner | None,
    info: tarfile.TarInfo,
    data: IO[bytes] | None = None,
) -> None:
    if owner is not None and owner.covers(item.path):
        info.uid, info.gid = owner.uid, owner.gid
    tar.addfile(info, data)
