"""A config that reads fine never crashes optimize (issues 11 and 16): plan and apply read
the config from the document decoded once, the way every command decodes it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deadweight import static
from deadweight.image import Image, assemble
from deadweight.optimize import apply, plan
from deadweight.validation import validate

S = static
PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"


def image_with(edit: Callable[[bytes], bytes], **fields: object) -> Image:
    steps = [
        S.Step("ADD rootfs.tar /", S.layer([S.Dir("etc"), S.File("etc/passwd", PASSWD)])),
        S.Step('CMD ["sh"]'),
        S.Step("RUN make", S.layer([S.File("app/run", b"r" * 40), S.File("tmp/x", b"t" * 9)])),
    ]
    raw = edit(S.config_bytes(steps, **fields))
    return assemble(raw, [s.layer for s in steps if s.layer is not None], source="odd")


CASES: dict[str, tuple[Callable[[bytes], bytes], dict[str, object]]] = {
    "non-UTF-8 label": (
        lambda raw: raw.replace(b"MARK", b"a\xff\xfeb"),
        {"config": {"Labels": {"x": "MARK"}, "Cmd": ["/app/run"]}},
    ),
    "non-UTF-8 history row": (lambda raw: raw.replace(b"RUN make", b"RUN m\xe9ke"), {}),
    "config is null": (lambda raw: raw, {"config": None}),
    "no config at all": (lambda raw: raw.replace(b'"config":{', b'"cfg":{'), {}),
    "unknown fields and numbers": (
        lambda raw: raw,
        {"x-vendor": {"deep": [1.5, 10**30, None]}, "config": {"User": "", "Env": None}},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("level", ["safe", "moderate"])
def test_optimize_accepts_every_config_that_reads(case: str, level: str) -> None:
    edit, fields = CASES[case]
    image = image_with(edit, **fields)
    p = plan(image, level=level, epoch=0)  # type: ignore[arg-type]
    result = apply(image, p)
    assert validate(result).ok
    assert len(result.layers) == 2
    doc = result.config.document
    if case == "non-UTF-8 label":  # Go's decoder: each invalid byte one U+FFFD
        assert doc["config"]["Labels"]["x"] == "a\ufffd\ufffdb"
    if case == "unknown fields and numbers":
        assert doc["x-vendor"] == {"deep": [1.5, 10**30, None]}
    if level == "moderate":  # the non-root step read the config: done, or said why not
        user = result.config.container_config.get("User")
        assert user or any(s.name == "non-root" and s.reason for s in p.skipped)
