"""Hostile ``--format`` templates (issue 16): each ends in Go's answer or one
:class:`UsageError` naming the bound, never a Python exception or gigabytes allocated."""

from __future__ import annotations

import pytest

from deadweight import limits
from deadweight.errors import UsageError
from deadweight.render.formatter import write
from deadweight.render.gotemplate import GoStruct, render_template
from deadweight.render.tabwriter import tabwrite

ROW = GoStruct("*formatter.historyContext", {"ID": "abc", "Size": "1 kB", "CreatedBy": "RUN x"})


def fmt(template: str, rows: int = 1) -> str:
    return write(template, [ROW] * rows, {"ID": "IMAGE", "Size": "SIZE", "CreatedBy": "CREATED BY"})


def test_variable_declared_from_itself_is_undefined_as_in_go() -> None:
    with pytest.raises(UsageError) as err:
        fmt("{{$x := $x}}")
    assert str(err.value) == (
        'template parsing error: template: :1:8: executing "" at <$x>: undefined variable: $x'
    )


def test_variable_declared_from_itself_in_a_range_is_undefined() -> None:
    with pytest.raises(UsageError, match="undefined variable: \\$y"):
        render_template("{{range $y := $y.A}}{{end}}", {"A": [1]})


@pytest.mark.parametrize("tabs", [1_000, 5_000])
def test_table_of_thousands_of_tabs(tabs: int) -> None:
    out = fmt("table {{.ID}}" + "\\t" * tabs + "{{.Size}}", rows=3)
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[1].startswith("abc") and lines[1].endswith("1 kB")


def test_tabwriter_of_many_columns_is_go_layout() -> None:
    text = "\t".join("ab" for _ in range(3000)) + "\n" + "\t".join("c" for _ in range(3000)) + "\n"
    out = tabwrite(text)
    assert out.splitlines()[0] == ("ab" + " " * 8) * 2999 + "ab"
    assert out.splitlines()[1] == ("c" + " " * 9) * 2999 + "c"


@pytest.mark.parametrize(
    "template",
    [
        "{{" + "(" * 5_000 + "1" + ")" * 5_000 + "}}",
        "{{if 1}}" * 5_000 + "{{end}}" * 5_000,
        "{{with 1}}" * 3_000 + "x" + "{{end}}" * 3_000,
        "{{range .}}" * 2_000,
        "{{print " + "(print " * 4_000 + "1" + ")" * 4_000 + "}}",
    ],
    ids=["parens", "if", "with", "range-unclosed", "calls"],
)
def test_deep_nesting_is_refused(template: str) -> None:
    with pytest.raises(UsageError, match=f"nesting deeper than {limits.TEMPLATE_DEPTH} levels"):
        fmt(template)


def test_nesting_at_the_limit_runs() -> None:
    depth = limits.TEMPLATE_DEPTH - 2
    assert fmt("{{if 1}}" * depth + "x" + "{{end}}" * depth) == "x\n"
    assert fmt("{{" + "(" * depth + "1" + ")" * depth + "}}") == "1\n"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{printf "%c" 1114112}}', "\ufffd"),
        ('{{printf "%c" -1}}', "\ufffd"),
        ('{{printf "%c" 55296}}', "\ufffd"),
        ('{{printf "%c" 65}}', "A"),
        ('{{printf "%c" 0x7fffffffffffffff}}', "\ufffd"),
        ('{{printf "%5000000d" 1}}', "%!(BADWIDTH)1"),
        ('{{printf "%' + "9" * 5000 + 'd" 1}}', "%!(BADWIDTH)1"),
        ('{{printf "%.9999999f" 1.5}}', "%!(BADPREC)1.500000"),
        ('{{printf "%8d" 7}}', "       7"),
        ("{{18446744073709551615}}", "18446744073709551615"),
        ("{{100000000000000000000}}", "1e+20"),
    ],
)
def test_printf_and_numbers_as_go(template: str, expected: str) -> None:
    assert fmt(template) == expected + "\n"


@pytest.mark.parametrize(
    "literal",
    ["0x" + "f" * 20, "0x" + "f" * 4_000, "9" * 4_000, "1" * 5_000, "0b" + "1" * 70, "1e999"],
)
def test_number_literals_past_64_bits_are_illegal(literal: str) -> None:
    with pytest.raises(UsageError, match="illegal number syntax"):
        fmt("{{" + literal + "}}")


def test_pad_asked_for_gigabytes_is_refused() -> None:
    with pytest.raises(UsageError, match=f"pad: result longer than {limits.TEMPLATE_TEXT}"):
        fmt("{{pad .ID 4000000000 0}}")
    with pytest.raises(UsageError, match="pad: result longer"):
        fmt("{{pad .ID 0 9223372036854775807}}")


def test_pad_of_a_sane_size_works() -> None:
    assert fmt("{{pad .ID 2 1}}") == "  abc \n"


def test_split_into_millions_of_pieces_is_refused() -> None:
    with pytest.raises(UsageError, match=f"split: more than {limits.TEMPLATE_ITEMS} pieces"):
        fmt('{{split (pad .ID 0 2000000) ""}}')


def test_total_output_is_bounded() -> None:
    big = '{{range split (pad "x" 0 100) ""}}{{pad "y" 16000000 0}}{{end}}'
    with pytest.raises(UsageError, match="output longer than"):
        fmt(big)
