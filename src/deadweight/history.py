"""History rows as the docker daemon computes them (docker-formats.md §3.1, §3.2)."""

from __future__ import annotations

from collections.abc import Sequence

from deadweight.errors import CorruptImage
from deadweight.image import Image
from deadweight.spec.history import MISSING, HistoryRow

__all__ = ["MISSING", "HistoryRow", "history_rows"]


def history_rows(image: Image, sizes: Sequence[int]) -> tuple[HistoryRow, ...]:
    """Newest first. ``sizes`` are the per-layer sizes, bottom first.

    The top row carries the image ID, the next rows the IDs of the image's ancestors as far
    as the medium knows them, every other row ``<missing>``. Layers beyond the non-empty
    history entries are not shown, as docker does; more non-empty entries than layers is
    the error docker load reports.
    """
    rows: list[HistoryRow] = []
    index = 0
    for entry in image.history or ():
        size = 0
        if not entry.empty_layer:
            if index >= len(sizes):
                raise CorruptImage(
                    f"{image.source or 'image'}: too many non-empty layers in History section"
                )
            size = sizes[index]
            index += 1
        rows.append(HistoryRow(MISSING, entry.created, entry.created_by, entry.comment, size))
    rows.reverse()
    ids = (image.id, *image.ancestors)
    return tuple(
        HistoryRow(ids[i], r.created, r.created_by, r.comment, r.size) if i < len(ids) else r
        for i, r in enumerate(rows)
    )
