"""``images --filter``: docker 20.10's dangling, label, reference, before and since.

Expected rows are what /usr/bin/docker 20.10 listed for the same images loaded into its
engine (daemon/images/images.go; reference patterns are Go's ``path.Match``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from deadweight import static
from deadweight.errors import NotFound, UsageError
from deadweight.image import Image
from deadweight.summary import BadPattern, ImageFilters, go_path_match, select_images


def make(
    name: str,
    created: str,
    *,
    tags: tuple[str, ...] = (),
    digests: tuple[str, ...] = (),
    parent: Image | None = None,
    labels: dict[str, str] | None = None,
    config: object = "default",
) -> Image:
    fields: dict[str, object] = {"created": created}
    if config != "default":
        fields["config"] = config
    elif labels is not None:
        fields["config"] = {"Labels": labels}
    img = static.image(
        [static.Step(f"RUN {name}", static.layer([static.File(name)]), created=created)],
        repo_tags=tags,
        **fields,
    )
    ancestors = (parent.id, *parent.ancestors) if parent is not None else ()
    return dataclasses.replace(img, repo_digests=digests, ancestors=ancestors)


BASE = make("base", "2026-01-01T00:00:00Z")  # untagged, the parent of APP
APP = make("app", "2026-01-02T00:00:00.5Z", tags=("app:1.0", "app:latest"), parent=BASE)
SAME_SECOND = make("twin", "2026-01-02T00:00:00.25Z", tags=("reg.io/team/app:1.0",))
DANGLING = make("old", "2025-01-01T00:00:00Z")
PULLED = make("pulled", "2024-01-01T00:00:00Z", digests=("web@sha256:" + "a" * 64,))
LABELLED = make("lab", "2023-01-01T00:00:00Z", tags=("lab:1",), labels={"tier": "web", "e": ""})
NO_CONFIG = make("bare", "2022-01-01T00:00:00Z", tags=("bare:1",), config=None)
ALL = (BASE, APP, SAME_SECOND, DANGLING, PULLED, LABELLED, NO_CONFIG)


def listed(*flags: str, show_all: bool = False, images: Sequence[Image] = ALL) -> list[str]:
    rows = select_images(images, ImageFilters.parse(flags), show_all=show_all)
    return [
        f"{image.id[7:12]} {','.join(tags) or '-'} {','.join(d[:10] for d in digests) or '-'}"
        for image, tags, digests in rows
    ]


def short(image: Image, tags: str = "-", digests: str = "-") -> str:
    return f"{image.id[7:12]} {tags} {digests}"


def test_no_filter_hides_only_intermediate_images() -> None:
    assert listed() == [
        short(APP, "app:1.0,app:latest"),
        short(SAME_SECOND, "reg.io/team/app:1.0"),
        short(DANGLING),
        short(PULLED, "-", "web@sha256"),
        short(LABELLED, "lab:1"),
        short(NO_CONFIG, "bare:1"),
    ]
    assert short(BASE) in listed(show_all=True)


def test_dangling() -> None:
    # only images no other image has as parent; an image with only a digest stays
    assert listed("dangling=true") == [short(DANGLING), short(PULLED, "-", "web@sha256")]
    assert listed("dangling=true", show_all=True) == listed("dangling=true")
    assert listed(" DANGLING = true ", "dangling=false") == listed("dangling=true")
    assert short(DANGLING) not in listed("dangling=false")
    assert short(BASE) not in listed("dangling=false", show_all=True)
    assert short(PULLED, "-", "web@sha256") in listed("dangling=false")


def test_reference_patterns_keep_matching_references_only() -> None:
    assert listed("reference=app") == [short(APP, "app:1.0,app:latest")]
    assert listed("reference=app:1.*") == [short(APP, "app:1.0")]
    assert listed("reference=*/app") == []  # * never crosses a /
    assert listed("reference=*/*/app", "reference=lab") == [
        short(SAME_SECOND, "reg.io/team/app:1.0"),
        short(LABELLED, "lab:1"),
    ]
    assert listed("reference=web") == [short(PULLED, "-", "web@sha256")]
    assert listed("reference=[a-b]*:[^0-9]*") == [short(APP, "app:latest")]
    # untagged images are never listed with a reference filter, even with -a
    assert listed("reference=*", show_all=True) == listed("reference=*")
    assert short(DANGLING) not in listed("reference=*")


def test_labels_all_must_match() -> None:
    assert listed("label=tier") == [short(LABELLED, "lab:1")]
    assert listed("label=tier=web", "label=e=") == [short(LABELLED, "lab:1")]
    assert listed("label=tier=db") == []
    assert listed("label=tier", "label=missing") == []
    assert short(NO_CONFIG, "bare:1") not in listed("label=x")


def test_before_and_since_compare_full_times() -> None:
    # APP was created a quarter second after SAME_SECOND: docker compares nanoseconds
    assert listed("since=reg.io/team/app:1.0") == [short(APP, "app:1.0,app:latest")]
    assert listed("before=app:latest")[0] == short(SAME_SECOND, "reg.io/team/app:1.0")
    assert listed("before=app")[0] == short(SAME_SECOND, "reg.io/team/app:1.0")  # :latest
    assert listed(f"before={DANGLING.id[7:15]}", f"since={LABELLED.id}") == [
        short(PULLED, "-", "web@sha256")
    ]
    assert listed(f"since={BASE.id[7:]}") == [
        short(APP, "app:1.0,app:latest"),
        short(SAME_SECOND, "reg.io/team/app:1.0"),
    ]


def test_an_image_filters_name_must_exist() -> None:
    with pytest.raises(NotFound, match=r"^No such image: nope:latest$"):
        listed("before=nope")
    with pytest.raises(NotFound, match=r"^No such image: sha256:" + "f" * 64):
        listed("since=sha256:" + "f" * 64)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (
            "dangling",
            'invalid argument "dangling" for "-f, --filter" flag: '
            "bad format of filter (expected name=value)",
        ),
        ("foo=bar", "Invalid filter 'foo'"),
        ("dangling=maybe", "Invalid filter 'dangling=[maybe]'"),
        ("reference=[", "syntax error in pattern"),
        ("reference=a\\", "syntax error in pattern"),
    ],
)
def test_bad_filters_are_usage_errors(flag: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        ImageFilters.parse([flag])
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [  # from Go's path/match_test.go
        ("abc", "abc", True),
        ("*", "abc", True),
        ("a*", "ab/c", False),
        ("a*/b", "abc/b", True),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
        ("a*b?c*x", "abxbbxdbxebxczzx", True),
        ("a*b?c*x", "abxbbxdbxebxczzy", False),
        ("ab[^b-d]", "abc", False),
        ("ab[^e-g]", "abc", True),
        ("a\\*b", "a*b", True),
        ("a?b", "a☺b", True),
        ("a???b", "a☺b", False),
        ("[a-ζ]*", "α", True),
        ("a?b", "a/b", False),
        ("[\\]a]", "]", True),
        ("[x\\-]", "-", True),
        ("*x", "xxx", True),
    ],
)
def test_go_path_match(pattern: str, name: str, matched: bool) -> None:
    assert go_path_match(pattern, name) is matched


@pytest.mark.parametrize("pattern", ["[]a]", "[-]", "[x-]", "\\", "[a-b-c]", "[", "[^bc", "a["])
def test_go_path_match_bad_patterns(pattern: str) -> None:
    with pytest.raises(BadPattern):
        go_path_match(pattern, "a")
