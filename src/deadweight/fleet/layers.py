"""What one unique layer of a fleet holds that matters across images."""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.filetree.delta import LayerDelta

# Files from this size up are compared across images by content.
LARGE_FILE = 1 << 20


@dataclass(frozen=True, slots=True)
class LargeFile:
    path: str
    size: int
    digest: str


@dataclass(frozen=True, slots=True)
class LayerFacts:
    """A layer by diff_id: docker's size, its stored (compressed) size, its large files."""

    diff_id: str
    size: int
    stored: int
    large_files: tuple[LargeFile, ...]


def layer_facts(
    diff_id: str, delta: LayerDelta, stored: int, min_size: int = LARGE_FILE
) -> LayerFacts:
    files = tuple(
        sorted(
            (
                LargeFile(e.path, e.size, e.digest)
                for e in delta.entries
                if e.kind == "file" and e.size >= min_size and e.digest
            ),
            key=lambda f: (f.path, f.digest),
        )
    )
    return LayerFacts(diff_id, delta.size, stored, files)
