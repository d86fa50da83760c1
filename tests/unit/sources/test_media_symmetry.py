"""Every medium has the same two verbs (issue 11): ``read(location, *, platform, insecure)``
and ``write(images, location, *, insecure)``; ``open_image`` and ``write_image`` only pick
the module; an image name given as a destination is parsed once."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from deadweight import static as S
from deadweight.image import Image
from deadweight.reference import Reference
from deadweight.runs.delivery import named
from deadweight.sources import MEDIA, Location, locate, medium, open_image, write_image

STEPS = [
    S.Step("ADD rootfs.tar /", S.layer([S.File("etc/os-release", b"base\n")])),
    S.Step("RUN x", S.layer([S.File("app/a", b"a")])),
]


@pytest.mark.parametrize("transport", sorted(MEDIA))
def test_each_medium_reads_and_writes_with_one_signature(transport: str) -> None:
    module = medium(transport)
    read = inspect.signature(module.read).parameters
    write = inspect.signature(module.write).parameters
    assert next(iter(read)) in ("location", "ref", "name")
    assert {"platform", "insecure"} <= set(read)
    assert list(write)[:2] in (["images_", "location"], ["images", "location"], ["image", "ref"])
    assert "insecure" in write


@pytest.mark.parametrize(
    ("dest", "tags"),
    [
        ("docker-archive:{}/out.tar:app:2", ("app:2",)),
        ("docker-archive:{}/out.tar", ()),
        ("oci:{}/layout:2", ("2",)),
        ("oci-archive:{}/out.oci:2", ("2",)),
        ("dir:{}/out-dir", ()),
    ],
)
def test_what_write_image_writes_open_image_reads_back(
    tmp_path: Path, dest: str, tags: tuple[str, ...]
) -> None:
    image = S.image(STEPS, repo_tags=("before:1",))
    where = locate(dest.format(tmp_path), destination=True)
    write_image(image, where)
    back = open_image(where)
    assert back.id == image.id
    assert [layer.diff_id for layer in back.layers] == [layer.diff_id for layer in image.layers]
    if where.transport == "docker-archive":
        assert back.repo_tags == tags


@pytest.mark.parametrize(
    ("dest", "medium_name", "written"),
    [
        ("docker://localhost:5000/app", "registry", "localhost:5000/app:1-deadweight"),
        ("docker-daemon:app", "engine", "app:1-deadweight"),
        ("docker-daemon:app:7", "engine", "app:7"),
    ],
)
def test_a_destination_name_is_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dest: str, medium_name: str, written: str
) -> None:
    image = S.image(STEPS, repo_tags=("app:1",))
    source = Location("docker-archive", str(tmp_path / "app.tar"))
    parsed: list[str] = []
    real = Reference.parse.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Reference], /, text: str, **kwargs: bool) -> Reference:
        parsed.append(text)
        return real(cls, text, **kwargs)  # type: ignore[no-any-return]

    got: list[Reference] = []
    if medium_name == "registry":
        from deadweight.sources.registry import push

        monkeypatch.setattr(push, "Connection", _Refused(got))
    else:
        from deadweight.sources import engine

        monkeypatch.setattr(engine, "load", lambda images, tag, **_: got.append(tag))
    monkeypatch.setattr(Reference, "parse", classmethod(counting))
    out = named(locate(dest, destination=True), image, source)
    with pytest.raises(_Stop) if medium_name == "registry" else _nothing():
        write_image(image, out)
    # the source's own tag is parsed to derive the new one; the destination only once
    assert parsed.count(dest.partition(":")[2].removeprefix("//")) == 1, parsed
    assert [text for text in parsed if text != "app:1"] == [parsed[0]], parsed
    assert str(got[0]).replace("docker.io/library/", "") == written


class _Stop(Exception):
    pass


class _Refused:
    """Stands in for the registry connection: records the reference, then stops the push."""

    def __init__(self, got: list[Reference]) -> None:
        self.got = got

    def __call__(self, ref: Reference, **_: object) -> None:
        self.got.append(ref)
        raise _Stop


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_registry_takes_one_image_per_tag(tmp_path: Path) -> None:
    from deadweight.errors import UsageError
    from deadweight.sources import registry

    image: Image = S.image(STEPS)
    with pytest.raises(UsageError, match="one tag names one image"):
        registry.write([image, image], locate("docker://localhost:5000/app"))
