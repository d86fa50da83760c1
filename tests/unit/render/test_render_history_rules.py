"""``docker history`` formats and fields beyond the recorded examples (§3.3, §6.1)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from deadweight.errors import UsageError
from deadweight.history import HistoryRow
from deadweight.render.formatter import template_body
from deadweight.render.history import (
    DEFAULT_FORMAT,
    NON_HUMAN_FORMAT,
    QUIET_FORMAT,
    format_history,
    history_format,
)

S = 1795751587
ROWS = (
    HistoryRow("sha256:" + "12" * 32, S - 30, "RUN\tx", "c\td", 999500),
    HistoryRow("<missing>", S - 7200, "", "", 0),
)


def render(**options: object) -> str:
    return format_history(ROWS, now=S + 0.5, tz=dt.UTC, **options)  # type: ignore[arg-type]


def test_format_selection() -> None:
    assert history_format("", quiet=False, human=True) == DEFAULT_FORMAT
    assert history_format("table", quiet=False, human=False) == NON_HUMAN_FORMAT
    assert history_format("table", quiet=True, human=False) == QUIET_FORMAT
    assert history_format("{{.Size}}", quiet=True, human=False) == "{{.Size}}"
    assert history_format("json", quiet=False, human=True) == "json"


def test_quiet_is_ignored_with_a_custom_format() -> None:
    assert render(quiet=True, format="{{.Size}}") == "1e+03kB\n0B\n"
    assert render(quiet=True, no_trunc=True) == f"sha256:{'12' * 32}\n<missing>\n"


def test_tabs_in_created_by_become_spaces_but_not_in_comment() -> None:
    assert render(format="{{.CreatedBy}}|{{.Comment}}") == "RUN x|c\td\n|\n"


def test_non_human_created_since_is_created_at() -> None:
    assert render(human=False, format="{{.CreatedSince}} {{.Size}}") == (
        "2026-11-27T03:52:37Z 999500\n2026-11-27T01:53:07Z 0\n"
    )


def test_table_prefix_and_escapes() -> None:
    assert template_body("table  {{.ID}}\\t{{.Size}}\\n ") == (True, "{{.ID}}\t{{.Size}}\n")
    assert template_body(" table {{.ID}}") == (False, "table {{.ID}}")
    assert template_body("tablex") == (True, "x")
    assert template_body("a\\\\tb") == (False, "a\\\tb")
    assert render(format="table {{.ID}}|{{.Size}}") == (
        "IMAGE|SIZE\n121212121212|1e+03kB\n<missing>|0B\n"
    )


def test_header_keeps_column_titles_through_functions() -> None:
    out = render(format="table {{lower .ID}}\\t{{json .Size}}\\t{{pad .Comment 1 1}}")
    # The TAB kept in the comment is one more cell separator (§6.3).
    assert out == (
        "IMAGE          SIZE         COMMENT \n"
        '121212121212   "1e+03kB"    c        d \n'
        '<missing>      "0B"        \n'
    )
    # {{json .}} cannot print the header map: docker keeps the partial header.
    assert render(format="table {{json .ID}}:{{json .}}").splitlines()[0] == "IMAGE:"


def test_errors() -> None:
    with pytest.raises(
        UsageError, match=r"^template parsing error: template: :1: unclosed action$"
    ):
        render(format="{{.ID")
    with pytest.raises(
        UsageError, match=re.escape("can't evaluate field Nope in type *formatter.historyContext")
    ):
        render(format="{{.Nope}}")
    assert format_history((), now=0, tz=dt.UTC, format="{{.Nope}}") == ""


def test_usage_errors_are_one_line() -> None:
    with pytest.raises(UsageError) as info:
        render(format="{{slice .ID 1 `\n`}}")
    assert str(info.value) == (
        'template parsing error: template: :1:2: executing "" at <slice .ID 1 `\\n`>: '
        "error calling slice: cannot index slice/array with type string"
    )
