"""Package databases an image ships are input (the second campaign after issue 16): a
dpkg ``status`` or apk ``installed`` with absurd sizes or a field of a million lines."""

from __future__ import annotations

import pytest

from deadweight.analysis import packages as pkgs


@pytest.mark.parametrize("size", ["9" * 5000, "\u00b2", "\u0663", "12a", ""])
def test_a_size_that_is_no_ascii_number_counts_as_unknown(size: str) -> None:
    # 5,000 digits raised ValueError (Python's int-digits limit): an internal error of
    # analyze; "²" is a digit to str.isdigit but no number to int()
    status = f"Package: a\nStatus: install ok installed\nInstalled-Size: {size}\n"
    assert pkgs.parse_dpkg(status) == [("a", "", 0)]
    assert pkgs.parse_apk(f"P:a\nV:1\nI:{size}\n") == [("a", "1", 0)]
    assert pkgs.parse_dpkg(status.replace(size, "12") if size else status) == [
        ("a", "", 12 * 1024 if size else 0)
    ]


def test_a_field_of_a_million_lines_is_joined_once() -> None:
    # each continuation line was appended to the joined string, copying it: quadratic
    # (200,000 lines took 1 s, 2,000,000 about 100 s; now 0.4 s). The parse is the same:
    lines = 1_000_000
    text = (
        " stray continuation before any field\n"
        "Package: a\nConffiles:\n" + " /etc/x\n" * lines + "Package: a2\n"
        "\nPackage: b\nDepends: a,\n c\nDepends: d\n\t e\n"
    )
    (a, b) = pkgs.stanzas(text)
    assert a["Conffiles"] == "\n".join(["", *["/etc/x"] * lines])
    assert a["Package"] == "a2"  # a field given twice: the last
    assert b == {"Package": "b", "Depends": "d\ne"}
