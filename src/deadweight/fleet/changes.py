"""What grew and shrank since a previous scan: images matched by name."""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.fleet.tally import Fleet


@dataclass(frozen=True, slots=True)
class ImageBefore:
    name: str
    digest: str
    size: int
    reclaimable: int


@dataclass(frozen=True, slots=True)
class Before:
    """The figures of a previous report that a comparison needs."""

    images: tuple[ImageBefore, ...]
    total_bytes: int
    unique_bytes: int
    reclaimable: int


@dataclass(frozen=True, slots=True)
class ImageChange:
    """One image in both scans whose size or reclaimable bytes moved."""

    name: str
    size_before: int
    size_after: int
    reclaimable_before: int
    reclaimable_after: int
    rebuilt: bool  # another manifest digest under the same name

    @property
    def grown(self) -> int:
        return self.size_after - self.size_before


@dataclass(frozen=True, slots=True)
class Changes:
    total_bytes: tuple[int, int]
    unique_bytes: tuple[int, int]
    reclaimable: tuple[int, int]
    changed: tuple[ImageChange, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]


def compare(before: Before, after: Fleet) -> Changes:
    """Images that grew most first, then those that shrank most; new and gone by name."""
    old = {i.name: i for i in before.images}
    now = {i.name: i for i in after.images}
    failed = {f.name for f in after.failed}
    changed = [
        ImageChange(
            name,
            old[name].size,
            figures.size,
            old[name].reclaimable,
            figures.reclaimable,
            bool(old[name].digest and figures.digest and old[name].digest != figures.digest),
        )
        for name, figures in now.items()
        if name in old
        and (old[name].size, old[name].reclaimable) != (figures.size, figures.reclaimable)
    ]
    changed.sort(key=lambda c: (-c.grown, c.name))
    return Changes(
        total_bytes=(before.total_bytes, after.total_bytes),
        unique_bytes=(before.unique_bytes, after.unique_bytes),
        reclaimable=(before.reclaimable, after.reclaimable),
        changed=tuple(changed),
        added=tuple(sorted(n for n in now if n not in old)),
        # An image that failed this time is not reported gone: its figures are unknown.
        removed=tuple(sorted(n for n in old if n not in now and n not in failed)),
    )
