"""``Image.name``: the one rule by which every command names an image in its output."""

from __future__ import annotations

from pathlib import Path

from deadweight import static as S
from deadweight.analysis.analyze import analyze
from deadweight.compare.diff import compare
from deadweight.image import Image, assemble
from deadweight.imagelint import lint_image
from deadweight.sources import archive, locate, open_image

STEPS = [S.Step("COPY a /", S.layer([S.File("a", b"a")]))]


def named(*, repo_tags: tuple[str, ...] = (), source: str = "") -> Image:
    img = S.image(STEPS)
    return assemble(img.raw_config, img.layers, repo_tags=repo_tags, source=source)


def test_the_first_tag_then_the_source_then_the_short_id() -> None:
    assert named(repo_tags=("app:1", "app:latest"), source="oci:x").name == "app:1"
    assert named(source="docker-archive:app.tar").name == "docker-archive:app.tar"
    bare = named()
    assert bare.name == bare.id[:19] and bare.name.startswith("sha256:") and len(bare.name) == 19


def test_analyze_diff_and_lint_name_an_image_alike(tmp_path: Path) -> None:
    path = tmp_path / "app.tar"
    archive.write([S.image(STEPS, repo_tags=("app:1",))], path)
    tagged = open_image(locate(f"docker-archive:{path}"))
    archive.write([S.image(STEPS)], tmp_path / "bare.tar")
    bare = open_image(locate(f"docker-archive:{tmp_path / 'bare.tar'}"))
    assert bare.name == f"docker-archive:{tmp_path / 'bare.tar'}"
    for img in (tagged, bare):
        assert analyze(img).image == img.name
        assert lint_image(img).image == img.name
    sides = compare(tagged, bare)
    assert (sides.a.name, sides.b.name) == ("app:1", bare.name)
