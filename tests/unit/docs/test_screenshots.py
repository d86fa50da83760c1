"""The README shows each report and the explorer as a picture the tests made: every one is
linked, is a real PNG of a real screen, and is written by an integration test's browser or
terminal run (``keep_screenshot``, which copies it here with ``DEADWEIGHT_UPDATE_DOCS=1``)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
SHOTS = {
    "html-analyze.png": "analyze --html",
    "html-analyze-layers.png": "analyze --html: the layers",
    "html-diff.png": "diff --html",
    "html-optimize.png": "optimize --html",
    "html-minify.png": "minify --html",
    "html-scan.png": "scan --html",
    "explore.png": "deadweight explore",
}


@pytest.mark.parametrize("name", sorted(SHOTS))
def test_each_screen_is_in_the_readme_and_made_by_a_test(name: str) -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"![{SHOTS[name]}](docs/images/{name})" in readme
    data = (ROOT / "docs" / "images" / name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 600 and height >= 400 and len(data) > 10_000  # a screen, not a blank
    makers = [
        p.name
        for p in (ROOT / "tests" / "integration").glob("test_*.py")
        if f'"{name}"' in p.read_text() or f'"{name.removesuffix(".png")}' in p.read_text()
    ]
    assert makers, f"no integration test takes {name}"
