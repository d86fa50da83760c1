"""``paths.lexical``: a path's ``.``, ``..`` and empty parts resolved as text."""

from __future__ import annotations

import pytest

from deadweight.filetree.paths import lexical


@pytest.mark.parametrize(
    ("path", "resolved"),
    [
        ("usr/lib/../bin/./python", "usr/bin/python"),
        ("/usr//lib/", "usr/lib"),
        ("../../etc/passwd", "etc/passwd"),  # a `..` at the root stays at the root
        ("site/../../x", "x"),
        ("", ""),
        ("./.", ""),
    ],
)
def test_lexical(path: str, resolved: str) -> None:
    assert lexical(path) == resolved
