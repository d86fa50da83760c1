"""Rows, formats and ordering of ``docker images`` beyond the recorded examples (§4)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from deadweight.errors import UsageError
from deadweight.render.images import (
    DEFAULT_FORMAT,
    DIGEST_FORMAT,
    image_format,
    image_rows,
)
from deadweight.render.images import format_images as _format_images
from deadweight.spec.config import GO_ZERO_TIME
from deadweight.summary import ImageSummary, reference_key, sort_summaries

NOW = 1795751587.5
DIGEST = "sha256:" + "d" * 64
DIGEST2 = "sha256:" + "e" * 64
ID = "sha256:" + "ab" * 32


def image(tags: tuple[str, ...] = (), digests: tuple[str, ...] = (), **kw: int) -> ImageSummary:
    return ImageSummary(ID, tags, digests, kw.get("created", 1795751580), kw.get("size", 1000))


def format_images(items: list[ImageSummary], **options: object) -> str:
    return _format_images(items, now=NOW, tz=dt.UTC, **options)  # type: ignore[arg-type]


def test_untagged_images_are_one_none_row() -> None:
    for item in (image(), image(("<none>:<none>",), ("<none>@<none>",))):
        assert image_rows(item, digests=True, need_digest=True) == [("<none>", "<none>", "<none>")]


def test_digests_are_shown_per_tag_only_when_asked() -> None:
    item = image(("repo:a", "repo:b"), (f"repo@{DIGEST}", f"repo@{DIGEST2}"))
    assert image_rows(item, digests=False, need_digest=False) == [
        ("repo", "a", "<none>"),
        ("repo", "b", "<none>"),
    ]
    assert image_rows(item, digests=True, need_digest=True) == [
        ("repo", "a", DIGEST),
        ("repo", "a", DIGEST2),
        ("repo", "b", DIGEST),
        ("repo", "b", DIGEST2),
    ]


def test_digest_only_repositories() -> None:
    item = image(("repo:a",), (f"other@{DIGEST}", f"other@{DIGEST2}", f"repo@{DIGEST}"))
    assert image_rows(item, digests=False, need_digest=False) == [
        ("repo", "a", "<none>"),
        ("other", "<none>", ""),
    ]
    assert image_rows(item, digests=True, need_digest=True) == [
        ("repo", "a", DIGEST),
        ("other", "<none>", DIGEST),
        ("other", "<none>", DIGEST2),
    ]
    # A format naming {{.Digest}} shows tag digests, but digest-only rows follow --digests.
    assert image_rows(item, digests=False, need_digest=True)[-1] == ("other", "<none>", "")


def test_repositories_in_order_of_first_appearance() -> None:
    item = image(("b:1", "a:1", "b:2", "localhost:5000/x/y:t", "docker.io/library/a:2"))
    assert [(r, t) for r, t, _ in image_rows(item, digests=False, need_digest=False)] == [
        ("b", "1"),
        ("b", "2"),
        ("a", "1"),
        ("a", "2"),
        ("localhost:5000/x/y", "t"),
    ]


def test_image_formats() -> None:
    assert image_format("", quiet=False, digests=False) == DEFAULT_FORMAT
    assert image_format("table", quiet=False, digests=True) == DIGEST_FORMAT
    assert image_format("table", quiet=True, digests=True) == "{{.ID}}"
    assert image_format("{{.ID}}", quiet=True, digests=True) == "{{.ID}}"
    assert image_format("table {{.ID}}", quiet=False, digests=True) == "table {{.ID}}\t{{.Digest}}"
    assert image_format("table {{.Digest}}", quiet=False, digests=True) == "table {{.Digest}}"
    assert image_format("raw", quiet=True, digests=False) == "image_id: {{.ID}}"


def test_digests_column_and_appended_digest() -> None:
    item = image(("repo:a",), (f"repo@{DIGEST}",))
    assert format_images([item], digests=True) == (
        "REPOSITORY   TAG       DIGEST" + " " * 68 + "IMAGE ID       CREATED         SIZE\n"
        f"repo         a         {DIGEST}   abababababab   7 seconds ago   1kB\n"
    )
    assert format_images([item], digests=True, format="table {{.Tag}}") == (
        f"TAG       DIGEST\na         {DIGEST}\n"
    )


def test_raw_format_and_empty_listing() -> None:
    item = image(("repo:a",), created=0, size=10)
    assert format_images([item], format="raw") == (
        "repository: repo\ntag: a\nimage_id: abababababab\n"
        "created_at: 1970-01-01 00:00:00 +0000 UTC\nvirtual_size: 10B\n\n"
    )
    assert format_images([]) == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
    assert format_images([], format="{{.ID}}") == ""


def test_json_fields_and_missing_created() -> None:
    item = image(("repo:a",), created=GO_ZERO_TIME, size=12345)
    assert format_images([item], format="{{json .}}") == (
        '{"Containers":"N/A","CreatedAt":"0001-01-01 00:00:00 +0000 UTC","CreatedSince":"",'
        '"Digest":"\\u003cnone\\u003e","ID":"abababababab","Repository":"repo","SharedSize":"N/A",'
        '"Size":"12.3kB","Tag":"a","UniqueSize":"N/A","VirtualSize":"12.35kB"}\n'
    )
    assert format_images([item]).splitlines()[1].split()[3] == "N/A"


def test_bad_templates_are_usage_errors() -> None:
    with pytest.raises(
        UsageError, match=r"^template parsing error: template: :1: unclosed action$"
    ):
        format_images([image(("r:a",))], format="{{.ID")
    with pytest.raises(
        UsageError, match=re.escape("can't evaluate field Nope in type *formatter.imageContext")
    ):
        format_images([image(("r:a",))], format="{{.Nope}}")
    # No row, no execution: docker prints the header and no error.
    assert format_images([], format="table {{.Nope}}") == "<no value>\n"


def test_reference_sort_key_and_summary_sorting() -> None:
    assert reference_key("dfx-bk:v1.10") == "docker.io/library/dfx-bk:v1.10"
    assert reference_key("<none>:<none>") == "<none>:<none>"
    item = ImageSummary(
        ID,
        ("localhost:5000/dfx/ns-repo:tag1", "dfx-bk:v1.9", "dfx-bk:v1.10", "dfx-alias:latest"),
        (f"zz@{DIGEST}", f"aa@{DIGEST}"),
        5,
        1,
    )
    older = ImageSummary("sha256:" + "00" * 32, ("old:1",), (), 4, 1)
    tie = ImageSummary("sha256:" + "ff" * 32, ("a:1",), (), 5, 1)
    result = sort_summaries([older, tie, item])
    assert [s.id for s in result] == [ID, tie.id, older.id]
    assert result[0].repo_tags == (
        "dfx-alias:latest",
        "dfx-bk:v1.10",
        "dfx-bk:v1.9",
        "localhost:5000/dfx/ns-repo:tag1",
    )
    assert result[0].repo_digests == (f"aa@{DIGEST}", f"zz@{DIGEST}")
