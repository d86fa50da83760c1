"""History rows as the daemon computes them (docker-formats.md §3.1, §3.2)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from deadweight import static
from deadweight.errors import CorruptImage
from deadweight.history import MISSING, HistoryRow, history_rows
from deadweight.image import Image, Layer, assemble
from deadweight.spec.config import GO_ZERO_TIME

A1 = "sha256:" + "a1" * 32
A2 = "sha256:" + "a2" * 32


def _layers(n: int) -> list[Layer]:
    return [static.layer([static.File(f"f{i}", b"x" * (i + 1))]) for i in range(n)]


def _image_with_history(history: list[dict[str, Any]] | None, n_layers: int) -> Image:
    layers = _layers(n_layers)
    doc: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-11-27T03:58:52Z",
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
    }
    if history is not None:
        doc["history"] = history
    return assemble(json.dumps(doc).encode(), layers, source="test-image")


def test_rows_are_newest_first_and_empty_layers_take_no_size() -> None:
    img = static.image(
        [
            static.Step("ADD rootfs /", static.layer([static.File("a", b"abc")])),
            static.Step("ENV A=1", created="2026-11-27T03:58:53Z", comment="env"),
            static.Step("RUN make", static.layer([static.File("b", b"12345")])),
            static.Step('CMD ["sh"]'),
        ]
    )
    rows = history_rows(img, (3, 5))
    assert [(r.created_by, r.size) for r in rows] == [
        ('CMD ["sh"]', 0),
        ("RUN make", 5),
        ("ENV A=1", 0),
        ("ADD rootfs /", 3),
    ]
    assert rows[2] == HistoryRow(MISSING, 1795751933, "ENV A=1", "env", 0)


def test_sizes_are_taken_by_position_not_recomputed() -> None:
    img = static.image([static.Step("one", static.layer([])), static.Step("two", static.layer([]))])
    assert [r.size for r in history_rows(img, (11, 22))] == [22, 11]


def test_only_top_row_has_an_id_without_ancestors() -> None:
    img = static.image([static.Step("a", static.layer([])), static.Step("b"), static.Step("c")])
    assert [r.id for r in history_rows(img, (0,))] == [img.id, MISSING, MISSING]


def test_ancestors_fill_rows_then_missing() -> None:
    img = static.image([static.Step(s, static.layer([])) for s in "abcd"])
    img = dataclasses.replace(img, ancestors=(A1, A2))
    assert [r.id for r in history_rows(img, (0, 0, 0, 0))] == [img.id, A1, A2, MISSING]


def test_ancestors_longer_than_history_are_ignored() -> None:
    img = static.image([static.Step("only", static.layer([]))])
    img = dataclasses.replace(img, ancestors=(A1, A2))
    assert [r.id for r in history_rows(img, (0,))] == [img.id]


def test_empty_layer_plays_no_role_in_the_id_walk() -> None:
    img = static.image([static.Step("a", static.layer([])), static.Step("ENV x")])
    img = dataclasses.replace(img, ancestors=(A1,))
    rows = history_rows(img, (9,))
    assert [(r.id, r.created_by, r.size) for r in rows] == [(img.id, "ENV x", 0), (A1, "a", 9)]


def test_fewer_history_entries_than_layers_hides_the_extra_layers() -> None:
    img = _image_with_history([{"created_by": "first"}], n_layers=2)
    rows = history_rows(img, (11, 22))
    assert rows == (HistoryRow(img.id, GO_ZERO_TIME, "first", "", 11),)


def test_more_non_empty_entries_than_layers_is_corrupt() -> None:
    img = _image_with_history(
        [{"created_by": "a"}, {"created_by": "b", "empty_layer": True}, {"created_by": "c"}],
        n_layers=1,
    )
    with pytest.raises(CorruptImage) as err:
        history_rows(img, (1,))
    assert type(err.value) is CorruptImage
    assert str(err.value) == "test-image: too many non-empty layers in History section"


def test_empty_layer_entries_beyond_the_layers_are_fine() -> None:
    img = _image_with_history(
        [{"created_by": "a"}, {"created_by": "ENV b", "empty_layer": True}], n_layers=1
    )
    assert [(r.created_by, r.size) for r in history_rows(img, (4,))] == [("ENV b", 0), ("a", 4)]


def test_no_history_key_gives_no_rows() -> None:
    img = _image_with_history(None, n_layers=2)
    assert img.history is None
    assert history_rows(img, (1, 2)) == ()


def test_empty_history_list_gives_no_rows() -> None:
    img = _image_with_history([], n_layers=1)
    assert img.history == ()
    assert history_rows(img, (1,)) == ()


def test_missing_fields_print_empty_and_go_zero_time() -> None:
    img = _image_with_history([{}], n_layers=1)
    (row,) = history_rows(img, (5,))
    assert row == HistoryRow(img.id, GO_ZERO_TIME, "", "", 5)
