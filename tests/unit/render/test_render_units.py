"""go-units wording of sizes and durations (docker-formats.md §5.1, §5.2, §7)."""

from __future__ import annotations

import pytest

from deadweight.render.units import (
    MAX_DURATION_NS,
    MIN_DURATION_NS,
    human_duration_ns,
    human_size,
    since_ns,
)
from deadweight.spec.config import GO_ZERO_TIME

# Every row of §7's size table (history SIZE column, precision 3), plus 1996 from 46.
SIZE_TABLE = [
    (0, "0B"),
    (1, "1B"),
    (999, "999B"),
    (1000, "1kB"),
    (1001, "1kB"),
    (1125, "1.12kB"),
    (1135, "1.14kB"),
    (1375, "1.38kB"),
    (1499, "1.5kB"),
    (1500, "1.5kB"),
    (1994, "1.99kB"),
    (1995, "2kB"),
    (1996, "2kB"),
    (2500, "2.5kB"),
    (9994, "9.99kB"),
    (9995, "9.99kB"),
    (9996, "10kB"),
    (99949, "99.9kB"),
    (99950, "100kB"),
    (99951, "100kB"),
    (997500, "998kB"),
    (998500, "998kB"),
    (999499, "999kB"),
    (999500, "1e+03kB"),
    (999999, "1e+03kB"),
    (1000000, "1MB"),
    (1005000, "1MB"),
    (1005001, "1.01MB"),
    (5592405, "5.59MB"),
    (67108864, "67.1MB"),
    (125829120, "126MB"),
    (198899364, "199MB"),
    (205492871, "205MB"),
    (12345, "12.3kB"),
    (33, "33B"),
]


@pytest.mark.parametrize(("n", "shown"), SIZE_TABLE)
def test_human_size_precision_3(n: int, shown: str) -> None:
    assert human_size(n) == shown


@pytest.mark.parametrize(
    ("n", "shown"),
    [(205492871, "205.5MB"), (12345, "12.35kB"), (198899364, "198.9MB"), (10, "10B"), (33, "33B")],
)
def test_human_size_precision_4_is_virtual_size(n: int, shown: str) -> None:
    assert human_size(n, 4) == shown


def test_human_size_beyond_the_last_unit_and_below_zero() -> None:
    assert human_size(10**24) == "1YB"
    assert human_size(10**27) == "1e+03YB"
    assert human_size(-5) == "-5B"  # no division below 1000, as in Go


S = 1795751587
NOW = S + 0.17  # the CLI clock of example 40
H = 3600
D = 24 * H

# §7 durations: the entry was created at S - delta (whole seconds), seen at S + 0.17.
DURATION_TABLE = [
    (-3600, "Less than a second"),
    (-10, "Less than a second"),
    (0, "Less than a second"),
    (1, "1 second"),
    (2, "2 seconds"),
    (59, "59 seconds"),
    (60, "About a minute"),
    (119, "About a minute"),
    (120, "2 minutes"),
    (3599, "59 minutes"),
    (3600, "About an hour"),
    (5399, "About an hour"),
    (5400, "2 hours"),
    (47 * H + 1800 - 1, "47 hours"),
    (47 * H + 1800, "2 days"),
    (13 * D + 23 * H + 1800 - 1, "13 days"),
    (13 * D + 23 * H + 1800, "2 weeks"),
    (59 * D + 23 * H + 1800 - 1, "8 weeks"),
    (59 * D + 23 * H + 1800, "2 months"),
    (729 * D + 23 * H + 1800 - 1, "24 months"),
    (729 * D + 23 * H + 1800, "1 years"),
    (730 * D, "2 years"),
    (1095 * D - 1, "2 years"),
    (1095 * D, "3 years"),
]


@pytest.mark.parametrize(("delta", "shown"), DURATION_TABLE)
def test_human_duration_boundaries(delta: int, shown: str) -> None:
    assert human_duration_ns(since_ns(NOW, S - delta)) == shown


@pytest.mark.parametrize(
    ("created", "shown"),
    [
        (946684801, "26 years"),
        (946684800, "26 years"),
        (0, "56 years"),
        (GO_ZERO_TIME, "292 years"),
    ],
)
def test_absolute_dates_and_saturation(created: int, shown: str) -> None:
    assert human_duration_ns(since_ns(NOW, created)) == shown


def test_durations_saturate_like_go() -> None:
    assert since_ns(NOW, GO_ZERO_TIME) == MAX_DURATION_NS
    assert since_ns(GO_ZERO_TIME, 10**12) == MIN_DURATION_NS
    assert human_duration_ns(MAX_DURATION_NS) == "292 years"
    assert human_duration_ns(MIN_DURATION_NS) == "Less than a second"


def test_fraction_precision() -> None:
    assert human_duration_ns(59_990_000_000) == "59 seconds"
    assert human_duration_ns(60_000_000_000) == "About a minute"
    assert abs(since_ns(1795751587.174762203, S) - 174762203) < 1000
    assert human_duration_ns(since_ns(S + 0.9, S - 59)) == "59 seconds"
