"""The result of comparing two images: one frozen, deterministically ordered value.

Every ``delta`` is B minus A, in docker's bytes (a file's length, a symlink's target length).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Bump when a field of the JSON document changes meaning or disappears.
SCHEMA_VERSION = 1

Status = Literal["added", "removed", "modified"]
StepStatus = Literal["same", "changed", "added", "removed"]


@dataclass(frozen=True, slots=True)
class SideInfo:
    """One of the two images: how it was named, its ID, size and platform."""

    name: str
    id: str
    size: int
    layers: int
    platform: str


@dataclass(frozen=True, slots=True)
class BaseInfo:
    """The base image as far as the config tells: a name (a label, when one says so), how
    many bottom layers are the base's, their bytes, and the base's top diff_id."""

    name: str
    layers: int
    size: int
    top: str


@dataclass(frozen=True, slots=True)
class StepChange:
    """One layer-writing step, aligned across the two images (``-1``: no such layer)."""

    status: StepStatus
    a_index: int
    b_index: int
    a_instruction: str
    b_instruction: str
    a_size: int
    b_size: int

    @property
    def delta(self) -> int:
        return self.b_size - self.a_size


@dataclass(frozen=True, slots=True)
class FileState:
    """A path on one side: kind, bytes as docker counts them, metadata, content digest."""

    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str
    digest: str


@dataclass(frozen=True, slots=True)
class FileChange:
    """A path that differs; ``changed`` names what (kind, size, mode, owner, content, link)."""

    path: str
    status: Status
    a: FileState | None
    b: FileState | None
    changed: tuple[str, ...]

    @property
    def delta(self) -> int:
        return (self.b.size if self.b else 0) - (self.a.size if self.a else 0)


@dataclass(frozen=True, slots=True)
class DirChange:
    """The changes below one directory ("" is the root), summed."""

    path: str
    delta: int
    added: int
    removed: int
    modified: int


@dataclass(frozen=True, slots=True)
class PackageChange:
    """A package added, removed or at another version (``a_version`` "" when added)."""

    ecosystem: str
    name: str
    status: Literal["added", "removed", "changed"]
    a_version: str
    b_version: str
    a_bytes: int
    b_bytes: int
    path: str

    @property
    def delta(self) -> int:
        return self.b_bytes - self.a_bytes


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One config field (``key`` set for env, labels, ports, volumes) that differs.

    ``a``/``b`` are display strings; None where the side does not have the key.
    """

    field: str
    key: str
    a: str | None
    b: str | None


@dataclass(frozen=True, slots=True)
class ImageDiff:
    """What changes from image A to image B, and where the bytes go.

    ``shared_layers`` bottom layers are the same diff_ids on both sides and were not read.
    ``base_known`` tells whether the shared base's file index was available (from the layer
    store); when not, a path only one side's own layers write is compared with *absent*
    (listed in ``assumed``), and deletions of base paths only one side makes are listed in
    ``unresolved``, as are package databases only one side's layers write. ``sizes_known``
    is False when sizing the shared layers would have meant downloading them: the two sizes
    then count only the layers that differ, and ``delta`` (exact either way) is all we say.
    """

    a: SideInfo
    b: SideInfo
    shared_layers: int
    shared_size: int
    base_a: BaseInfo
    base_b: BaseInfo
    steps: tuple[StepChange, ...]
    files: tuple[FileChange, ...]
    directories: tuple[DirChange, ...]
    packages: tuple[PackageChange, ...]
    config: tuple[ConfigChange, ...]
    base_known: bool = True
    sizes_known: bool = True  # False: shared layers were not sized; totals leave them out
    assumed: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()

    @property
    def delta(self) -> int:
        return self.b.size - self.a.size

    @property
    def percent(self) -> float:
        """Growth of B over A in percent (0 when A is empty and B too; inf if only A is)."""
        if self.a.size == 0:
            return 0.0 if self.b.size == 0 else float("inf")
        return 100.0 * self.delta / self.a.size

    @property
    def identical(self) -> bool:
        return self.a.id == self.b.id

    @property
    def user(self) -> ConfigChange | None:
        return next((c for c in self.config if c.field == "user"), None)
