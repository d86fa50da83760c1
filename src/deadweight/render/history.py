"""``docker history`` output as docker CLI 20.10 prints it (docker-formats.md §3.3, §6).

The rows come from :func:`deadweight.history.history_rows`; this module only words and
lays them out. ``now`` is injected (the CLI uses ``time.time()``) so output is testable.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from deadweight.history import HistoryRow
from deadweight.render import formatter
from deadweight.render._gotime import local_zone, rfc3339
from deadweight.render.gotemplate import GoStruct
from deadweight.render.text import ellipsis, truncate_id
from deadweight.render.units import human_duration_ns, human_size, since_ns

DEFAULT_FORMAT = "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"
NON_HUMAN_FORMAT = "table {{.ID}}\\t{{.CreatedAt}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"
QUIET_FORMAT = "{{.ID}}"
CREATED_BY_WIDTH = 45

HEADER = {
    "ID": "IMAGE",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY",
    "Size": "SIZE",
    "Comment": "COMMENT",
}


def history_format(format_: str, *, quiet: bool, human: bool) -> str:
    """``NewHistoryFormat``: ``-q`` and ``-H=false`` only matter for the default table.

    CLI 20.10 has no ``json`` keyword: ``--format json`` is the literal template ``json``.
    """
    if format_ in ("", formatter.TABLE):
        if quiet:
            return QUIET_FORMAT
        return DEFAULT_FORMAT if human else NON_HUMAN_FORMAT
    return format_


def history_context(
    row: HistoryRow, *, now: float, tz: _dt.tzinfo, trunc: bool, human: bool
) -> GoStruct:
    """The methods of ``formatter.historyContext`` for one row, evaluated."""
    created_at = rfc3339(row.created, tz)
    since = human_duration_ns(since_ns(now, row.created)) + " ago" if human else created_at
    created_by = row.created_by.replace("\t", " ")
    return GoStruct(
        "*formatter.historyContext",
        {
            "ID": truncate_id(row.id) if trunc else row.id,
            "CreatedSince": since,
            "CreatedAt": created_at,
            "CreatedBy": ellipsis(created_by, CREATED_BY_WIDTH) if trunc else created_by,
            "Size": human_size(row.size) if human else str(row.size),
            "Comment": row.comment,
        },
    )


def format_history(
    rows: Sequence[HistoryRow],
    *,
    now: float,
    tz: _dt.tzinfo | None = None,
    no_trunc: bool = False,
    human: bool = True,
    quiet: bool = False,
    format: str = "",
) -> str:
    """The exact stdout of ``docker history [--no-trunc] [-H=false] [-q] [--format F]``.

    ``tz`` defaults to the zone Go would use for ``time.Local`` (``TZ``, else
    ``/etc/localtime``). Raises :class:`~deadweight.errors.UsageError` for a template
    that does not parse or cannot be applied to a row.
    """
    zone = tz or local_zone()
    # one row's context at a time: 100,000 rows held as many dictionaries (issue 16)
    contexts = (
        history_context(row, now=now, tz=zone, trunc=not no_trunc, human=human) for row in rows
    )
    return formatter.write(history_format(format, quiet=quiet, human=human), contexts, HEADER)
