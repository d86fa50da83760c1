"""Instants formatted as Go's ``time`` package does (docker-formats.md §5.5).

Go formats any year (``0000-12-31T19:03:58-04:56`` for the zero time in New York, where
the offset -4:56:02 is LMT and its seconds are dropped), while Python's ``datetime``
stops at year 1; so the civil date is computed here from the Unix seconds plus the zone
offset, and only the offset and abbreviation are asked of ``tzinfo``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from zoneinfo import ZoneInfo

from deadweight.errors import CorruptImage

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
# Instants whose local time stays inside datetime's range in every zone (UTC±1 day).
_SAFE_MIN = int((_dt.datetime(1, 1, 2, tzinfo=_dt.UTC) - _EPOCH).total_seconds())
_SAFE_MAX = int((_dt.datetime(9999, 12, 30, tzinfo=_dt.UTC) - _EPOCH).total_seconds())

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$"
)


def local_zone() -> _dt.tzinfo:
    """The zone Go's ``time.Local`` resolves to, from ``TZ`` as Go's ``initLocal`` reads it.

    Unset: ``/etc/localtime``. Empty or ``UTC``: UTC. ``:name`` is ``name``; an absolute
    path is a zone file; anything else a zoneinfo name. What cannot be loaded is UTC.
    """
    tz = os.environ.get("TZ")
    try:
        if tz is None:
            with open("/etc/localtime", "rb") as fh:
                return ZoneInfo.from_file(fh, key="Local")
        tz = tz.removeprefix(":")
        if tz.startswith("/"):
            with open(tz, "rb") as fh:
                return ZoneInfo.from_file(fh, key=tz)
        if tz and tz != "UTC":
            return ZoneInfo(tz)
    except (OSError, ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        pass
    return _dt.UTC


def _civil(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of a day count from 1970-01-01, any year."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def _zone(seconds: int, tz: _dt.tzinfo) -> tuple[int, str]:
    """Offset in seconds and abbreviation of ``tz`` at the instant ``seconds``."""
    clamped = min(max(seconds, _SAFE_MIN), _SAFE_MAX)
    local = (_EPOCH + _dt.timedelta(seconds=clamped)).astimezone(tz)
    offset = local.utcoffset()
    return (int(offset.total_seconds()) if offset else 0), (local.tzname() or "")


def _fields(seconds: int, offset: int) -> str:
    local = seconds + offset
    year, month, day = _civil(local // 86400)
    rest = local % 86400
    sign = "-" if year < 0 else ""
    return (
        f"{sign}{abs(year):04d}-{month:02d}-{day:02d}"
        f" {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    )


def _numeric_offset(offset: int, colon: bool) -> str:
    minutes = abs(offset) // 60  # Go: offset/60, truncating; the seconds are dropped
    sign = "-" if offset < 0 else "+"
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


def rfc3339(seconds: int, tz: _dt.tzinfo | None = None) -> str:
    """``time.Unix(seconds, 0).Format(time.RFC3339)`` in ``tz`` (default: Go's Local)."""
    offset, _ = _zone(seconds, tz or local_zone())
    zone = "Z" if offset == 0 else _numeric_offset(offset, colon=True)
    return _fields(seconds, offset).replace(" ", "T") + zone


def time_string(seconds: int, tz: _dt.tzinfo | None = None) -> str:
    """``time.Unix(seconds, 0).String()``: ``2006-01-02 15:04:05 -0700 MST``."""
    offset, name = _zone(seconds, tz or local_zone())
    return f"{_fields(seconds, offset)} {_numeric_offset(offset, colon=False)} " + (
        name or _numeric_offset(offset, colon=False)
    )


def rfc3339nano(text: str | None) -> str:
    """Re-format an RFC 3339 ``created`` as Go's ``Time.Format(time.RFC3339Nano)`` does.

    The offset written is the one parsed (Go keeps it); the fraction is cut to 9 digits
    and its trailing zeros dropped; a missing value is Go's zero time.
    """
    if not text:
        return "0001-01-01T00:00:00Z"
    m = _RFC3339.match(text)
    if not m:
        raise CorruptImage(f"config: 'created' is not an RFC 3339 time: {text!r}")
    date, clock = f"{m[1]}-{m[2]}-{m[3]}", f"{m[4]}:{m[5]}:{m[6]}"
    fraction = (m[7] or "")[:9].rstrip("0")
    offset = 0 if m[8] is None else (int(m[9]) * 60 + int(m[10])) * (1 if m[8] == "+" else -1)
    zone = "Z" if offset == 0 else f"{m[8]}{m[9]}:{m[10]}"
    return f"{date}T{clock}{'.' + fraction if fraction else ''}{zone}"
