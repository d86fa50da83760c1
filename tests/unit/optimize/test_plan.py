"""plan → apply on synthetic images: exact bytes per step, agreement with analyze."""

from __future__ import annotations

import json

import pytest

from deadweight import static
from deadweight.analysis.analyze import analyze
from deadweight.analysis.sizes import layer_sizes
from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.optimize import Removed, apply, plan

S = static

BASE: list[static.Entry] = [
    S.Dir("etc"),
    S.File("etc/os-release", b"base\n"),
    S.Dir("tmp"),
    S.Dir("usr/share/doc"),
]


def app_image() -> Image:
    return S.image(
        [
            S.Step("ADD rootfs.tar /", S.layer(BASE)),
            S.Step('CMD ["sh"]'),
            S.Step(
                "RUN apt-get update && apt-get install -y curl",
                S.layer(
                    [
                        S.File("var/lib/apt/lists/deb_main_Packages", b"p" * 3000),
                        S.File("var/lib/apt/lists/lock", b""),
                        S.File("var/cache/apt/archives/curl.deb", b"d" * 2000),
                        S.File("usr/bin/curl", b"c" * 700),
                        S.File("usr/share/doc/curl/README", b"r" * 300),
                    ]
                ),
            ),
            S.Step(
                "RUN pip install app",
                S.layer(
                    [
                        S.File("root/.cache/pip/wheels/a.whl", b"w" * 1500),
                        S.File("tmp/build.log", b"l" * 400),
                        S.File("app/big.bin", b"b" * 5000),
                        S.File("app/main.py", b"print(1)\n"),
                    ]
                ),
            ),
            S.Step("RUN rm app/big.bin", S.layer([S.Whiteout("app/big.bin")])),
        ]
    )


def test_safe_plan_steps_and_bytes() -> None:
    image = app_image()
    p = plan(image, epoch=1700000000)
    assert p.keep_bottom == 1 and p.layers == 4 and p.base_detected
    assert [(s.name, s.bytes) for s in p.steps] == [
        ("squash", 5000),
        ("apt-cache", 5000),
        ("pip-cache", 1500),
        ("temp", 400),
        ("epoch", 0),
    ]
    apt = p.steps[1]
    assert apt.removed == (
        Removed("var/lib/apt/lists", 3000, 1),
        Removed("var/cache/apt", 2000, 1),
    )
    assert apt.paths == ("var/cache/apt/archives/curl.deb", "var/lib/apt/lists/deb_main_Packages")
    assert p.steps[0].note == "3 layer(s) above the 1 base layer(s) merged into one"
    assert p.size_before == 5 + 3000 + 2000 + 700 + 300 + 1500 + 400 + 5000 + 9
    assert p.bytes_saved == 11900
    assert p.size_after == p.size_before - 11900


def test_plan_bytes_agree_with_analyze() -> None:
    image = app_image()
    p = plan(image)
    a = analyze(image, base_layers=1)
    by_cat = dict(a.bloat.by_category)
    for step in p.steps[1:]:
        assert step.bytes == by_cat[step.name], step.name
    assert p.steps[0].bytes == a.waste.reclaimable


def test_apply_saves_exactly_the_planned_bytes_and_is_reproducible() -> None:
    image = app_image()
    p = plan(image, epoch=0)
    out = apply(image, p)
    before, after = layer_sizes(image), layer_sizes(out)
    assert sum(before) - sum(after) == p.bytes_saved == 11900
    assert after == (5, 1009)
    assert out.layers[0] is image.layers[0]
    assert apply(image, plan(image, epoch=0)).id == out.id
    doc = json.loads(out.raw_config)
    assert (
        doc["history"][-1]["created_by"]
        == "deadweight optimize --level safe --squash own --epoch 0"
    )
    a = analyze(out, base_layers=1)
    assert dict(a.bloat.by_category).get("apt-cache", 0) == 0
    assert a.waste.reclaimable == 0


def test_moderate_level_also_removes_docs() -> None:
    image = app_image()
    p = plan(image, level="moderate")
    assert [(s.name, s.bytes) for s in p.steps] == [
        ("squash", 5000),
        ("apt-cache", 5000),
        ("pip-cache", 1500),
        ("temp", 400),
        ("docs", 300),
    ]
    assert sum(layer_sizes(image)) - sum(layer_sizes(apply(image, p))) == 12200


def test_squash_all_and_undetected_base() -> None:
    image = app_image()
    p = plan(image, squash="all")
    assert p.keep_bottom == 0
    assert p.steps[0].note == "all 4 layer(s) merged into one"
    flat = S.image([S.Step("RUN a", S.layer(BASE)), S.Step("RUN b", S.layer([S.File("x", b"1")]))])
    q = plan(flat)
    assert q.keep_bottom == 0 and not q.base_detected
    assert q.steps[0].note == (
        "all 2 layer(s) merged into one (the base image could not be told from the history)"
    )


def test_nothing_to_do_and_refusals() -> None:
    image = S.image([S.Step("ADD rootfs.tar /", S.layer(BASE)), S.Step('CMD ["sh"]')])
    p = plan(image, keep_bottom=1)
    assert p.steps == () and not p.changes and p.bytes_saved == 0
    assert apply(image, p) is image
    with pytest.raises(UsageError, match="the plan was made for"):
        apply(app_image(), p)
    with pytest.raises(UsageError, match="unknown level 'extreme'"):
        plan(image, level="extreme")  # type: ignore[arg-type]
