"""``compare(a, b)``: read only the layers the two images do not share, then diff.

The shared base is the common prefix of the two diff_id lists (a diff_id names a layer's
uncompressed content, so equal prefixes are equal file systems). Those layers are never
opened: their sizes come from the medium or the layer store, and their file index from the
store when a previous run left it there (``read_base`` reads it instead).
:func:`diff_sides` is pure and does everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import FinalParts
from deadweight.analysis.instructions import instruction_text, layer_instructions
from deadweight.analysis.packages import inventory
from deadweight.analysis.sizes import layer_size
from deadweight.cache import LayerCache
from deadweight.compare.base import base_info, base_layers
from deadweight.compare.config import diff_config, platform
from deadweight.compare.files import FileChanges, FileDiff, diff_files, union
from deadweight.compare.packages import DATABASES, PackageDiff, diff_packages, package_diff
from deadweight.compare.result import ImageDiff, SideInfo
from deadweight.compare.steps import Step, align
from deadweight.compare.view import BASE, View, view
from deadweight.errors import PlatformMismatch
from deadweight.filetree import partition
from deadweight.filetree.delta import HashName, LayerDelta
from deadweight.filetree.tree import check_members
from deadweight.image import Image, Layer
from deadweight.progress import Progress
from deadweight.reading import iter_layers, stored_delta


@dataclass(frozen=True, slots=True)
class Side:
    """What the pure diff needs of one image; ``deltas[i]`` is None for an unread layer."""

    image: Image
    sizes: tuple[int, ...]
    deltas: tuple[LayerDelta | None, ...]
    sized: bool = True  # False: some shared layers were not sized (their sizes count as 0)


def shared_prefix(a: Image, b: Image) -> int:
    n = 0
    for la, lb in zip(a.layers, b.layers, strict=False):
        if la.diff_id != lb.diff_id:
            break
        n += 1
    return n


def check_platforms(a: Image, b: Image) -> None:
    pa, pb = platform(a.config), platform(b.config)
    if pa != pb:
        raise PlatformMismatch(
            f"the images are for different platforms ({pa} and {pb}); "
            "pick one with --platform, or pass --any-platform to compare them anyway"
        )


def _size(
    layer: Layer, store: LayerCache | None, delta: LayerDelta | None, scan: bool = True
) -> int | None:
    """Docker's size of a layer: the medium's, the delta's, the store's, else a header scan
    (None when ``scan`` is off and the scan would have to stream the whole layer)."""
    if layer.size is not None:
        return layer.size
    if delta is not None:
        return delta.size
    found = store.get(layer.diff_id) if store is not None else None
    if found is None:
        if not scan and not layer.seekable:
            return None
        found = layer_size(layer)
        if store is not None:
            store.put(layer.diff_id, found)
    return found


def read_sides(
    a: Image,
    b: Image,
    *,
    store: LayerCache | None = None,
    read_base: bool = False,
    hash: HashName | None = None,
    progress: Progress | None = None,
    size_shared: bool = True,
) -> tuple[Side, Side, int]:
    """Both sides and the number of shared layers, reading each needed layer once.

    With ``size_shared`` off, a shared layer whose size neither the medium nor the store
    knows, and which only a full stream could size (a registry blob), is left unsized: the
    sides' totals then leave it out (``Side.sized`` is False), while the delta stays exact.
    """
    shared = shared_prefix(a, b)
    start = 0 if read_base else shared
    need = [layer for image in (a, b) for layer in image.layers[start:]]
    deltas: dict[str, LayerDelta | None] = {
        layer.diff_id: delta
        for layer, delta in zip(
            need,
            # a large layer's entries left in its record: the sides are stacked a range of
            # paths at a time past partition.SIZE, never holding them all (issue 16)
            iter_layers(
                need, capture=pkgs.capture, store=store, progress=progress, hash=hash, lazy=True
            ),
            strict=True,
        )
    }
    known: dict[str, int | None] = {}

    def delta(diff_id: str) -> LayerDelta | None:
        """The delta read, or for a shared layer not read, the store's (if it holds it)."""
        if diff_id not in deltas:
            deltas[diff_id] = stored_delta(store, diff_id, capture=pkgs.capture, hash=hash)
        return deltas[diff_id]

    def size(index: int, layer: Layer, delta: LayerDelta | None) -> int | None:
        if layer.diff_id not in known:
            known[layer.diff_id] = _size(layer, store, delta, scan=size_shared or index >= shared)
        return known[layer.diff_id]

    def side(image: Image) -> Side:
        held = tuple(delta(layer.diff_id) for layer in image.layers)
        found = [
            size(i, layer, d) for i, (layer, d) in enumerate(zip(image.layers, held, strict=True))
        ]
        sizes = tuple(0 if n is None else n for n in found)
        return Side(image, sizes, held, sized=None not in found)

    return side(a), side(b), shared


def _steps(side: Side, shared: int) -> list[Step]:
    """The image's own steps: above the shared layers and above its base image, whose
    layers the summary's base line accounts for (a base's build steps are not the app's)."""
    said = layer_instructions(side.image)
    start = max(shared, min(base_layers(side.image), len(side.image.layers)))
    return [
        Step(i, side.image.layers[i].diff_id, instruction_text(said[i]), side.sizes[i])
        for i in range(start, len(side.image.layers))
    ]


def _complete(deltas: Sequence[LayerDelta | None]) -> tuple[LayerDelta, ...] | None:
    if any(d is None for d in deltas):
        return None
    return tuple(d for d in deltas if d is not None)


def _files_and_packages(
    da: Sequence[LayerDelta], db: Sequence[LayerDelta], offset: int, complete: bool
) -> tuple[FileDiff, PackageDiff]:
    """The files and packages that differ between the views of ``da`` and ``db``; sides
    holding more than ``partition.SIZE`` members in all are stacked a range of paths at a
    time, both with the same cuts (issue 16), unless a layer is irregular for that."""
    members = sum(d.members for d in (*da, *db))
    if members > partition.SIZE:
        try:
            return _in_parts(da, db, offset, complete)
        except partition.Irregular:
            pass
    va, vb = view(da, offset, complete), view(db, offset, complete)
    return diff_files(va, vb), diff_packages(va, vb)


def _in_parts(
    da: Sequence[LayerDelta], db: Sequence[LayerDelta], offset: int, complete: bool
) -> tuple[FileDiff, PackageDiff]:
    for side in (da, db):
        check_members(sum(d.members for d in side))
    layout = partition.survey([*da, *db], partition.SIZE)
    gone_a, gone_b = (frozenset(p for d in side for p in d.whiteouts) for side in (da, db))
    opaque_a, opaque_b = (frozenset(p for d in side for p in d.opaques) for side in (da, db))
    changes = FileChanges()
    base: dict[str, tuple[bool, bool]] = {}  # a database -> whether each side inherits it
    with FinalParts(da) as final_a, FinalParts(db) as final_b:
        for pa, pb in zip(partition.parts(da, layout), partition.parts(db, layout), strict=True):
            ta, tb = partition.stack_part(pa), partition.stack_part(pb)
            va = View(ta, complete, offset, (), gone_a, opaque_a)
            vb = View(tb, complete, offset, (), gone_b, opaque_b)
            own_a = (p for p in ta.nodes if pa.holds_own(p))
            changes.add(va, vb, union(own_a, (p for p in tb.nodes if pb.holds_own(p))))
            changes.resolve(va, vb, pa.owns)
            for path in DATABASES.values():
                if pa.owns(path):
                    base[path] = (va.state(path) is BASE, vb.state(path) is BASE)
            final_a.add(pa, ta)
            final_b.add(pb, tb)
            del va, vb, ta, tb
        unknown = [p for p in DATABASES.values() if base[p][0] != base[p][1]]
        packages = package_diff(
            unknown,
            inventory(final_a.lookup(), final_a.captured),
            inventory(final_b.lookup(), final_b.captured),
        )
    return changes.result(), packages


def diff_sides(a: Side, b: Side, shared: int) -> ImageDiff:
    """The whole comparison, from what :func:`read_sides` gathered."""
    full_a, full_b = _complete(a.deltas), _complete(b.deltas)
    known = full_a is not None and full_b is not None
    if full_a is not None and full_b is not None:
        files, packages = _files_and_packages(full_a, full_b, 0, True)
    else:
        own_a = tuple(d for d in a.deltas[shared:] if d is not None)
        own_b = tuple(d for d in b.deltas[shared:] if d is not None)
        files, packages = _files_and_packages(own_a, own_b, shared, False)

    def info(side: Side) -> SideInfo:
        img = side.image
        return SideInfo(img.name, img.id, sum(side.sizes), len(img.layers), platform(img.config))

    return ImageDiff(
        a=info(a),
        b=info(b),
        shared_layers=shared,
        shared_size=sum(a.sizes[:shared]),
        base_a=base_info(a.image, a.sizes),
        base_b=base_info(b.image, b.sizes),
        steps=align(_steps(a, shared), _steps(b, shared)),
        files=files.changes,
        directories=files.directories,
        packages=packages.changes,
        config=diff_config(a.image.config, b.image.config),
        base_known=known,
        sizes_known=a.sized and b.sized,
        assumed=files.assumed,
        unresolved=tuple(sorted({*files.unresolved, *packages.unresolved})),
    )


def compare(
    a: Image,
    b: Image,
    *,
    store: LayerCache | None = None,
    read_base: bool = False,
    any_platform: bool = False,
    hash: HashName | None = None,
    progress: Progress | None = None,
    size_shared: bool = True,
) -> ImageDiff:
    """What changes from ``a`` to ``b``; layers they share are not opened (see the module)."""
    if not any_platform:
        check_platforms(a, b)
    side_a, side_b, shared = read_sides(
        a,
        b,
        store=store,
        read_base=read_base,
        hash=hash,
        progress=progress,
        size_shared=size_shared,
    )
    return diff_sides(side_a, side_b, shared)
