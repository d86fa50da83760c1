"""A history row as docker's Engine API presents it (``ImageHistoryResponseItem``)."""

from __future__ import annotations

from dataclasses import dataclass

MISSING = "<missing>"


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One row of ``docker history``: newest first, ``id`` is an image ID or ``<missing>``."""

    id: str
    created: int
    created_by: str
    comment: str
    size: int
