"""The registry medium against an in-process fake registry (http.server on 127.0.0.1).

The fake serves synthetic images (config, gzip layer tars, manifests, a two-platform index)
and scripted failures. Retries never sleep: every read gets a RetryPolicy whose sleep
records the delays.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import socket
import stat
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fake_http import serving

from deadweight import mediatypes as mt
from deadweight.errors import (
    AuthError,
    CorruptImage,
    DeadweightError,
    DigestMismatch,
    NetworkError,
    NotFound,
    RegistryError,
    UnsupportedMediaType,
    UsageError,
)
from deadweight.platform import Platform
from deadweight.reference import Reference
from deadweight.sources import registry
from deadweight.sources.registry import auth, client, transport
from deadweight.sources.registry.auth import Credentials
from deadweight.sources.registry.transport import RetryPolicy
from deadweight.streams import as_file

# never read the developer's own docker config (conftest.py)
pytestmark = pytest.mark.usefixtures("no_docker_config")

Reply = tuple[int, dict[str, str], bytes]
USER, PASSWORD = "alice", "s3cret"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def errors_body(code: str, message: str) -> bytes:
    return dumps({"errors": [{"code": code, "message": message}]})


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeRegistry:
    """Just enough of the distribution API, plus a token service at /token."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    tag_lists: dict[str, list[str]] = field(default_factory=dict)
    auth: str = ""  # "", "basic" or "bearer"
    anonymous_tokens: bool = True
    token_field: str = "token"
    refresh_token: str = "refresh-me"
    issued: set[str] = field(default_factory=set)
    script: dict[str, list[Reply]] = field(default_factory=dict)
    log: list[Seen] = field(default_factory=list)
    redirect_blobs: bool = False
    tls_attempts: int = 0
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ref(self, text: str) -> Reference:
        return Reference.parse(f"{self.host}/{text}")

    def seen(self, path_prefix: str) -> list[Seen]:
        return [s for s in self.log if s.path.startswith(path_prefix)]

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        self.log.append(Seen(method, path, headers, body))
        url = urlsplit(path)
        route, query = url.path, parse_qs(url.query)
        if self.script.get(route):
            return self.script[route].pop(0)
        if route == "/token":
            return self._token(method, headers, query, body)
        if route.startswith("/cdn/"):
            return self._blob(route[len("/cdn/") :])
        denied = self._denied(route, headers)
        if denied:
            return denied
        if route == "/v2/":
            return 200, {"Content-Type": "application/json"}, b"{}"
        m = re.match(r"^/v2/(.+)/(manifests|blobs)/([^/]+)$", route)
        if m and m.group(2) == "manifests":
            found = self.manifests.get((m.group(1), m.group(3)))
            if found is None:
                return 404, {}, errors_body("MANIFEST_UNKNOWN", "manifest unknown")
            raw, media_type = found
            return 200, {"Content-Type": media_type, "Docker-Content-Digest": sha(raw)}, raw
        if m:
            if self.redirect_blobs:
                return 307, {"Location": f"http://localhost:{self.port}/cdn/{m.group(3)}"}, b""
            return self._blob(m.group(3))
        m = re.match(r"^/v2/(.+)/tags/list$", route)
        if m:
            return self._tags(m.group(1), query)
        return 404, {}, b"404 page not found"

    def _blob(self, digest: str) -> Reply:
        if digest not in self.blobs:
            return 404, {}, errors_body("BLOB_UNKNOWN", "blob unknown to registry")
        return 200, {"Content-Type": "application/octet-stream"}, self.blobs[digest]

    def _tags(self, repo: str, query: dict[str, list[str]]) -> Reply:
        if repo not in self.tag_lists:
            return 404, {}, errors_body("NAME_UNKNOWN", "repository name not known to registry")
        names = sorted(self.tag_lists[repo])
        last = query.get("last", [""])[0]
        names = [n for n in names if n > last]
        size = int(query.get("n", ["0"])[0]) or len(names)
        page, rest = names[:size], names[size:]
        headers = {"Content-Type": "application/json"}
        if rest:
            headers["Link"] = f'</v2/{repo}/tags/list?last={page[-1]}&n={size}>; rel="next"'
        return 200, headers, dumps({"name": repo, "tags": page})

    def _valid_basic(self, value: str) -> bool:
        return value == Credentials(USER, PASSWORD).basic()

    def _denied(self, route: str, headers: dict[str, str]) -> Reply | None:
        value = headers.get("authorization", "")
        unauthorized = errors_body("UNAUTHORIZED", "authentication required")
        if self.auth == "basic" and not self._valid_basic(value):
            return 401, {"WWW-Authenticate": 'Basic realm="fake registry"'}, unauthorized
        if self.auth == "bearer" and value.removeprefix("Bearer ") not in self.issued:
            m = re.match(r"^/v2/(.+)/(?:manifests|blobs|tags)/", route)
            scope = f',scope="repository:{m.group(1)}:pull"' if m else ""
            challenge = f'Bearer realm="http://{self.host}/token",service="fake"{scope}'
            return 401, {"WWW-Authenticate": challenge}, unauthorized
        return None

    def _token(
        self, method: str, headers: dict[str, str], query: dict[str, list[str]], body: bytes
    ) -> Reply:
        value = headers.get("authorization", "")
        if method == "POST":
            form = parse_qs(body.decode())
            if form.get("refresh_token") != [self.refresh_token]:
                return 401, {}, b'{"error":"invalid_grant"}'
        elif value and not self._valid_basic(value):
            return 401, {}, errors_body("UNAUTHORIZED", "bad credentials")
        elif not value and not self.anonymous_tokens:
            return 401, {}, errors_body("UNAUTHORIZED", "anonymous access denied")
        token = f"tok{len(self.issued)}"
        self.issued.add(token)
        return 200, {"Content-Type": "application/json"}, dumps({self.token_field: token})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    fake: FakeRegistry

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        if (
            cast(io.BufferedReader, self.rfile).peek(1)[:1] == b"\x16"
        ):  # a TLS ClientHello: we speak plain http only
            self.fake.tls_attempts += 1
            self.close_connection = True
            return
        super().handle_one_request()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, reply_headers, payload = self.fake.handle(method, self.path, headers, body)
        self.send_response(status)
        for key, value in reply_headers.items():
            self.send_header(key, value)
        if "Content-Length" not in reply_headers:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if reply_headers.get("Connection") == "close":
            self.close_connection = True


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    state = FakeRegistry()
    with serving(state, _Handler):
        yield state


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def retry(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append)


# -- synthetic images ---------------------------------------------------------------------


def layer_tar(files: dict[str, bytes]) -> tuple[bytes, bytes]:
    """(gzip blob, uncompressed tar) of a layer holding ``files``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    plain = buf.getvalue()
    return gzip.compress(plain, mtime=0), plain


@dataclass
class Pushed:
    raw_manifest: bytes
    raw_config: bytes
    layers: list[bytes]
    diff_ids: list[str]

    @property
    def digest(self) -> str:
        return sha(self.raw_manifest)


def push(
    fake: FakeRegistry,
    repo: str,
    tag: str | None,
    *,
    arch: str = "amd64",
    contents: tuple[dict[str, bytes], ...] = ({"etc/hello": b"hello\n"}, {"app/run": b"run"}),
    docker: bool = False,
    layer_type: str | None = None,
    config_type: str | None = None,
) -> Pushed:
    built = [layer_tar(files) for files in contents]
    diff_ids = [sha(plain) for _, plain in built]
    config = {
        "architecture": arch,
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": ["/app/run"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"layer {i}"} for i in range(len(built))],
    }
    raw_config = dumps(config)
    default_layer = mt.DOCKER_LAYER_GZIP if docker else mt.OCI_LAYER_GZIP
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST,
        "config": {
            "mediaType": config_type or (mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG),
            "digest": sha(raw_config),
            "size": len(raw_config),
        },
        "layers": [
            {"mediaType": layer_type or default_layer, "digest": sha(gz), "size": len(gz)}
            for gz, _ in built
        ],
    }
    raw_manifest = dumps(manifest)
    fake.blobs[sha(raw_config)] = raw_config
    for gz, _ in built:
        fake.blobs[sha(gz)] = gz
    media_type = str(manifest["mediaType"])
    fake.manifests[(repo, sha(raw_manifest))] = (raw_manifest, media_type)
    if tag:
        fake.manifests[(repo, tag)] = (raw_manifest, media_type)
        fake.tag_lists.setdefault(repo, []).append(tag)
    return Pushed(raw_manifest, raw_config, [gz for gz, _ in built], diff_ids)


def push_index(
    fake: FakeRegistry, repo: str, tag: str, images: list[tuple[Pushed, dict[str, str]]]
) -> bytes:
    index = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {
                "mediaType": mt.OCI_MANIFEST,
                "digest": image.digest,
                "size": len(image.raw_manifest),
                "platform": plat,
            }
            for image, plat in images
        ],
    }
    raw = dumps(index)
    fake.manifests[(repo, tag)] = (raw, mt.OCI_INDEX)
    fake.manifests[(repo, sha(raw))] = (raw, mt.OCI_INDEX)
    fake.tag_lists.setdefault(repo, []).append(tag)
    return raw


def two_platforms(fake: FakeRegistry) -> tuple[Pushed, Pushed, bytes]:
    amd = push(fake, "multi", None, arch="amd64", contents=({"amd": b"x86"},))
    arm = push(fake, "multi", None, arch="arm64", contents=({"arm": b"aarch64"},))
    attestation = push(fake, "multi", None, arch="unknown", contents=({"sbom": b"{}"},))
    raw = push_index(
        fake,
        "multi",
        "v1",
        [
            (amd, {"os": "linux", "architecture": "amd64"}),
            (arm, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
            (attestation, {"os": "unknown", "architecture": "unknown"}),
        ],
    )
    return amd, arm, raw


# -- reading images -----------------------------------------------------------------------


def test_read_by_tag_builds_the_image_and_streams_verified_layers(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    pushed = push(fake, "team/app", "v1")
    image = registry.read(fake.ref("team/app:v1"), retry=retry)
    assert image.id == sha(pushed.raw_config)
    assert image.raw_manifest == pushed.raw_manifest
    assert image.digest == pushed.digest
    assert image.manifest_media_type == mt.OCI_MANIFEST
    assert image.raw_index is None
    assert image.repo_tags == (f"{fake.host}/team/app:v1",)
    assert image.repo_digests == (f"{fake.host}/team/app@{pushed.digest}",)
    assert image.source == f"{fake.host}/team/app:v1"
    assert [layer.diff_id for layer in image.layers] == pushed.diff_ids
    assert [layer.blob.digest for layer in image.layers] == [sha(gz) for gz in pushed.layers]
    config_path = f"/v2/team/app/blobs/{sha(pushed.raw_config)}"
    assert [s.path for s in fake.seen("/v2/team/app/blobs/")] == [config_path]  # layers: lazy
    with image.layers[0].open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        member = tar.next()
        assert member is not None and member.name == "etc/hello"
        extracted = tar.extractfile(member)
        assert extracted is not None and extracted.read() == b"hello\n"
    with image.layers[1].open_blob() as again:  # the opener can be called again
        assert again.read() == pushed.layers[1]
    assert fake.seen("/v2/team/app/manifests/")[0].headers["accept"] == mt.ACCEPT_MANIFESTS
    assert fake.seen("/v2/team/app/blobs/")[-1].headers["accept-encoding"] == "identity"


def test_read_by_digest_verifies_and_records_it(fake: FakeRegistry, retry: RetryPolicy) -> None:
    pushed = push(fake, "app", "v1", docker=True)
    image = registry.read(fake.ref(f"app@{pushed.digest}"), retry=retry)
    assert image.repo_tags == ()
    assert image.repo_digests == (f"{fake.host}/app@{pushed.digest}",)
    assert image.manifest_media_type == mt.DOCKER_MANIFEST
    assert image.config.architecture == "amd64"
    assert fake.seen("/v2/app/manifests/")[0].path == f"/v2/app/manifests/{pushed.digest}"


def test_manifest_served_under_another_digest_is_rejected(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    one = push(fake, "app", "v1")
    other = push(fake, "app", "v2", contents=({"other": b"2"},))
    fake.manifests[("app", one.digest)] = fake.manifests[("app", other.digest)]
    with pytest.raises(DigestMismatch, match=f"app@{one.digest}: digest mismatch: got"):
        registry.read(fake.ref(f"app@{one.digest}"), retry=retry)


def test_wrong_docker_content_digest_header_is_rejected(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    push(fake, "app", "v1")
    fake.script["/v2/app/manifests/v1"] = [
        (200, {"Content-Type": mt.OCI_MANIFEST, "Docker-Content-Digest": sha(b"x")}, b"{}")
    ]
    with pytest.raises(DigestMismatch, match=f"the registry names it {sha(b'x')}"):
        registry.read(fake.ref("app:v1"), retry=retry)


def test_index_resolves_the_requested_platform(fake: FakeRegistry, retry: RetryPolicy) -> None:
    _, arm, raw_index = two_platforms(fake)
    image = registry.read(fake.ref("multi:v1"), platform=Platform.parse("linux/arm64"), retry=retry)
    assert image.config.architecture == "arm64"
    assert image.raw_manifest == arm.raw_manifest
    assert image.raw_index == raw_index
    assert image.repo_digests == (f"{fake.host}/multi@{sha(raw_index)}",)
    assert image.repo_tags == (f"{fake.host}/multi:v1",)
    assert [layer.diff_id for layer in image.layers] == arm.diff_ids


def test_index_defaults_to_the_host_platform(
    fake: FakeRegistry, retry: RetryPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    amd, arm, _ = two_platforms(fake)
    monkeypatch.setattr(client, "host", lambda: Platform("linux", "arm64"))
    assert registry.read(fake.ref("multi:v1"), retry=retry).raw_manifest == arm.raw_manifest
    monkeypatch.setattr(client, "host", lambda: Platform("linux", "amd64"))
    assert registry.read(fake.ref("multi:v1"), retry=retry).raw_manifest == amd.raw_manifest


def test_index_without_the_platform_names_the_available_ones(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    two_platforms(fake)
    with pytest.raises(NotFound) as caught:
        registry.read(fake.ref("multi:v1"), platform=Platform.parse("linux/s390x"), retry=retry)
    assert str(caught.value) == (
        f"{fake.host}/multi:v1: no image for platform linux/s390x "
        "(available: linux/amd64, linux/arm64/v8)"
    )


def test_index_with_one_image_falls_back_to_it_only_by_default(
    fake: FakeRegistry, retry: RetryPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    only = push(fake, "one", None, arch="riscv64")
    push_index(fake, "one", "v1", [(only, {"os": "linux", "architecture": "riscv64"})])
    monkeypatch.setattr(client, "host", lambda: Platform("linux", "amd64"))
    assert registry.read(fake.ref("one:v1"), retry=retry).raw_manifest == only.raw_manifest
    with pytest.raises(NotFound, match="available: linux/riscv64"):
        registry.read(fake.ref("one:v1"), platform=Platform.parse("linux/amd64"), retry=retry)


# -- errors -------------------------------------------------------------------------------


def test_unknown_tag_is_not_found(fake: FakeRegistry, retry: RetryPolicy) -> None:
    push(fake, "app", "v1")
    with pytest.raises(NotFound) as caught:
        registry.read(fake.ref("app:nope"), retry=retry)
    assert str(caught.value) == f"manifest unknown: {fake.host}/app:nope"


def test_missing_layer_blob_is_not_found_when_opened(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    pushed = push(fake, "app", "v1")
    del fake.blobs[sha(pushed.layers[0])]
    image = registry.read(fake.ref("app:v1"), retry=retry)
    with pytest.raises(NotFound, match=f"blob unknown: {fake.host}/app@{sha(pushed.layers[0])}"):
        image.layers[0].open_blob()


def test_config_with_a_wrong_digest_is_rejected(fake: FakeRegistry, retry: RetryPolicy) -> None:
    pushed = push(fake, "app", "v1")
    fake.blobs[sha(pushed.raw_config)] = pushed.raw_config.replace(b"amd64", b"arm64")
    with pytest.raises(DigestMismatch, match=r"image config of .*: digest mismatch"):
        registry.read(fake.ref("app:v1"), retry=retry)


def test_layer_with_a_wrong_digest_fails_when_read_to_the_end(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    pushed = push(fake, "app", "v1")
    good = pushed.layers[0]
    fake.blobs[sha(good)] = good[:-1] + bytes([good[-1] ^ 1])
    image = registry.read(fake.ref("app:v1"), retry=retry)  # opening is lazy: no error yet
    with image.layers[0].open_blob() as stream, pytest.raises(DigestMismatch, match="layer"):
        while stream.read(1 << 16):  # read(-1) alone stops short of VerifyingReader's EOF check
            pass


def test_truncated_layer_download_is_a_network_error(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    pushed = push(fake, "app", "v1")
    image = registry.read(fake.ref("app:v1"), retry=retry)
    path = f"/v2/app/blobs/{sha(pushed.layers[0])}"
    short = {"Content-Length": str(len(pushed.layers[0])), "Connection": "close"}
    fake.script[path] = [(200, short, pushed.layers[0][:10])]
    with image.layers[0].open_blob() as stream, pytest.raises(NetworkError) as caught:
        stream.read()
    assert str(caught.value).startswith(f"lost the connection to registry {fake.host}")


def test_unknown_layer_media_type_is_unsupported(fake: FakeRegistry, retry: RetryPolicy) -> None:
    push(fake, "app", "v1", layer_type="application/vnd.example.blob")
    with pytest.raises(UnsupportedMediaType, match=re.escape("'application/vnd.example.blob'")):
        registry.read(fake.ref("app:v1"), retry=retry)


def test_artifact_config_is_not_a_container_image(fake: FakeRegistry, retry: RetryPolicy) -> None:
    push(fake, "chart", "v1", config_type="application/vnd.cncf.helm.config.v1+json")
    with pytest.raises(UnsupportedMediaType, match="not a container image"):
        registry.read(fake.ref("chart:v1"), retry=retry)


def test_broken_manifest_json_is_corrupt(fake: FakeRegistry, retry: RetryPolicy) -> None:
    fake.manifests[("app", "v1")] = (b'{"schemaVersion": 2, "layers": [', mt.OCI_MANIFEST)
    with pytest.raises(CorruptImage, match="not valid JSON"):
        registry.read(fake.ref("app:v1"), retry=retry)


def test_broken_config_json_is_corrupt(fake: FakeRegistry, retry: RetryPolicy) -> None:
    pushed = push(fake, "app", "v1")
    broken = b'{"rootfs": '
    raw = pushed.raw_manifest.replace(sha(pushed.raw_config).encode(), sha(broken).encode())
    raw = raw.replace(f'"size":{len(pushed.raw_config)}'.encode(), f'"size":{len(broken)}'.encode())
    fake.manifests[("app", "v1")] = (raw, mt.OCI_MANIFEST)
    fake.blobs[sha(broken)] = broken
    with pytest.raises(CorruptImage, match="image config: not valid JSON"):
        registry.read(fake.ref("app:v1"), retry=retry)


def test_429_is_retried_after_the_time_the_registry_asks(
    fake: FakeRegistry, retry: RetryPolicy, sleeps: list[float]
) -> None:
    pushed = push(fake, "app", "v1")
    fake.script["/v2/app/manifests/v1"] = [(429, {"Retry-After": "7"}, b"")]
    assert registry.read(fake.ref("app:v1"), retry=retry).digest == pushed.digest
    assert sleeps == [7.0]
    assert len(fake.seen("/v2/app/manifests/v1")) == 2


def test_retry_after_and_backoff_are_capped(
    fake: FakeRegistry, retry: RetryPolicy, sleeps: list[float]
) -> None:
    push(fake, "app", "v1")
    fake.script["/v2/app/manifests/v1"] = [
        (503, {"Retry-After": "3600"}, b""),
        (502, {}, b""),
        (504, {}, b""),
    ]
    registry.read(fake.ref("app:v1"), retry=retry)
    assert sleeps == [10.0, 1.0, 2.0]


def test_503_forever_gives_up_with_the_status(
    fake: FakeRegistry, retry: RetryPolicy, sleeps: list[float]
) -> None:
    push(fake, "app", "v1")
    fake.script["/v2/app/manifests/v1"] = [(503, {}, b"")] * 4
    with pytest.raises(RegistryError) as caught:
        registry.read(fake.ref("app:v1"), retry=retry)
    assert caught.value.status == 503
    assert "answered 503 Service Unavailable to GET /v2/app/manifests/v1 after 4 attempts" in str(
        caught.value
    )
    assert sleeps == [0.5, 1.0, 2.0]


def test_500_is_not_retried(fake: FakeRegistry, retry: RetryPolicy, sleeps: list[float]) -> None:
    push(fake, "app", "v1")
    body = errors_body("UNKNOWN", "storage driver failed")
    fake.script["/v2/app/manifests/v1"] = [(500, {}, body)] * 10
    with pytest.raises(RegistryError) as caught:
        registry.read(fake.ref("app:v1"), retry=retry)
    assert caught.value.status == 500
    assert str(caught.value) == (
        f"registry {fake.host} answered 500 Internal Server Error to GET /v2/app/manifests/v1: "
        "UNKNOWN: storage driver failed"
    )
    assert sleeps == []
    assert len(fake.seen("/v2/app/manifests/v1")) == 1


def test_unreachable_registry_is_a_network_error(retry: RetryPolicy, sleeps: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(NetworkError) as caught:
        registry.read(Reference.parse(f"127.0.0.1:{port}/app:v1"), retry=retry)
    assert str(caught.value) == f"cannot reach registry 127.0.0.1:{port}: Connection refused"
    assert sleeps == [0.5, 1.0, 2.0]


def test_not_a_registry(fake: FakeRegistry, retry: RetryPolicy) -> None:
    fake.script["/v2/"] = [(404, {}, b"not here")]
    with pytest.raises(RegistryError, match=r"does not serve the registry API \(GET /v2/"):
        registry.read(fake.ref("app:v1"), retry=retry)


# -- authentication -----------------------------------------------------------------------


def write_config(config_dir: Path, doc: dict[str, Any]) -> None:
    (config_dir / "config.json").write_text(json.dumps(doc))


def basic_auths(host: str, key: str | None = None) -> dict[str, Any]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {"auths": {key or host: {"auth": token}}}


def test_basic_challenge_without_credentials_says_what_to_do(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    push(fake, "app", "v1")
    fake.auth = "basic"
    with pytest.raises(AuthError) as caught:
        registry.read(fake.ref("app:v1"), retry=retry)
    assert str(caught.value) == (
        f"{fake.host}/app: authentication required: run 'docker login {fake.host}' or set "
        f"credentials for {fake.host} in {no_docker_config / 'config.json'}"
    )


def test_basic_challenge_with_config_credentials(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    pushed = push(fake, "app", "v1")
    fake.auth = "basic"
    write_config(no_docker_config, basic_auths(fake.host, key=f"https://{fake.host}/v1/"))
    image = registry.read(fake.ref("app:v1"), retry=retry)
    assert image.digest == pushed.digest
    with image.layers[0].open_blob() as stream:
        assert stream.read() == pushed.layers[0]
    basic = Credentials(USER, PASSWORD).basic()
    assert all(s.headers.get("authorization") == basic for s in fake.seen("/v2/app/"))


def test_basic_challenge_with_wrong_password(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    push(fake, "app", "v1")
    fake.auth = "basic"
    wrong = base64.b64encode(f"{USER}:nope".encode()).decode()
    write_config(no_docker_config, {"auths": {fake.host: {"auth": wrong}}})
    with pytest.raises(AuthError, match=f"refused the credentials for {fake.host} \\(401"):
        registry.read(fake.ref("app:v1"), retry=retry)


def test_bearer_challenge_anonymous_token(fake: FakeRegistry, retry: RetryPolicy) -> None:
    pushed = push(fake, "app", "v1")
    fake.auth = "bearer"
    fake.token_field = "access_token"
    image = registry.read(fake.ref("app:v1"), retry=retry)
    assert image.digest == pushed.digest
    token_request = fake.seen("/token")[0]
    assert parse_qs(urlsplit(token_request.path).query) == {
        "scope": ["repository:app:pull"],
        "service": ["fake"],
    }
    assert "authorization" not in token_request.headers


def test_bearer_token_is_fetched_with_credentials_and_cached_in_the_session(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    push(fake, "app", "v1")
    push(fake, "other", "v1")
    fake.auth = "bearer"
    fake.anonymous_tokens = False
    write_config(no_docker_config, basic_auths(fake.host))
    session = requests.Session()
    registry.read(fake.ref("app:v1"), retry=retry, session=session)
    registry.read(fake.ref("app:v1"), retry=retry, session=session)
    assert len(fake.seen("/token")) == 1
    assert fake.seen("/token")[0].headers["authorization"] == Credentials(USER, PASSWORD).basic()
    registry.read(fake.ref("other:v1"), retry=retry, session=session)  # another scope
    assert len(fake.seen("/token")) == 2
    assert len(fake.seen("/v2/")) - len(fake.seen("/v2/app")) - len(fake.seen("/v2/other")) == 1


def test_revoked_token_is_replaced_once(fake: FakeRegistry, retry: RetryPolicy) -> None:
    pushed = push(fake, "app", "v1")
    fake.auth = "bearer"
    session = requests.Session()
    registry.read(fake.ref("app:v1"), retry=retry, session=session)
    fake.issued.clear()
    assert registry.read(fake.ref("app:v1"), retry=retry, session=session).digest == pushed.digest
    assert len(fake.seen("/token")) == 2


def test_bearer_token_service_refusing_anonymous_access(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    push(fake, "app", "v1")
    fake.auth = "bearer"
    fake.anonymous_tokens = False
    with pytest.raises(AuthError) as caught:
        registry.read(fake.ref("app:v1"), retry=retry)
    message = str(caught.value)
    assert message.startswith(
        f"{fake.host}/app: the token service http://{fake.host}/token refused anonymous access "
        "(401: UNAUTHORIZED: anonymous access denied): "
    )
    assert f"run 'docker login {fake.host}'" in message
    assert "\n" not in message


def test_403_is_access_denied(fake: FakeRegistry, retry: RetryPolicy) -> None:
    push(fake, "app", "v1")
    fake.script["/v2/app/manifests/v1"] = [(403, {}, errors_body("DENIED", "no pull for you"))]
    with pytest.raises(AuthError) as caught:
        registry.read(fake.ref("app:v1"), retry=retry)
    assert caught.value.status == 403
    assert "refused anonymous access (403: DENIED: no pull for you)" in str(caught.value)


def make_helper(bin_dir: Path, name: str, answers: dict[str, str], log: Path) -> None:
    """A fake ``docker-credential-<name>``: answers per server, else 'not found'."""
    script = bin_dir / f"docker-credential-{name}"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "server = sys.stdin.read()\n"
        f"open({str(log)!r}, 'a').write(sys.argv[1] + ' ' + server + '\\n')\n"
        f"answers = {answers!r}\n"
        "if server not in answers:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        "user, _, secret = answers[server].partition(':')\n"
        "print(json.dumps({'ServerURL': server, 'Username': user, 'Secret': secret}))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def helper_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir


def test_cred_helper_supplies_basic_credentials(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path, helper_bin: Path
) -> None:
    pushed = push(fake, "app", "v1")
    fake.auth = "basic"
    log = helper_bin / "calls.log"
    make_helper(helper_bin, "fake", {fake.host: f"{USER}:{PASSWORD}"}, log)
    write_config(no_docker_config, {"credHelpers": {fake.host: "fake"}})
    assert registry.read(fake.ref("app:v1"), retry=retry).digest == pushed.digest
    assert log.read_text() == f"get {fake.host}\n"


def test_creds_store_not_knowing_the_host_falls_back_to_auths(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path, helper_bin: Path
) -> None:
    push(fake, "app", "v1")
    fake.auth = "basic"
    log = helper_bin / "calls.log"
    make_helper(helper_bin, "desktop", {}, log)
    write_config(no_docker_config, {"credsStore": "desktop", **basic_auths(fake.host)})
    registry.read(fake.ref("app:v1"), retry=retry)
    assert log.read_text() == f"get {fake.host}\n"


def test_cred_helper_identity_token_uses_the_refresh_grant(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path, helper_bin: Path
) -> None:
    push(fake, "app", "v1")
    fake.auth = "bearer"
    fake.anonymous_tokens = False
    make_helper(helper_bin, "fake", {fake.host: "<token>:refresh-me"}, helper_bin / "log")
    write_config(no_docker_config, {"credsStore": "fake"})
    registry.read(fake.ref("app:v1"), retry=retry)
    (request,) = fake.seen("/token")
    assert request.method == "POST"
    assert parse_qs(request.body.decode()) == {
        "scope": ["repository:app:pull"],
        "service": ["fake"],
        "grant_type": ["refresh_token"],
        "client_id": ["deadweight"],
        "refresh_token": ["refresh-me"],
    }


def test_missing_cred_helper_is_an_auth_error(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path, helper_bin: Path
) -> None:
    push(fake, "app", "v1")
    fake.auth = "basic"
    write_config(no_docker_config, {"credsStore": "nowhere"})
    with pytest.raises(
        AuthError, match=r"credential helper docker-credential-nowhere .* not on PATH"
    ):
        registry.read(fake.ref("app:v1"), retry=retry)


def test_anonymous_registry_never_runs_helpers(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path, helper_bin: Path
) -> None:
    push(fake, "app", "v1")
    write_config(no_docker_config, {"credsStore": "nowhere"})
    assert registry.read(fake.ref("app:v1"), retry=retry).config.os == "linux"


def test_config_lookup_by_home_and_key_styles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / ".docker").mkdir(parents=True)
    doc = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:pw").decode()},
            "http://legacy.example:5000/v1/": {"username": "old", "password": "pw2"},
            "tokens.example": {"identitytoken": "idt"},
            "empty.example": {},
        }
    }
    write_config(tmp_path / "home" / ".docker", doc)
    assert auth.config_path() == tmp_path / "home" / ".docker" / "config.json"
    assert auth.credentials_for("docker.io") == Credentials("hub", "pw")
    assert auth.credentials_for("registry-1.docker.io") == Credentials("hub", "pw")
    assert auth.credentials_for("legacy.example:5000") == Credentials("old", "pw2")
    assert auth.credentials_for("tokens.example") == Credentials(identity_token="idt")
    assert auth.credentials_for("empty.example") is None
    assert auth.credentials_for("elsewhere.example") is None
    assert "pw" not in repr(auth.credentials_for("docker.io"))


def test_broken_docker_config_is_a_usage_error(no_docker_config: Path) -> None:
    (no_docker_config / "config.json").write_text("{auths")
    with pytest.raises(UsageError, match="is not valid JSON"):
        auth.credentials_for("example.com")
    write_config(no_docker_config, {"auths": {"example.com": {"auth": "%%%"}}})
    with pytest.raises(UsageError, match=re.escape("the 'auth' of example.com is not base64")):
        auth.credentials_for("example.com")


def test_challenge_parsing() -> None:
    header = (
        'Bearer realm="https://auth.example/token?a=1,b=2",service="reg \\"x\\"",'
        'scope="repository:a/b:pull,push", Basic realm=plain'
    )
    bearer, basic = auth.parse_challenges(header)
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.example/token?a=1,b=2",
        "service": 'reg "x"',
        "scope": "repository:a/b:pull,push",
    }
    assert (basic.scheme, basic.get("realm")) == ("basic", "plain")
    assert auth.parse_challenges("") == []


# -- tags and listing ---------------------------------------------------------------------


def test_tags_follow_link_pagination(fake: FakeRegistry, retry: RetryPolicy) -> None:
    for tag in ("e", "a", "c", "b", "d"):
        push(fake, "app", tag)
    assert registry.tags(fake.ref("app"), retry=retry, page_size=2) == ["a", "b", "c", "d", "e"]
    assert [s.path for s in fake.seen("/v2/app/tags/list")] == [
        "/v2/app/tags/list?n=2",
        "/v2/app/tags/list?last=b&n=2",
        "/v2/app/tags/list?last=d&n=2",
    ]


def test_tags_of_an_unknown_repository(fake: FakeRegistry, retry: RetryPolicy) -> None:
    with pytest.raises(NotFound, match=f"^repository unknown: {fake.host}/ghost$"):
        registry.tags(fake.ref("ghost"), retry=retry)


def test_tags_with_broken_json_is_a_registry_error(fake: FakeRegistry, retry: RetryPolicy) -> None:
    fake.script["/v2/app/tags/list"] = [(200, {}, b"<html>")]
    with pytest.raises(RegistryError, match=r"tag list of .*/app: not valid JSON"):
        registry.tags(fake.ref("app"), retry=retry)


def test_list_images_reads_every_tag(fake: FakeRegistry, retry: RetryPolicy) -> None:
    one = push(fake, "app", "v1")
    two = push(fake, "app", "v2", contents=({"v2": b"2"},))
    images = registry.list_images(fake.ref("app"), retry=retry)
    assert [(i.repo_tags, i.digest) for i in images] == [
        ((f"{fake.host}/app:v1",), one.digest),
        ((f"{fake.host}/app:v2",), two.digest),
    ]
    assert len(fake.seen("/v2/")) - len(fake.seen("/v2/app")) == 1  # one API check in all


def test_list_images_reports_failing_tags_to_on_error(
    fake: FakeRegistry, retry: RetryPolicy
) -> None:
    push(fake, "app", "v1")
    push(fake, "app", "chart", config_type="application/vnd.cncf.helm.config.v1+json")
    failed: list[tuple[str, DeadweightError]] = []
    images = registry.list_images(
        fake.ref("app"), retry=retry, on_error=lambda tag, exc: failed.append((tag, exc))
    )
    assert [i.repo_tags for i in images] == [(f"{fake.host}/app:v1",)]
    assert [(tag, type(exc)) for tag, exc in failed] == [("chart", UnsupportedMediaType)]
    with pytest.raises(UnsupportedMediaType):
        registry.list_images(fake.ref("app"), retry=retry)


# -- transport ----------------------------------------------------------------------------


def test_blob_redirect_to_another_host_drops_the_authorization(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    pushed = push(fake, "app", "v1")
    fake.auth = "basic"
    fake.redirect_blobs = True
    write_config(no_docker_config, basic_auths(fake.host))
    image = registry.read(fake.ref("app:v1"), retry=retry)
    with image.layers[0].open_blob() as stream:
        assert stream.read() == pushed.layers[0]
    cdn = fake.seen("/cdn/")
    assert [s.path for s in cdn] == [
        f"/cdn/{sha(pushed.raw_config)}",
        f"/cdn/{sha(pushed.layers[0])}",
    ]
    assert all("authorization" not in s.headers for s in cdn)


def test_insecure_tries_tls_then_plain_http(
    fake: FakeRegistry, retry: RetryPolicy, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed = push(fake, "app", "v1")
    monkeypatch.setattr(transport, "is_loopback", lambda host: False)
    assert transport.schemes(fake.host, False) == ("https",)
    assert registry.read(fake.ref("app:v1"), insecure=True, retry=retry).digest == pushed.digest
    assert fake.tls_attempts == 1
    assert sleeps == []  # the failed TLS attempt is not retried


@pytest.mark.parametrize(
    ("host", "insecure", "expected"),
    [
        ("localhost:5000", False, ("http",)),
        ("127.0.0.1:5000", False, ("http",)),
        ("[::1]:5000", False, ("http",)),
        ("registry.example.com", False, ("https",)),
        ("registry.example.com:5000", True, ("https", "http")),
        ("10.0.0.1:5000", False, ("https",)),
    ],
)
def test_schemes(host: str, insecure: bool, expected: tuple[str, ...]) -> None:
    assert transport.schemes(host, insecure) == expected


def test_timeouts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert transport.timeouts() == (10.0, 60.0)
    monkeypatch.setenv("DEADWEIGHT_REGISTRY_TIMEOUT", "5")
    assert transport.timeouts() == (5.0, 5.0)
    monkeypatch.setenv("DEADWEIGHT_REGISTRY_TIMEOUT", "3,30")
    assert transport.timeouts() == (3.0, 30.0)
    monkeypatch.setenv("DEADWEIGHT_REGISTRY_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="DEADWEIGHT_REGISTRY_TIMEOUT='soon'"):
        transport.timeouts()


def test_retry_after_as_an_http_date_is_understood() -> None:
    policy = RetryPolicy(max_sleep=100.0)
    assert policy.delay(1, "Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
    assert policy.delay(3, "not a date") == 2.0
    assert policy.delay(1, "12") == 12.0


class ScriptedSession(requests.Session):
    """A session that answers from a script instead of the network, and records calls."""

    def __init__(self, script: list[Reply | Exception]) -> None:
        super().__init__()
        self.script = script
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((str(url), kwargs))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, headers, body = step
        response = requests.Response()
        response.status_code, response.url, response.reason = status, str(url), "Scripted"
        response.headers.update(headers)
        response.raw = io.BytesIO(body)
        return response


def test_docker_hub_names_and_login_advice(no_docker_config: Path, retry: RetryPolicy) -> None:
    session = ScriptedSession([(401, {"WWW-Authenticate": 'Basic realm="hub"'}, b"")])
    with pytest.raises(AuthError) as caught:
        registry.read(Reference.parse("alpine"), session=session, retry=retry)
    assert session.calls[0][0] == "https://registry-1.docker.io/v2/"
    assert session.calls[0][1]["verify"] is True
    assert session.calls[0][1]["timeout"] == (10.0, 60.0)
    assert str(caught.value) == (
        "docker.io/library/alpine: authentication required: run 'docker login' or set "
        f"credentials for docker.io in {no_docker_config / 'config.json'}"
    )


def test_certificate_failures_are_not_retried(retry: RetryPolicy, sleeps: list[float]) -> None:
    failure = requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='registry.example', port=443): Max retries exceeded with url: "
        "/v2/ (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
        "certificate verify failed: self-signed certificate (_ssl.c:1006)')))"
    )
    session = ScriptedSession([failure])
    with pytest.raises(NetworkError) as caught:
        registry.read(Reference.parse("registry.example/app"), session=session, retry=retry)
    assert str(caught.value) == (
        "cannot reach registry registry.example: "
        "TLS error: certificate verify failed: self-signed certificate"
    )
    assert sleeps == []


def test_insecure_registry_skips_tls_verification(retry: RetryPolicy) -> None:
    session = ScriptedSession([(404, {}, b"")])
    with pytest.raises(RegistryError):
        registry.read(
            Reference.parse("registry.example/app"), insecure=True, session=session, retry=retry
        )
    assert [(url, kwargs["verify"]) for url, kwargs in session.calls] == [
        ("https://registry.example/v2/", False)
    ]


def test_connection_failure_reasons_are_short() -> None:
    dns = requests.ConnectionError(
        "HTTPSConnectionPool(host='nohost.invalid', port=443): Max retries exceeded with url: "
        '/v2/ (Caused by NameResolutionError("<urllib3.connection.HTTPSConnection object at '
        "0x7f>: Failed to resolve 'nohost.invalid' ([Errno -2] Name or service not known)\"))"
    )
    assert transport.reason(dns, (10.0, 60.0)) == "Name or service not known"
    assert transport.reason(requests.ConnectTimeout("x"), (3.0, 60.0)) == (
        "connection timed out after 3 s"
    )
    assert transport.reason(requests.ReadTimeout("x"), (3.0, 60.0)) == "no answer within 60 s"


def test_failing_cred_helper_reports_its_first_line(
    helper_bin: Path, no_docker_config: Path
) -> None:
    script = helper_bin / "docker-credential-broken"
    script.write_text("#!/bin/sh\necho 'keychain is locked' >&2\necho 'more detail' >&2\nexit 3\n")
    script.chmod(0o755)
    write_config(no_docker_config, {"credHelpers": {"registry.example": "broken"}})
    with pytest.raises(AuthError) as caught:
        auth.credentials_for("registry.example")
    assert str(caught.value) == (
        "credential helper docker-credential-broken failed for registry.example: keychain is locked"
    )


def test_tag_list_link_to_another_host_is_refused(fake: FakeRegistry, retry: RetryPolicy) -> None:
    link = {"Link": '<https://elsewhere.example/v2/app/tags/list?last=a>; rel="next"'}
    fake.script["/v2/app/tags/list"] = [(200, link, dumps({"name": "app", "tags": ["a"]}))]
    with pytest.raises(RegistryError) as caught:
        registry.tags(fake.ref("app"), retry=retry)
    assert str(caught.value) == (
        f"{fake.host}/app: tag list links to another host "
        "(https://elsewhere.example/v2/app/tags/list?last=a)"
    )


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ('<http://[::1/v2/app/tags/list?last=a>; rel="next"', "tag list link is not a valid URL"),
        ('</v2/app/tags/list?last=a>; rel="next"', "tag list links back to a page already read"),
    ],
)
def test_tag_list_hostile_link_is_refused(
    fake: FakeRegistry, retry: RetryPolicy, link: str, message: str
) -> None:
    page = (200, {"Link": link}, dumps({"name": "app", "tags": ["a"]}))
    fake.script["/v2/app/tags/list"] = [page] * 3
    with pytest.raises(RegistryError, match=message):
        registry.tags(fake.ref("app"), retry=retry)


def test_repository_without_tags_lists_nothing(fake: FakeRegistry, retry: RetryPolicy) -> None:
    fake.script["/v2/app/tags/list"] = [(200, {}, dumps({"name": "app", "tags": None}))]
    assert registry.tags(fake.ref("app"), retry=retry) == []


def test_bearer_scope_refused_with_credentials_is_access_denied(
    fake: FakeRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    push(fake, "app", "v1")
    fake.auth = "bearer"
    write_config(no_docker_config, basic_auths(fake.host))
    challenge = {"WWW-Authenticate": f'Bearer realm="http://{fake.host}/token",service="fake"'}
    denied = errors_body("UNAUTHORIZED", "insufficient_scope")
    fake.script["/v2/app/manifests/v1"] = [(401, challenge, denied)] * 2
    with pytest.raises(AuthError) as caught:
        registry.read(fake.ref("app:v1"), retry=retry)
    assert str(caught.value) == (
        f"{fake.host}/app: access denied (401: UNAUTHORIZED: insufficient_scope): check that "
        f"the repository exists and that {USER} may pull it"
    )
    assert len(fake.seen("/token")) == 2  # the token was refreshed once before giving up
