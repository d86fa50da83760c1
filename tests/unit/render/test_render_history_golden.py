"""``docker history`` byte for byte against the real CLI 20.10 (golden/, docker-formats §3, §6).

``now`` is the UTC second the output was taken (INDEX.md) plus half a second: the CLI's
clock had some fraction we do not know, and every recorded age is stable across it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from deadweight.history import HistoryRow
from deadweight.render.history import format_history

TABLE_ID_BY_SIZE = "table {{.ID}}\\t{{.CreatedBy}}\\t{{.Size}}"
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
DURATIONS_NOW = 1795751587.174762203  # t0 of 40-41-42-timing.txt

CASES: list[tuple[str, str, str | float, dict[str, Any]]] = [
    ("01-legacy-history.txt", "dfx-legacy", "2026-11-27T03:58:58Z", {}),
    ("02-legacy-history-notrunc.txt", "dfx-legacy", "2026-11-27T03:58:58Z", {"no_trunc": True}),
    ("03-legacy-history-H-false.txt", "dfx-legacy", "2026-11-27T03:58:59Z", {"human": False}),
    ("04-legacy-history-q.txt", "dfx-legacy", "2026-11-27T03:58:59Z", {"quiet": True}),
    ("05-legacy-history-json.txt", "dfx-legacy", "2026-11-27T03:58:59Z", {"format": "{{json .}}"}),
    (
        "06-legacy-history-template.txt",
        "dfx-legacy",
        "2026-11-27T03:58:59Z",
        {"format": TABLE_ID_BY_SIZE},
    ),
    (
        "07-legacy-history-template-notable.txt",
        "dfx-legacy",
        "2026-11-27T03:58:59Z",
        {"format": "{{.ID}}|{{.CreatedSince}}|{{.CreatedAt}}|{{.Size}}|{{.Comment}}"},
    ),
    ("10-bk-history.txt", "dfx-bk", "2026-11-27T03:58:59Z", {}),
    ("11-bk-history-notrunc.txt", "dfx-bk", "2026-11-27T03:58:59Z", {"no_trunc": True}),
    ("12-bk-history-H-false.txt", "dfx-bk", "2026-11-27T03:58:59Z", {"human": False}),
    ("13-bk-history-q.txt", "dfx-bk", "2026-11-27T03:58:59Z", {"quiet": True}),
    ("14-bk-history-json.txt", "dfx-bk", "2026-11-27T03:58:59Z", {"format": "{{json .}}"}),
    (
        "17-legacy-multistage-history-notrunc.txt",
        "dfx-legacy-multi",
        "2026-11-27T03:58:59Z",
        {"no_trunc": True, "format": TABLE_ID_BY_SIZE},
    ),
    (
        "18-history-json-H-false.txt",
        "dfx-parent-b",
        "2026-11-27T03:57:33Z",
        {"human": False, "format": "{{json .}}"},
    ),
    (
        "19-json-field-vs-whole.txt",
        "t1",
        "2026-11-27T04:00:52Z",
        {"format": "{{json .CreatedBy}} | {{json .}}"},
    ),
    ("40-durations-history-d20.txt", "dfx-durations", DURATIONS_NOW, {}),
    ("43-durations-history-H-false.txt", "dfx-durations", "2026-11-27T03:53:10Z", {"human": False}),
    (
        "44-durations-history-H-false-TZ-NewYork.txt",
        "dfx-durations",
        "2026-11-27T03:53:10Z",
        {"human": False, "tz": NEW_YORK},
    ),
    ("46-sizes-history.txt", "dfx-sizes", "2026-11-27T03:53:13Z", {}),
    ("47-sizes-history-H-false.txt", "dfx-sizes", "2026-11-27T03:53:13Z", {"human": False}),
    ("50-strings-history.txt", "dfx-strings", "2026-11-27T03:53:16Z", {}),
    ("52-strings-history-notrunc.txt", "dfx-strings", "2026-11-27T03:53:16Z", {"no_trunc": True}),
    (
        "53-strings-history-json.txt",
        "dfx-strings",
        "2026-11-27T03:53:16Z",
        {"format": "{{json .}}"},
    ),
    (
        "54-strings-history-json-notrunc.txt",
        "dfx-strings",
        "2026-11-27T03:53:16Z",
        {"format": "{{json .}}", "no_trunc": True},
    ),
    (
        "56-history-format-json-keyword-d20.txt",
        "dfx-parent-b",
        "2026-11-27T03:54:50Z",
        {"format": "json"},
    ),
    (
        "58-history-format-literal-backslash-t.txt",
        "dfx-parent-b",
        "2026-11-27T03:54:50Z",
        {"format": "{{.ID}}\\t{{.Size}}\\n"},
    ),
    (
        "59-history-format-table-keyword.txt",
        "dfx-parent-b",
        "2026-11-27T03:54:50Z",
        {"format": "table"},
    ),
    (
        "62c-history-CreatedAt-TZ-Kolkata.txt",
        "dfx-parent-b",
        "2026-11-27T03:55:51Z",
        {"format": "{{.CreatedAt}} {{.CreatedBy}}", "tz": KOLKATA},
    ),
    ("63-nocreated-history.txt", "dfx-nocreated", "2026-11-27T03:53:33Z", {}),
    ("65-nohistory-history.txt", "dfx-nohistory", "2026-11-27T03:53:33Z", {}),
    ("66-fewerhist-history.txt", "dfx-fewerhist", "2026-11-27T03:53:33Z", {}),
    ("67-future-history.txt", "dfx-future", "2026-11-27T03:53:34Z", {}),
    ("68-parent-c-history.txt", "dfx-parent-c", "2026-11-27T03:53:34Z", {}),
    ("69-parent-c-history-notrunc.txt", "dfx-parent-c", "2026-11-27T03:53:34Z", {"no_trunc": True}),
    ("70-parent-b-history.txt", "dfx-parent-b", "2026-11-27T03:53:34Z", {}),
    ("71-ctrl-history.txt", "dfx-ctrl", "2026-11-27T03:54:55Z", {}),
    ("73-ctrl-history-json-d20.txt", "dfx-ctrl", "2026-11-27T03:54:55Z", {"format": "{{json .}}"}),
]


def _now(taken: str | float) -> float:
    if isinstance(taken, float):
        return taken
    return dt.datetime.fromisoformat(taken.replace("Z", "+00:00")).timestamp() + 0.5


@pytest.mark.parametrize(
    ("golden_name", "dataset", "taken", "options"), CASES, ids=[c[0][:3] for c in CASES]
)
def test_history_output_matches_docker_20_10(
    golden_name: str,
    dataset: str,
    taken: str | float,
    options: dict[str, Any],
    rows: Callable[[str], tuple[HistoryRow, ...]],
    golden: Callable[[str], str],
) -> None:
    kwargs = {"tz": dt.UTC, **options}
    assert format_history(rows(dataset), now=_now(taken), **kwargs) == golden(golden_name)


def test_legacy_rows_come_from_the_real_config_and_parent_chain(
    rows: Callable[[str], tuple[HistoryRow, ...]],
) -> None:
    legacy = rows("dfx-legacy")
    assert len(legacy) == 16
    assert legacy[0].id == "sha256:1481e60261f73845a668c0a2cfc497f79f67b9d7f9dc7b8bd20b57bc2d45c7c5"
    assert "\t" in legacy[7].created_by  # the RUN with real TABs, shown with spaces
    assert [r.id for r in rows("dfx-bk")].count("<missing>") == 16


def test_default_zone_follows_the_tz_variable(
    monkeypatch: pytest.MonkeyPatch,
    rows: Callable[[str], tuple[HistoryRow, ...]],
    golden: Callable[[str], str],
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    out = format_history(rows("dfx-durations"), now=_now("2026-11-27T03:53:10Z"), human=False)
    assert out == golden("44-durations-history-H-false-TZ-NewYork.txt")
    monkeypatch.setenv("TZ", "")
    out = format_history(rows("dfx-durations"), now=_now("2026-11-27T03:53:10Z"), human=False)
    assert out == golden("43-durations-history-H-false.txt")
