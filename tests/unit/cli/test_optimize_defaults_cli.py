"""``optimize``'s defaults a newcomer meets: the result's name without ``:TAG``, ``-o``
naming the input, the mode of a new OCI layout, progress on a terminal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deadweight import static as S
from deadweight.cli.optimize import optimize
from deadweight.errors import UsageError
from deadweight.optimize.naming import derived_reference, derived_tag
from deadweight.runs.delivery import named
from deadweight.sources import Location, archive, layout

STEPS = [
    S.Step("ADD rootfs.tar /", S.layer([S.Dir("etc"), S.File("etc/os-release", b"base\n")])),
    S.Step('CMD ["sh"]'),
    S.Step("RUN x", S.layer([S.File("tmp/x.log", b"l" * 400), S.File("app/a", b"a")])),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    first = S.image(STEPS, repo_tags=("app:1",))
    second = S.image(STEPS[:2], repo_tags=("other:2",))
    archive.write([first, second], tmp_path / "two.tar")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(optimize, list(args))


def test_docker_archive_without_tag_is_named_after_the_source(env: Path) -> None:
    r = run("two.tar:app:1", "-o", "out.tar")
    assert r.exit_code == 0, r.output
    assert archive.read(env / "out.tar").repo_tags == ("app:1-deadweight",)
    assert "Wrote docker-archive:out.tar:app:1-deadweight" in r.output


def test_oci_layout_without_tag_gets_the_derived_tag(env: Path) -> None:
    assert run("two.tar:app:1", "-o", "oci:layout").exit_code == 0
    assert layout.read(env / "layout", "1-deadweight").id


def test_a_tag_given_is_kept(env: Path) -> None:
    assert run("two.tar:app:1", "-o", "docker-archive:out.tar:slim:7").exit_code == 0
    assert archive.read(env / "out.tar").repo_tags == ("slim:7",)


@pytest.mark.parametrize(
    ("dest", "source", "tags", "expected"),
    [
        (
            Location("docker-daemon", "app"),
            Location("docker-daemon", "app:1"),
            ("app:1",),
            Location("docker-daemon", "app:1-deadweight"),
        ),
        (
            Location("docker-daemon", "app"),
            Location("docker-daemon", "app"),
            (),
            Location("docker-daemon", "app:latest-deadweight"),
        ),
        (
            Location("docker", "localhost:5000/app"),
            Location("docker", "localhost:5000/app:3"),
            (),
            Location("docker", "localhost:5000/app:3-deadweight"),
        ),
        (
            Location("docker-daemon", "app:9"),
            Location("docker-daemon", "app:1"),
            ("app:1",),
            Location("docker-daemon", "app:9"),
        ),
        (
            Location("docker-archive", "o.tar"),
            Location("oci", "./My Layout.d/"),
            (),
            Location("docker-archive", "o.tar", "my-layout-d:latest-deadweight"),
        ),
    ],
)
def test_engine_and_registry_destinations_never_take_the_source_tag(
    dest: Location, source: Location, tags: tuple[str, ...], expected: Location
) -> None:
    image = S.image(STEPS, repo_tags=tags)
    assert named(dest, image, source) == expected


def test_derived_names() -> None:
    assert str(derived_reference((), reference="node:16")) == "docker.io/library/node:16-deadweight"
    assert derived_reference((), path="/x/app.tar.gz").familiar == "app:latest-deadweight"
    assert derived_reference((), reference="alpine@sha256:" + "a" * 64).tag == "latest-deadweight"
    assert len(derived_tag("t" * 128)) == 128


@pytest.mark.parametrize("dest", ["two.tar", "docker-archive:two.tar:x:1", "./two.tar"])
def test_output_naming_the_input_archive_is_refused(env: Path, dest: str) -> None:
    before = (env / "two.tar").read_bytes()
    r = run("two.tar:app:1", "-o", dest)
    assert isinstance(r.exception, UsageError), r.output
    assert str(r.exception).endswith(": that is the input; write the result elsewhere")
    assert r.exception.exit_code == 2
    assert (env / "two.tar").read_bytes() == before
    assert len(archive.images(env / "two.tar")) == 2


def test_output_naming_the_input_layout_is_refused(env: Path) -> None:
    assert run("two.tar:app:1", "-o", "oci:layout:v1").exit_code == 0
    r = run("oci:layout:v1", "-o", "oci:layout:v2")
    assert isinstance(r.exception, UsageError)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_new_oci_layout_honours_the_umask(env: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        r = run("two.tar:app:1", "-o", "oci:fresh")
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.output
    assert (env / "fresh").stat().st_mode & 0o777 == 0o777 & ~umask
