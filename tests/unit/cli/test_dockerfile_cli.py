from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from deadweight import static
from deadweight.cli.dockerfile import dockerfile
from deadweight.sources import archive

BK = "buildkit.dockerfile.v0"


def test_prints_the_rebuilt_dockerfile(tmp_path: Path) -> None:
    base = static.layer([static.File("bin/sh", b"x", 0o755)])
    img = static.image(
        [
            static.Step("/bin/sh -c #(nop) ADD file:0a1b in / ", base),
            static.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
            static.Step("WORKDIR /app", static.layer([static.Dir("app")]), comment=BK),
            static.Step(
                "RUN |1 V=2 /bin/sh -c echo $V > v # buildkit", static.layer([]), comment=BK
            ),
        ]
    )
    path = tmp_path / "img.tar"
    archive.write([img], path)
    r = CliRunner().invoke(dockerfile, [str(path)])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[6:] == [
        "FROM alpine",
        "WORKDIR /app",
        "# ARG V from the |N prefix of this RUN (declared before FROM or in the base image)",
        "ARG V=2",
        "RUN echo $V > v",
    ]
    r = CliRunner().invoke(dockerfile, [str(path), "--rows"])
    assert r.stdout.splitlines()[6:] == [
        "FROM alpine",
        "# row 3",
        "WORKDIR /app",
        "# row 4",
        "# ARG V from the |N prefix of this RUN (declared before FROM or in the base image)",
        "ARG V=2",
        "RUN echo $V > v",
    ]


def test_missing_image_is_not_found(tmp_path: Path) -> None:
    from deadweight.errors import NotFound

    r = CliRunner().invoke(dockerfile, [str(tmp_path / "nope.tar")])
    assert isinstance(r.exception, NotFound)
