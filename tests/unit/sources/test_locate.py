"""``sources.locate``: the one parser of source strings (skopeo-style transports)."""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

import pytest

from deadweight import static
from deadweight.errors import CorruptImage, InvalidReference, NotFound
from deadweight.sources import Location, archive, layout, locate

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def docker_tar(tmp_path: Path) -> Path:
    path = tmp_path / "img.tar"
    archive.write([static.EMPTY], path)
    return path


@pytest.fixture
def oci_dir(tmp_path: Path) -> Path:
    path = tmp_path / "lay"
    layout.write([static.EMPTY], path)
    return path


# --- explicit transports ----------------------------------------------------------------


def test_docker_archive_path(docker_tar: Path) -> None:
    assert locate(f"docker-archive:{docker_tar}") == Location("docker-archive", str(docker_tar))


def test_docker_archive_path_and_ref(docker_tar: Path) -> None:
    assert locate(f"docker-archive:{docker_tar}:app:v1") == Location(
        "docker-archive", str(docker_tar), "app:v1"
    )
    assert locate(f"docker-archive:{docker_tar}:app") == Location(
        "docker-archive", str(docker_tar), "app"
    )


def test_docker_archive_missing_path_splits_at_first_colon(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar"
    assert locate(f"docker-archive:{missing}:app:v1") == Location(
        "docker-archive", str(missing), "app:v1"
    )
    assert locate(f"docker-archive:{missing}") == Location("docker-archive", str(missing))


def test_paths_with_colons(tmp_path: Path) -> None:
    odd = tmp_path / "we:ird.tar"
    archive.write([static.EMPTY], odd)
    assert locate(f"docker-archive:{odd}") == Location("docker-archive", str(odd))
    assert locate(f"docker-archive:{odd}:app:v1") == Location("docker-archive", str(odd), "app:v1")
    assert locate(str(odd)) == Location("docker-archive", str(odd))


def test_oci_dir_and_tag(oci_dir: Path) -> None:
    assert locate(f"oci:{oci_dir}") == Location("oci", str(oci_dir))
    assert locate(f"oci:{oci_dir}:v1") == Location("oci", str(oci_dir), "v1")


def test_oci_dir_at_digest(oci_dir: Path) -> None:
    assert locate(f"oci:{oci_dir}@{DIGEST}") == Location("oci", str(oci_dir), "@" + DIGEST)


def test_oci_missing_dir_at_digest(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert locate(f"oci:{missing}@{DIGEST}") == Location("oci", str(missing), "@" + DIGEST)


def test_oci_archive_path_and_tag(tmp_path: Path) -> None:
    path = tmp_path / "x.oci.tar"
    path.write_bytes(b"")
    assert locate(f"oci-archive:{path}:v1") == Location("oci-archive", str(path), "v1")
    assert locate(f"oci-archive:{path}") == Location("oci-archive", str(path))


@pytest.mark.parametrize(
    "ref",
    ["alpine", "alpine:3.19", "ghcr.io/org/app:1", "localhost:5000/app", f"alpine@{DIGEST}"],
)
def test_docker_transport(ref: str) -> None:
    loc = locate(f"docker://{ref}")
    assert loc == Location("docker", ref)
    assert str(loc) == f"docker://{ref}"


@pytest.mark.parametrize("ref", ["alpine", "alpine:3.19", "localhost/pod:1"])
def test_docker_daemon_transport(ref: str) -> None:
    assert locate(f"docker-daemon:{ref}") == Location("docker-daemon", ref)


def test_str_round_trips(docker_tar: Path, oci_dir: Path) -> None:
    for spec in (f"docker-archive:{docker_tar}:app:v1", f"oci:{oci_dir}:v1", "docker-daemon:a"):
        assert str(locate(spec)) == spec
        assert locate(str(locate(spec))) == locate(spec)


# --- bare arguments ---------------------------------------------------------------------


def test_bare_docker_archive_file(docker_tar: Path) -> None:
    assert locate(str(docker_tar)) == Location("docker-archive", str(docker_tar))


def test_bare_gzip_docker_archive_file(docker_tar: Path, tmp_path: Path) -> None:
    packed = tmp_path / "img.tar.gz"
    packed.write_bytes(gzip.compress(docker_tar.read_bytes(), mtime=0))
    assert locate(str(packed)) == Location("docker-archive", str(packed))


def test_bare_oci_archive_file(oci_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "lay.tar"
    with tarfile.open(path, "w") as tar:
        tar.add(oci_dir, arcname=".")
    assert locate(str(path)) == Location("oci-archive", str(path))


def test_bare_oci_directory(oci_dir: Path) -> None:
    assert locate(str(oci_dir)) == Location("oci", str(oci_dir))


def test_bare_unpacked_docker_archive_directory(docker_tar: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "unpacked"
    with tarfile.open(docker_tar) as tar:
        tar.extractall(unpacked, filter="data")
    assert locate(str(unpacked)) == Location("docker-archive", str(unpacked))


def test_bare_tar_without_image_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "other.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("README")
        tar.addfile(info)
    with pytest.raises(CorruptImage) as err:
        locate(str(path))
    assert str(err.value) == (
        f"{path}: not an image archive (neither manifest.json nor index.json)"
    )


def test_bare_non_archive_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a tar\n" * 40)
    with pytest.raises(CorruptImage) as err:
        locate(str(path))
    assert str(err.value).startswith(f"{path}: not an image archive (")


@pytest.mark.parametrize("available", [True, False])
def test_bare_name_goes_to_engine_or_registry(available: bool) -> None:
    loc = locate("alpine:3.19", engine_available=available)
    assert loc == Location("docker-daemon" if available else "docker", "alpine:3.19")


@pytest.mark.parametrize("spec", ["./nope.tar", "/nonexistent/dir/x", "dir/x.tar", "d/x.tar.gz"])
def test_path_like_missing_is_not_found(tmp_path: Path, spec: str) -> None:
    with pytest.raises(NotFound) as err:
        locate(spec, engine_available=False)
    assert str(err.value) == f"{spec}: no such file or directory"
    assert err.value.exit_code == 3


# --- invalid references -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty image reference"),
        ("Foo", "invalid reference format: repository name must be lowercase: 'Foo'"),
        (" alpine", "invalid reference format: ' alpine'"),
        ("a:b:c", "invalid reference format: 'a:b:c'"),
        ("alpine@sha256:zz", "invalid reference format: bad digest in 'alpine@sha256:zz'"),
        ("alpine:-bad", "invalid reference format: bad tag in 'alpine:-bad'"),
        ("docker://", "invalid reference format: ''"),
        ("docker://Foo", "invalid reference format: repository name must be lowercase: 'Foo'"),
        ("docker-daemon:UP", "invalid reference format: repository name must be lowercase: 'UP'"),
        ("Not/Valid", "invalid reference format: repository name must be lowercase: 'Not/Valid'"),
    ],
)
def test_invalid_references(spec: str, message: str) -> None:
    with pytest.raises(InvalidReference) as err:
        locate(spec, engine_available=False)
    assert str(err.value) == message
    assert err.value.exit_code == 2


def test_bare_file_with_ref_picks_an_image_of_the_archive(tmp_path: Path) -> None:
    from deadweight import static as s
    from deadweight.sources import archive, locate

    img = s.image([s.Step("RUN x", s.layer([s.File("a", b"1")]))], repo_tags=("app:1",))
    path = tmp_path / "two.tar"
    archive.write([img], path)
    assert locate(f"{path}:app:1") == Location("docker-archive", str(path), "app:1")


@pytest.mark.parametrize(
    "spec",
    [
        "nosuch.tar",
        "nosuch.tar:app",
        "image.tgz",
        "layers.zst",
        "x.tar.gz",
        "Dockerfile",
        "dockerfile",
        "app/dockerfile",
        "app/Dockerfile.prod",
        "web.Dockerfile",
        "~/images/app",
        "../up",
    ],
)
def test_path_like_missing_never_reaches_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spec: str
) -> None:
    import socket

    from deadweight.sources import open_image

    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError(f"network call for {spec}: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound) as err:
        open_image(spec)
    assert str(err.value) == f"{spec}: no such file or directory"
    assert err.value.exit_code == 3
    assert calls == []


def test_name_under_an_existing_folder_is_a_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound):
        locate("app/server", engine_available=False)
    assert locate("library/alpine", engine_available=False) == Location("docker", "library/alpine")
    assert locate("alpine:3.19", engine_available=False) == Location("docker", "alpine:3.19")


# --- on_disk: whether a source names an image in a file or directory here ---------------


def test_on_disk_names_archives_and_layouts_here(docker_tar: Path, oci_dir: Path) -> None:
    from deadweight.sources import on_disk

    for spec in (
        str(docker_tar),
        f"{docker_tar}:app:v1",
        f"docker-archive:{docker_tar}",
        f"docker-archive:{docker_tar}:app:v1",
        str(oci_dir),
        f"oci:{oci_dir}:v1",
        f"oci-archive:{docker_tar}",
    ):
        assert on_disk(spec), spec
    for spec in (
        "",
        "docker://registry.example/app:1",
        "docker-daemon:app:1",
        "python:3.12",
        f"oci:{oci_dir}-missing",
        f"{docker_tar}.missing",
        "--format",
    ):
        assert not on_disk(spec), spec


def test_spooled_names_compressed_archive_files_only(
    docker_tar: Path, oci_dir: Path, tmp_path: Path
) -> None:
    """A compressed archive is spooled whole when opened; a plain tar, a layout or
    something not here is not (and asking never fails)."""
    import gzip

    from deadweight.sources import spooled

    packed = tmp_path / "app.tar.gz"
    packed.write_bytes(gzip.compress(docker_tar.read_bytes()))
    assert spooled(str(packed))
    assert spooled(f"docker-archive:{packed}:app:v1")
    for spec in (str(docker_tar), str(oci_dir), f"{packed}.missing", "docker://r.example/a:1", ""):
        assert not spooled(spec), spec
