"""Go time formatting and TZ resolution (docker-formats.md §5.5)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from deadweight.errors import CorruptImage
from deadweight.render._gotime import local_zone, rfc3339, rfc3339nano, time_string
from deadweight.spec.config import GO_ZERO_TIME

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
FUTURE = 1830311587  # 2028-01-01T03:53:07Z


@pytest.mark.parametrize(
    ("seconds", "tz", "text"),
    [
        (0, dt.UTC, "1970-01-01T00:00:00Z"),
        (GO_ZERO_TIME, dt.UTC, "0001-01-01T00:00:00Z"),
        (GO_ZERO_TIME, NEW_YORK, "0000-12-31T19:03:58-04:56"),
        (946684799, NEW_YORK, "1999-12-31T18:59:59-05:00"),
        (1795751587 - 59 * 86400 - 84600, NEW_YORK, "2026-09-28T00:23:07-04:00"),
        (1795751287, KOLKATA, "2026-11-27T09:18:07+05:30"),
        (253402300800, dt.UTC, "10000-01-01T00:00:00Z"),
        (GO_ZERO_TIME - 367 * 86400, dt.UTC, "-0001-12-31T00:00:00Z"),
        (0, dt.timezone(dt.timedelta(seconds=30)), "1970-01-01T00:00:30+00:00"),
    ],
)
def test_rfc3339(seconds: int, tz: dt.tzinfo, text: str) -> None:
    assert rfc3339(seconds, tz) == text


@pytest.mark.parametrize(
    ("seconds", "tz", "text"),
    [
        (1795751587, dt.UTC, "2026-11-27 03:53:07 +0000 UTC"),
        (FUTURE, NEW_YORK, "2027-12-31 22:53:07 -0500 EST"),
        (0, NEW_YORK, "1969-12-31 19:00:00 -0500 EST"),
        (GO_ZERO_TIME, NEW_YORK, "0000-12-31 19:03:58 -0456 LMT"),
        (GO_ZERO_TIME, dt.UTC, "0001-01-01 00:00:00 +0000 UTC"),
        (0, dt.timezone(dt.timedelta(hours=2), ""), "1970-01-01 02:00:00 +0200 +0200"),
    ],
)
def test_time_string(seconds: int, tz: dt.tzinfo, text: str) -> None:
    assert time_string(seconds, tz) == text


def _offset(tz: dt.tzinfo) -> dt.timedelta | None:
    return dt.datetime(2026, 7, 1, tzinfo=dt.UTC).astimezone(tz).utcoffset()


def test_local_zone_reads_tz_like_go(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("", "UTC", "Nowhere/Bogus", "../../etc/passwd", "/no/such/file"):
        monkeypatch.setenv("TZ", value)
        assert local_zone() is dt.UTC, value
    monkeypatch.setenv("TZ", "America/New_York")
    assert _offset(local_zone()) == dt.timedelta(hours=-4)
    monkeypatch.setenv("TZ", ":Asia/Kolkata")
    assert _offset(local_zone()) == dt.timedelta(hours=5, minutes=30)
    zone_file = Path(zoneinfo.TZPATH[0]) / "Asia" / "Kolkata"
    monkeypatch.setenv("TZ", str(zone_file))
    assert _offset(local_zone()) == dt.timedelta(hours=5, minutes=30)
    monkeypatch.delenv("TZ")
    assert isinstance(local_zone(), dt.tzinfo)


def test_default_zone_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    assert rfc3339(0) == "1969-12-31T19:00:00-05:00"
    assert time_string(0).endswith("-0500 EST")


@pytest.mark.parametrize(
    ("created", "text"),
    [
        ("2026-11-27T03:58:52.74927893Z", "2026-11-27T03:58:52.74927893Z"),
        ("2026-11-27T03:58:52.500000000Z", "2026-11-27T03:58:52.5Z"),
        ("2026-11-27T03:58:52.000Z", "2026-11-27T03:58:52Z"),
        ("2026-11-27T03:58:52.1234567891Z", "2026-11-27T03:58:52.123456789Z"),
        ("2026-11-27T09:28:52+05:30", "2026-11-27T09:28:52+05:30"),
        ("2026-11-27T03:58:52+00:00", "2026-11-27T03:58:52Z"),
        (None, "0001-01-01T00:00:00Z"),
        ("", "0001-01-01T00:00:00Z"),
    ],
)
def test_rfc3339nano(created: str | None, text: str) -> None:
    assert rfc3339nano(created) == text


def test_rfc3339nano_rejects_what_go_cannot_parse() -> None:
    with pytest.raises(CorruptImage):
        rfc3339nano("yesterday")
