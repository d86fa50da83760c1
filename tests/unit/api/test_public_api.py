"""The curated public API: sorted, complete, importable."""

from __future__ import annotations

import deadweight


def test_all_is_sorted_and_unique() -> None:
    assert deadweight.__all__ == sorted(set(deadweight.__all__))


def test_every_name_in_all_exists() -> None:
    missing = [name for name in deadweight.__all__ if not hasattr(deadweight, name)]
    assert missing == []


def test_public_names_are_exported() -> None:
    public = {
        name
        for name, value in vars(deadweight).items()
        if not name.startswith("_")
        and not isinstance(value, type(deadweight))
        and name not in {"annotations"}
    }
    assert public == set(deadweight.__all__)
