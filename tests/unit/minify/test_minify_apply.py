"""apply_minify on synthetic images: one layer with exactly the kept paths (directories
that lead nowhere dropped, hardlinks whose first name went kept as a file), modes kept,
config unchanged but for the source label, reproducible."""

from __future__ import annotations

import json
import tarfile

import pytest

from deadweight import static as S
from deadweight.errors import UsageError
from deadweight.minify import SOURCE_LABEL, Evidence, Trace, apply_minify, plan_minify
from deadweight.streams import as_file
from deadweight.validation import validate


def test_one_layer_with_the_kept_paths_and_the_label() -> None:
    config = {
        "Env": ["PATH=/bin"],
        "Cmd": ["/bin/app"],
        "Labels": {"team": "web"},
        "WorkingDir": "/",
    }
    base = S.layer(
        [
            S.Dir("bin"),
            S.File("bin/app", b"app", 0o755),
            S.File("bin/unused", b"u" * 10, 0o755),
            S.Dir("tmp", 0o1777),
            S.Dir("var/cache/big"),
            S.File("var/cache/big/blob", b"b" * 100),
            S.File("data/a.txt", b"aaaa"),
        ]
    )
    top = S.layer([S.Hardlink("data/z.txt", "data/a.txt"), S.Whiteout("bin/unused")])
    img = S.image([S.Step("ADD", base), S.Step("RUN", top)], config=config)
    plan = plan_minify(img, evidence=Evidence((Trace("life", frozenset({"/data/z.txt"})),)))
    out = apply_minify(img, plan, epoch=0)
    assert apply_minify(img, plan, epoch=0).id == out.id
    assert validate(out).problems == ()
    assert len(out.layers) == 1
    with out.layers[0].open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        members = {m.name: m for m in tar}
    assert set(members) == {"bin", "bin/app", "tmp", "data", "data/z.txt"}
    assert members["data/z.txt"].isreg()  # a.txt went: its content stays under z.txt
    assert members["tmp"].mode == 0o1777
    doc = json.loads(out.raw_config)
    assert doc["config"]["Labels"] == {"team": "web", SOURCE_LABEL: img.digest or img.id}
    assert doc["config"]["Cmd"] == ["/bin/app"]
    assert doc["rootfs"]["diff_ids"] == [out.layers[0].diff_id]
    assert doc["history"][-1]["created_by"].startswith("deadweight minify")
    assert plan.before_bytes == 3 + 100 + 4 and plan.after_bytes == 3 + 4


def test_a_plan_for_another_image_is_refused() -> None:
    one = S.image([S.Step("ADD", S.layer([S.File("a", b"1")]))])
    two = S.image([S.Step("ADD", S.layer([S.File("b", b"2")]))])
    with pytest.raises(UsageError, match="another image"):
        apply_minify(two, plan_minify(one, evidence=None))
