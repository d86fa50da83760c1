"""``diff --format json`` written a batch of files at a time (issue 16): the same text as
the whole document encoded at once, whatever the batch size, with no files or many."""

from __future__ import annotations

import dataclasses
import json

import pytest
from test_compare_diff import app_a, app_b

from deadweight.compare import FileChange, FileState, compare
from deadweight.compare.budget import check
from deadweight.render import diff as render


def whole(d: object, budget: object = None) -> str:
    doc = render.document(d, budget)  # type: ignore[arg-type]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("batch", [1, 2, 3, 1024])
def test_chunks_make_the_whole_document(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_BATCH", batch)
    d = compare(app_a(), app_b())
    assert len(d.files) > 3
    budget = check(d, 1.0, None)
    chunks = list(render.json_chunks(d, budget))
    assert "".join(chunks) == whole(d, budget) == render.to_json(d, budget)
    assert len(chunks) == 2 + -(-len(d.files) // batch)


def test_no_files_and_odd_paths() -> None:
    d = compare(app_a(), app_b())
    assert render.to_json(dataclasses.replace(d, files=())) == whole(
        dataclasses.replace(d, files=())
    )
    state = FileState("file", 1, 0o644, 0, 0, "", "")
    odd = FileChange('a\n"files": [],\u00e9', "added", None, state, ())
    d = dataclasses.replace(d, files=(odd, *d.files))
    assert render.to_json(d) == whole(d)
