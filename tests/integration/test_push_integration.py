"""``optimize -o docker://...`` and ``registry.write`` against the real distribution registry
(Debian's docker-registry), anonymous and behind htpasswd; skopeo's view of what landed in
the registry is the oracle, and ``registry.read`` reads it back."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_fixtures import (
    SKOPEO,
    OciImage,
    RegistryServer,
    require_tools,
    running_registry,
    sha,
    skopeo_copy,
    skopeo_inspect,
    write_oci_layout,
)

from deadweight import mediatypes as mt
from deadweight import static as S
from deadweight.cli.optimize import optimize
from deadweight.errors import AuthError
from deadweight.image import Image
from deadweight.reference import Reference
from deadweight.sources import archive, registry
from deadweight.sources.registry import RetryPolicy

pytestmark = pytest.mark.integration

USER, PASSWORD = "pusher", "correct horse battery"
NO_WAIT = RetryPolicy(attempts=2, sleep=lambda seconds: None)
STEPS = [
    S.Step("ADD rootfs.tar /", S.layer([S.Dir("etc"), S.File("etc/os-release", b"ID=dw\n")])),
    S.Step('CMD ["sh"]'),
    S.Step(
        "RUN apt-get update && make app",
        S.layer(
            [
                S.File("var/lib/apt/lists/deb_Packages", b"p" * 30_000),
                S.File("app/main.sh", b"echo hi\n"),
                S.File("tmp/build.log", b"l" * 4_000),
            ]
        ),
    ),
]


@dataclass
class Registries:
    anon: RegistryServer
    private: RegistryServer
    work: Path


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registries]:
    require_tools()
    work = tmp_path_factory.mktemp("push-real")
    with (
        running_registry(work / "anon") as anon,
        running_registry(work / "private", USER, PASSWORD) as private,
    ):
        yield Registries(anon, private, work)


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "no-config").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.chdir(tmp_path)
    archive.write([S.image(STEPS, repo_tags=("app:1",))], tmp_path / "app.tar")
    return tmp_path


def skopeo_inspect_creds(ref: str, creds: str, *config: str) -> bytes:
    args = [SKOPEO, "inspect", "--raw", *config, "--tls-verify=false", "--creds", creds]
    result = subprocess.run(
        [*args, f"docker://{ref}"], capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def optimize_to(dest: str) -> dict[str, object]:
    r = CliRunner().invoke(
        optimize,
        ["app.tar", "-o", dest, "--epoch", "0", "--format", "json"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    report: dict[str, object] = json.loads(r.output)
    return report


def check_read_back(image: Image, raw_manifest: bytes, raw_config: bytes, image_id: object) -> None:
    assert image.raw_manifest == raw_manifest
    assert image.raw_config == raw_config and image.id == image_id == sha(raw_config)
    doc = json.loads(raw_manifest)
    assert doc["mediaType"] == mt.OCI_MANIFEST
    assert [d["mediaType"] for d in doc["layers"]] == [mt.OCI_LAYER_GZIP] * len(image.layers)
    for layer in image.layers:  # reading to the end verifies blob digest and diff_id
        with layer.open() as stream:
            while stream.read(1 << 20):
                pass


def test_optimize_pushes_to_an_anonymous_registry(registries: Registries) -> None:
    host = registries.anon.host
    report = optimize_to(f"docker://{host}/team/app:slim")
    assert report["destination"] == f"docker://{host}/team/app:slim"
    raw_manifest = skopeo_inspect(f"{host}/team/app:slim")
    raw_config = skopeo_inspect(f"{host}/team/app:slim", "--config")
    image = registry.read(Reference.parse(f"{host}/team/app:slim"), retry=NO_WAIT)
    check_read_back(image, raw_manifest, raw_config, report["imageId"])
    assert image.digest == sha(raw_manifest)
    # the same input and options give the same digest
    optimize_to(f"docker://{host}/team/app:again")
    assert skopeo_inspect(f"{host}/team/app:again") == raw_manifest


def test_optimize_pushes_with_docker_login_credentials(
    registries: Registries, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = registries.private
    monkeypatch.setenv("DOCKER_CONFIG", str(server.docker_config(env / "login")))
    report = optimize_to(f"docker://{server.host}/private/app:slim")
    creds = f"{USER}:{PASSWORD}"
    raw_manifest = skopeo_inspect_creds(f"{server.host}/private/app:slim", creds)
    raw_config = skopeo_inspect_creds(f"{server.host}/private/app:slim", creds, "--config")
    image = registry.read(Reference.parse(f"{server.host}/private/app:slim"), retry=NO_WAIT)
    check_read_back(image, raw_manifest, raw_config, report["imageId"])


def test_push_without_credentials_or_with_a_wrong_password_is_refused(
    registries: Registries, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = registries.private
    image = S.image(STEPS)
    target = Reference.parse(f"{server.host}/private/denied:v1")
    with pytest.raises(AuthError, match=r"authentication required: run 'docker login 127\.0\.0\.1"):
        registry.write(image, target, retry=NO_WAIT)
    monkeypatch.setenv("DOCKER_CONFIG", str(server.docker_config(env / "bad", password="nope")))
    with pytest.raises(AuthError, match="refused the credentials"):
        registry.write(image, target, retry=NO_WAIT)
    creds = f"--creds={USER}:{PASSWORD}"
    args = [SKOPEO, "inspect", "--tls-verify=false", creds, f"docker://{target}"]
    result = subprocess.run(args, capture_output=True, timeout=60, check=False)
    assert result.returncode != 0 and b"manifest unknown" in result.stderr


def test_an_image_read_from_the_registry_is_pushed_with_its_own_manifest(
    registries: Registries,
) -> None:
    """Registry to registry: the manifest skopeo wrote is reused byte for byte, so the copy
    keeps its digest."""
    host = registries.anon.host
    source = OciImage("amd64", [{"etc/os-release": b"ID=dw\n"}, {"bin/x": b"x\n"}]).build()
    write_oci_layout(registries.work / "layout", "v1", [source])
    skopeo_copy(f"oci:{registries.work / 'layout'}:v1", f"docker://{host}/src:v1", registries.work)
    image = registry.read(Reference.parse(f"{host}/src:v1"), retry=NO_WAIT)
    digest = registry.write(image, Reference.parse(f"{host}/copy:v1"), retry=NO_WAIT)
    assert digest == source.digest == sha(skopeo_inspect(f"{host}/copy:v1"))
    assert skopeo_inspect(f"{host}/copy:v1", "--config") == source.config
