"""What ``docker images`` knows about one image, and the order the daemon lists images in.

docker-formats.md §4.1: the daemon collects an image's references sorted by their full
normalized string, splits them into tagged (``RepoTags``) and digested (``RepoDigests``)
ones in familiar form, and sorts images by ``Created`` (whole seconds), newest first, with
Go's unstable sort — images created in the same second come out in an arbitrary order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deadweight.errors import InvalidReference
from deadweight.reference import Reference


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """One image of a ``docker images`` listing.

    ``repo_tags`` are familiar references with a tag (``"dfx-bk:latest"``),
    ``repo_digests`` familiar references with a digest (``"repo@sha256:…"``); both
    empty for an untagged image. ``created`` is Unix seconds (Go's zero time when the
    config has none) and ``size`` the sum of the layer sizes in bytes.
    """

    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    created: int
    size: int


def reference_key(text: str) -> str:
    """Sort key of a reference: its full normalized string, e.g.
    ``docker.io/library/dfx-bk:v1.10``; text that does not parse sorts as itself."""
    try:
        return str(Reference.parse(text, default_tag=False))
    except InvalidReference:
        return text


def _first_reference(item: ImageSummary) -> str:
    refs = sorted(map(reference_key, item.repo_tags + item.repo_digests))
    return refs[0] if refs else ""


def sort_summaries(items: Iterable[ImageSummary]) -> tuple[ImageSummary, ...]:
    """The daemon's listing order, made deterministic.

    Each image's ``repo_tags`` and ``repo_digests`` are put in the daemon's order (by
    :func:`reference_key`). Images are ordered by ``created``, newest first; ties — which
    docker breaks at random — by image ID, then by first reference. The ID tie-break is
    the one that matches most recorded outputs (docker-formats-examples 20-24 and 60 show
    it; 25, 26 and 62 show the other outcome of the same coin toss).
    """
    normalized = [
        ImageSummary(
            item.id,
            tuple(sorted(item.repo_tags, key=reference_key)),
            tuple(sorted(item.repo_digests, key=reference_key)),
            item.created,
            item.size,
        )
        for item in items
    ]
    return tuple(sorted(normalized, key=lambda s: (-s.created, s.id, _first_reference(s))))
