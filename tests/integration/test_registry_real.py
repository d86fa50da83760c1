"""docker:// against the real distribution registry (Debian's docker-registry 2.8), filled by
skopeo from OCI layouts built here; skopeo's view of the same registry is the oracle."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from registry_fixtures import (
    OciImage,
    RegistryServer,
    require_tools,
    running_registry,
    sha,
    skopeo_copy,
    skopeo_inspect,
    write_oci_layout,
)

from deadweight.errors import AuthError, NotFound
from deadweight.platform import Platform
from deadweight.reference import Reference
from deadweight.sources import registry
from deadweight.sources.registry import RetryPolicy
from deadweight.streams import as_file

pytestmark = pytest.mark.integration

USER, PASSWORD = "tester", "correct horse battery"
NO_WAIT = RetryPolicy(attempts=2, sleep=lambda seconds: None)


@dataclass
class Pushed:
    anon: RegistryServer
    private: RegistryServer
    app: OciImage  # anon: app:v1, app:v2 (same image); private: private/app:v1
    other: OciImage  # anon: app:other
    amd64: OciImage  # anon: multi:v1 (an index of both)
    arm64: OciImage
    index: bytes


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    require_tools()
    work = tmp_path_factory.mktemp("registry-real")
    app = OciImage("amd64", [{"etc/os-release": b"ID=dw\n"}, {"app/main.sh": b"echo hi\n"}]).build()
    other = OciImage("amd64", [{"other": b"other\n"}]).build()
    amd64 = OciImage("amd64", [{"arch": b"amd64\n"}]).build()
    arm64 = OciImage("arm64", [{"arch": b"arm64\n"}, {"extra": b"only on arm\n"}]).build()
    write_oci_layout(work / "app", "v1", [app])
    write_oci_layout(work / "other", "other", [other])
    index = write_oci_layout(work / "multi", "v1", [amd64, arm64])
    assert index is not None
    with (
        running_registry(work / "anon") as anon,
        running_registry(work / "private", USER, PASSWORD) as private,
    ):
        for tag in ("v1", "v2"):
            skopeo_copy(f"oci:{work / 'app'}:v1", f"docker://{anon.host}/app:{tag}", work)
        skopeo_copy(f"oci:{work / 'other'}:other", f"docker://{anon.host}/app:other", work)
        skopeo_copy(
            f"oci:{work / 'multi'}:v1", f"docker://{anon.host}/multi:v1", work, all_images=True
        )
        skopeo_copy(
            f"oci:{work / 'app'}:v1",
            f"docker://{private.host}/private/app:v1",
            work,
            creds=f"{USER}:{PASSWORD}",
        )
        yield Pushed(anon, private, app, other, amd64, arm64, index)


@pytest.fixture(autouse=True)
def empty_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "no-config").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-config"))


def ref(server: RegistryServer, name: str) -> Reference:
    return Reference.parse(f"{server.host}/{name}")


def test_read_by_tag_matches_what_was_pushed(pushed: Pushed) -> None:
    image = registry.read(ref(pushed.anon, "app:v1"), retry=NO_WAIT)
    assert image.raw_manifest == skopeo_inspect(f"{pushed.anon.host}/app:v1")
    assert image.raw_config == skopeo_inspect(f"{pushed.anon.host}/app:v1", "--config")
    assert image.id == sha(pushed.app.config)
    assert image.digest == pushed.app.digest
    assert [layer.diff_id for layer in image.layers] == pushed.app.diff_ids
    assert [layer.blob.digest for layer in image.layers] == [sha(b) for b in pushed.app.layers]
    assert image.repo_tags == (f"{pushed.anon.host}/app:v1",)
    assert image.repo_digests == (f"{pushed.anon.host}/app@{pushed.app.digest}",)
    assert image.raw_index is None


def test_layers_stream_and_verify(pushed: Pushed) -> None:
    image = registry.read(ref(pushed.anon, "app:v1"), retry=NO_WAIT)
    with image.layers[1].open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        member = tar.next()
        assert member is not None and member.name == "app/main.sh"
        data = tar.extractfile(member)
        assert data is not None and data.read() == b"echo hi\n"
    with image.layers[0].open_blob() as blob:
        assert blob.read() == pushed.app.layers[0]


def test_read_by_digest(pushed: Pushed) -> None:
    image = registry.read(ref(pushed.anon, f"app@{pushed.app.digest}"), retry=NO_WAIT)
    assert image.id == sha(pushed.app.config)
    assert image.repo_tags == ()
    assert image.repo_digests == (f"{pushed.anon.host}/app@{pushed.app.digest}",)


def test_multi_platform_index_resolves_each_platform(pushed: Pushed) -> None:
    assert skopeo_inspect(f"{pushed.anon.host}/multi:v1") == pushed.index
    for wanted, expected in (("linux/amd64", pushed.amd64), ("linux/arm64", pushed.arm64)):
        image = registry.read(
            ref(pushed.anon, "multi:v1"), platform=Platform.parse(wanted), retry=NO_WAIT
        )
        assert image.config.architecture == expected.arch
        assert image.raw_manifest == expected.manifest
        assert image.raw_index == pushed.index
        assert image.repo_digests == (f"{pushed.anon.host}/multi@{sha(pushed.index)}",)
        assert [layer.diff_id for layer in image.layers] == expected.diff_ids
    with pytest.raises(NotFound, match=r"available: linux/amd64, linux/arm64\)$"):
        registry.read(
            ref(pushed.anon, "multi:v1"), platform=Platform.parse("linux/ppc64le"), retry=NO_WAIT
        )


def test_tags_and_list_images(pushed: Pushed) -> None:
    repo = Reference.parse(f"{pushed.anon.host}/app", default_tag=False)
    assert registry.tags(repo, retry=NO_WAIT) == ["other", "v1", "v2"]
    session = requests.Session()
    urls: list[str] = []
    session.hooks["response"].append(lambda response, *args, **kwargs: urls.append(response.url))
    assert registry.tags(repo, retry=NO_WAIT, page_size=1, session=session) == ["other", "v1", "v2"]
    listed = [urlsplit(url) for url in urls if "/tags/list" in url]
    # distribution 2.8 paginates only the catalog: it answers n=1 with every tag and no Link
    # (the Link walk is covered by the unit tests against the fake registry).
    assert [u.query for u in listed] == ["n=1"]
    images = registry.list_images(repo, retry=NO_WAIT)
    assert [(i.repo_tags, i.id) for i in images] == [
        ((f"{pushed.anon.host}/app:other",), sha(pushed.other.config)),
        ((f"{pushed.anon.host}/app:v1",), sha(pushed.app.config)),
        ((f"{pushed.anon.host}/app:v2",), sha(pushed.app.config)),
    ]


def test_catalog_pages_are_followed_on_a_real_registry(pushed: Pushed) -> None:
    everything = registry.repositories(pushed.anon.host, retry=NO_WAIT)
    assert {"app", "multi"} <= set(everything)
    session = requests.Session()
    urls: list[str] = []
    session.hooks["response"].append(lambda response, *args, **kwargs: urls.append(response.url))
    paged = registry.repositories(pushed.anon.host, retry=NO_WAIT, page_size=1, session=session)
    assert paged == everything
    # one repository a page, each next page through the registry's own Link header
    queries = [urlsplit(url).query for url in urls if "/v2/_catalog" in url]
    assert queries[0] == "n=1" and len(queries) >= len(everything)
    assert all("last=" in q for q in queries[1:])


def test_unknown_tag_is_not_found(pushed: Pushed) -> None:
    with pytest.raises(NotFound) as caught:
        registry.read(ref(pushed.anon, "app:missing"), retry=NO_WAIT)
    assert str(caught.value) == f"manifest unknown: {pushed.anon.host}/app:missing"


def test_htpasswd_registry_needs_credentials(pushed: Pushed) -> None:
    host = pushed.private.host
    with pytest.raises(AuthError) as caught:
        registry.read(ref(pushed.private, "private/app:v1"), retry=NO_WAIT)
    assert caught.value.status == 401
    assert str(caught.value).startswith(
        f"{host}/private/app: authentication required: run 'docker login {host}'"
    )


def test_htpasswd_registry_with_docker_config_credentials(
    pushed: Pushed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(pushed.private.docker_config(tmp_path / "creds")))
    image = registry.read(ref(pushed.private, "private/app:v1"), retry=NO_WAIT)
    assert image.id == sha(pushed.app.config)
    with image.layers[0].open_blob() as blob:
        assert blob.read() == pushed.app.layers[0]
    repo = Reference.parse(f"{pushed.private.host}/private/app", default_tag=False)
    assert registry.tags(repo, retry=NO_WAIT) == ["v1"]


def test_htpasswd_registry_with_a_wrong_password(
    pushed: Pushed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = pushed.private.docker_config(tmp_path / "creds", password="wrong")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    with pytest.raises(AuthError, match=f"refused the credentials for {pushed.private.host}"):
        registry.read(ref(pushed.private, "private/app:v1"), retry=NO_WAIT)
