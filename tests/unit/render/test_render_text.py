"""Ellipsis, ID truncation and widths of CLI 20.10 (docker-formats.md §5.3, §5.4, §7)."""

from __future__ import annotations

import pytest

from deadweight.render.text import (
    char_width,
    codepoint_width,
    ellipsis,
    truncate_id,
)

JA = "日"
E_ACUTE = "e\u0301"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 44, "a" * 44),
        ("b" * 45, "b" * 45),
        ("c" * 46, "c" * 44 + "…"),
        ("d" * 100, "d" * 44 + "…"),
        (JA * 24, JA * 22 + "…"),
        (JA * 22 + "x", JA * 22 + "x"),
        ("a" + JA * 22, "a" + JA * 22),
        ("ab" + JA * 22, "ab" + JA * 21 + "…"),
        ("é" * 50, "é" * 44 + "…"),
        (E_ACUTE * 30, E_ACUTE * 22 + "…"),
        ("😀" * 30, "😀" * 22 + "…"),
        ("…" * 50, "…" * 45),
        (
            '|1 BUILDARG=default /bin/sh -c echo "日本語テキスト and more"',
            '|1 BUILDARG=default /bin/sh -c echo "日本語…',
        ),
    ],
)
def test_ellipsis_at_45_columns(text: str, expected: str) -> None:
    assert ellipsis(text, 45) == expected


def test_ellipsis_small_widths_and_go_quirks() -> None:
    assert ellipsis("abc", 0) == ""
    assert ellipsis("abc", -1) == ""
    assert ellipsis("日本", 1) == "日"
    assert ellipsis("", 1) == ""
    assert ellipsis("abc", 2) == "a…"
    # The first character is wider than the room before the ellipsis: Go finds no cut.
    assert ellipsis("日日日", 2) == "日日日"


def test_widths() -> None:
    assert char_width("日") == 2
    assert char_width("😀") == 2
    assert char_width("é") == 1
    assert char_width("\u0301") == 1
    assert char_width("…") == 1
    assert codepoint_width("ab日\u0301") == 4


@pytest.mark.parametrize(
    ("raw", "short"),
    [
        ("sha256:1481e60261f73845a668c0a2cfc497f79f67b9d7f9dc7b8bd20b57bc2d45c7c5", "1481e60261f7"),
        ("1481e60261f73845a668", "1481e60261f7"),
        ("<missing>", "<missing>"),
        ("abc", "abc"),
        ("a:b:c", "b:c"),
        ("", ""),
    ],
)
def test_truncate_id(raw: str, short: str) -> None:
    assert truncate_id(raw) == short
