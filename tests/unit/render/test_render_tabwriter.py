"""The tab writer port (Go text/tabwriter, minwidth 10, padding 3; docker-formats.md §6.2)."""

from __future__ import annotations

import pytest

from deadweight.render.tabwriter import tabwrite
from deadweight.render.text import char_width


def sp(n: int) -> str:
    return " " * n


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("plain\n", "plain\n"),
        ("a\tb\n", "a" + sp(9) + "b\n"),
        ("a\tb", "a" + sp(9) + "b"),  # unterminated last line
        ("a\t\n", "a" + sp(9) + "\n"),  # an empty last cell: the column is still padded
        ("aaaaaaaaaaaa\tx\nb\ty\n", "aaaaaaaaaaaa" + sp(3) + "x\nb" + sp(14) + "y\n"),
        ("a\tb\tccccccccccccccccccc\n", "a" + sp(9) + "b" + sp(9) + "ccccccccccccccccccc\n"),
    ],
)
def test_basic_layout(text: str, expected: str) -> None:
    assert tabwrite(text) == expected


def test_a_line_with_fewer_cells_ends_the_column_block() -> None:
    text = "a\tb\tc\nd\te\nfffffffffffff\tg\th\n"
    assert tabwrite(text) == (
        "a"
        + sp(15)
        + "b"
        + sp(9)
        + "c\n"
        + "d"
        + sp(15)
        + "e\n"
        + "fffffffffffff"
        + sp(3)
        + "g"
        + sp(9)
        + "h\n"
    )


def test_a_single_cell_line_flushes() -> None:
    text = "aaaaaaaaaaaaaaa\tx\nno tabs here\nb\ty\n"
    assert tabwrite(text) == "aaaaaaaaaaaaaaa" + sp(3) + "x\nno tabs here\nb" + sp(9) + "y\n"


def test_an_embedded_newline_reshapes_the_block() -> None:
    # A LF inside a cell starts a new line whose first cell is in the first column.
    text = "ID\tCREATED BY\tSIZE\n<missing>\tline1\nline2 (embedded newline)\t0B\tc17\n"
    assert tabwrite(text) == (
        "ID" + sp(25) + "CREATED BY" + sp(3) + "SIZE\n"
        "<missing>" + sp(18) + "line1\n"
        "line2 (embedded newline)" + sp(3) + "0B" + sp(8) + "c17\n"
    )


def test_form_feed_ends_the_line_and_flushes() -> None:
    text = "aaaaaaaaaaaaaaaa\tx\fb\ty\n"
    assert tabwrite(text) == "aaaaaaaaaaaaaaaa" + sp(3) + "x\nb" + sp(9) + "y\n"


def test_vertical_tab_separates_cells() -> None:
    assert tabwrite("a\vb\tc\n") == "a" + sp(9) + "b" + sp(9) + "c\n"


def test_cells_are_measured_in_code_points_unless_told_otherwise() -> None:
    assert tabwrite("日本\tx\n") == "日本" + sp(8) + "x\n"
    assert tabwrite("日本\tx\n", width=lambda s: sum(map(char_width, s))) == "日本" + sp(6) + "x\n"
    assert tabwrite("é\u0301\tx\n") == "é\u0301" + sp(8) + "x\n"


def test_minwidth_padding_and_padchar() -> None:
    assert tabwrite("ab\tc\n", minwidth=0, padding=1) == "ab c\n"
    assert tabwrite("ab\tc\n", minwidth=12, padding=2) == "ab" + sp(10) + "c\n"
    assert tabwrite("ab\tc\n", minwidth=4, padding=1, padchar=".") == "ab..c\n"
