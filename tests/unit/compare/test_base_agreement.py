"""``diff``/``analyze`` (``compare.base``), ``optimize`` (its plan's kept layers) and ``lint
IMAGE`` (the rebuilt Dockerfile's base rows) tell the base image from the history in one
place (``dockerfile.base``), so they agree on every history (issue 11)."""

from __future__ import annotations

import pytest

from deadweight import static
from deadweight.compare.base import base_layers
from deadweight.dockerfile.reconstruct import reconstruct_image
from deadweight.image import Image, Layer
from deadweight.imagelint.lint import lint_image
from deadweight.optimize import plan

S = static
BK = "buildkit.dockerfile.v0"


def layer(name: str) -> Layer:
    return S.layer([S.File(name, name.encode() * 3)])


def classic(text: str, name: str | None = None) -> static.Step:
    body = f"/bin/sh -c #(nop) {text}" if name is None else f"/bin/sh -c {text}"
    return S.Step(body, layer(name) if name else None)


def bk(text: str, name: str | None = None) -> static.Step:
    return S.Step(f"{text} # buildkit" if text.startswith("RUN") else text,
                  layer(name) if name else None, comment=BK)  # fmt: skip


HISTORIES: dict[str, tuple[list[static.Step], int]] = {
    "classic base, BuildKit app": (
        [
            classic("ADD file:ab in / ", None),
            classic('CMD ["bash"]'),
            S.Step("/bin/sh -c #(nop) ADD file:ab in / ", layer("rootfs")),
            bk("WORKDIR /app"),
            bk("COPY . .", "app"),
            bk("RUN make", "build"),
        ],
        1,
    ),
    "official alpine then the app": (
        [
            bk("ADD alpine-minirootfs-3.20.3-x86_64.tar.gz / # buildkit", "rootfs"),
            bk('CMD ["/bin/sh"]'),
            bk("RUN apk add curl", "curl"),
            bk('CMD ["app"]'),
        ],
        1,
    ),
    "node-like base: ENTRYPOINT then CMD": (
        [
            classic("ADD file:ab in / ", None),
            classic("ADD file:ab in / ", None),
            S.Step("/bin/sh -c #(nop) ADD file:ab in / ", layer("rootfs")),
            classic('CMD ["bash"]'),
            classic("curl node | tar -x", "node"),
            classic('ENTRYPOINT ["docker-entrypoint.sh"]'),
            classic('CMD ["node"]'),
            classic("npm ci", "deps"),
            classic('CMD ["node", "app.js"]'),
        ],
        2,
    ),
    "the app's own CMD followed by EXPOSE": (
        [
            S.Step("/bin/sh -c #(nop) ADD file:ab in / ", layer("rootfs")),
            classic('CMD ["sh"]'),
            classic("make", "app"),
            classic('CMD ["app"]'),
            classic("EXPOSE 80"),
        ],
        1,
    ),
    "an imported layer below a build": (
        [S.Step("", layer("imported"), comment="Imported from -"), bk("COPY app /app", "app")],
        1,
    ),
    "no base at all": ([bk("COPY app /", "app"), bk("RUN make", "build")], 0),
    "a base and metadata only": (
        [
            bk("ADD alpine-minirootfs-3.20.3-x86_64.tar.gz / # buildkit", "rootfs"),
            bk('CMD ["/bin/sh"]'),
            bk("USER app"),
        ],
        1,
    ),
}


def image_of(steps: list[static.Step]) -> Image:
    return S.image(steps, config={"Cmd": ["sh"]})


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_diff_optimize_and_lint_agree_on_the_base(name: str) -> None:
    steps, layers = HISTORIES[name]
    image = image_of(steps)
    recon = lint_image(image).reconstruction  # what lint IMAGE reports against
    assert recon == reconstruct_image(image)
    lint_layers = sum(1 for s in recon.steps[: recon.base_rows] if s.layer is not None)
    assert base_layers(image) == lint_layers == layers
    assert plan(image).keep_bottom == layers
    assert all(s.base == (i < recon.base_rows) for i, s in enumerate(recon.steps))
