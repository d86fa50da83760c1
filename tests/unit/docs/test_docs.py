"""The documents a newcomer reads point only at things they can see: every relative link
resolves in the repository, and nothing refers to notes or discussions outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
UNSEEN = ("project notes", "in the issue", "the story in the issue", "ARCHITECTURE.md", "/work/")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (doc.parent / target).exists(), f"{doc.name}: {target} does not exist"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_nothing_refers_to_what_readers_cannot_see(doc: Path) -> None:
    text = doc.read_text()
    assert not [u for u in UNSEEN if u in text]


def test_the_architecture_is_documented_and_linked() -> None:
    assert (ROOT / "docs" / "architecture.md").is_file()
    assert "docs/architecture.md" in (ROOT / "CONTRIBUTING.md").read_text()
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
