"""``docker images`` byte for byte against the real CLI 20.10 (golden/, docker-formats §4, §6).

20-24 and 60 are rendered from :func:`sort_summaries`. Docker itself breaks two random
ties: images created in the same second (unstable sort) and the order of an image's
repositories (a Go map). 25, 26 and 62 recorded the other outcome of those ties, so they
are rendered from the order the daemon happened to send, which proves the rendering;
the tests at the end pin down which order :func:`sort_summaries` picks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from deadweight.render.images import format_images
from deadweight.summary import ImageSummary, sort_summaries

Images = Callable[[str], tuple[ImageSummary, ...]]
TEMPLATE_26 = "table {{.Repository}}:{{.Tag}}\\t{{.ID}}\\t{{.CreatedAt}}\\t{{.Size}}"


def _now(taken: str) -> float:
    return dt.datetime.fromisoformat(taken.replace("Z", "+00:00")).timestamp() + 0.5


SORTED_CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("20-images-filtered.txt", "dfx", "2026-11-27T03:58:59Z", {}),
    ("21-images-all-filtered.txt", "dfx", "2026-11-27T03:58:59Z", {}),
    ("22-images-notrunc.txt", "dfx", "2026-11-27T03:58:59Z", {"no_trunc": True}),
    ("23-images-digests.txt", "dfx", "2026-11-27T03:58:59Z", {"digests": True}),
    ("24-images-q.txt", "dfx", "2026-11-27T03:59:00Z", {"quiet": True}),
    ("29-images-dangling.txt", "dangling", "2026-11-27T03:59:00Z", {}),
    ("60-misc-images.txt", "misc", "2026-11-27T03:53:33Z", {}),
]


@pytest.mark.parametrize(
    ("golden_name", "dataset", "taken", "options"),
    SORTED_CASES,
    ids=[c[0][:2] for c in SORTED_CASES],
)
def test_images_output_matches_docker_20_10(
    golden_name: str,
    dataset: str,
    taken: str,
    options: dict[str, Any],
    images: Images,
    golden: Callable[[str], str],
) -> None:
    listing = sort_summaries(images(dataset))
    assert format_images(listing, now=_now(taken), tz=dt.UTC, **options) == golden(golden_name)


def _by_id(items: tuple[ImageSummary, ...], *prefixes: str) -> list[ImageSummary]:
    return [next(i for i in items if i.id.startswith("sha256:" + p)) for p in prefixes]


def test_25_json_rows_in_the_daemons_order(images: Images, golden: Callable[[str], str]) -> None:
    dangle, bk, legacy = _by_id(images("dfx"), "0cfe3ccfd886", "8e2812e61b22", "1481e60261f7")
    # This run's Go map iteration visited dfx-bk, then localhost:5000/…, then dfx-alias.
    rotated = dataclasses.replace(bk, repo_tags=(*bk.repo_tags[1:], bk.repo_tags[0]))
    out = format_images(
        [dangle, rotated, legacy], now=_now("2026-11-27T03:59:00Z"), tz=dt.UTC, format="{{json .}}"
    )
    assert out == golden("25-images-json.txt")


def test_26_custom_table(images: Images, golden: Callable[[str], str]) -> None:
    listing = _by_id(images("dfx"), "0cfe3ccfd886", "8e2812e61b22", "1481e60261f7")
    out = format_images(listing, now=_now("2026-11-27T03:59:00Z"), tz=dt.UTC, format=TEMPLATE_26)
    assert out == golden("26-images-template.txt")


def test_62_json(images: Images, golden: Callable[[str], str]) -> None:
    # future, nohistory, fewerhist (same second as nohistory), y2k, epoch0, nocreated
    listing = _by_id(images("misc"), "6b98", "ee39", "684e", "16f2", "e2a2", "d1df")
    out = format_images(listing, now=_now("2026-11-27T03:53:33Z"), tz=dt.UTC, format="{{json .}}")
    assert out == golden("62-misc-images-json.txt")


def test_62b_created_at_in_new_york(images: Images, golden: Callable[[str], str]) -> None:
    listing = [i for i in sort_summaries(images("misc")) if "hist" not in i.repo_tags[0]]
    out = format_images(
        listing,
        now=_now("2026-11-27T03:55:51Z"),
        tz=ZoneInfo("America/New_York"),
        format="{{.Repository}} {{.CreatedAt}}",
    )
    assert out == golden("62b-misc-images-CreatedAt-TZ-NewYork.txt")


def test_sort_breaks_same_second_ties_by_image_id(images: Images) -> None:
    order = [i.repo_tags[0] for i in sort_summaries(reversed(images("dfx")))]
    assert order == ["dfx-dangle:latest", "dfx-legacy:latest", "dfx-alias:latest"]
    misc = [i.repo_tags[0].split(":")[0] for i in sort_summaries(reversed(images("misc")))]
    assert misc == [
        "dfx-future",
        "dfx-fewerhist",
        "dfx-nohistory",
        "dfx-y2k",
        "dfx-epoch0",
        "dfx-nocreated",
    ]
