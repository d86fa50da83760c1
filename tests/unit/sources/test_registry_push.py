"""Pushing to a registry, against an in-process fake of the distribution push API.

The fake checks what a real registry checks (a blob's bytes hash to the digest it is
PUT under, a manifest's blobs are all there, a push needs a token with the push action)
and records every request, so the tests can tell which blobs were skipped and how bytes
were sent. Retries never sleep.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from fake_http import serving

from deadweight import mediatypes as mt
from deadweight import static
from deadweight.cli.optimize import optimize
from deadweight.errors import AuthError, DigestMismatch, RegistryError, UsageError
from deadweight.image import Image, Layer
from deadweight.mutate.compress import gzip_layer
from deadweight.reference import Reference
from deadweight.sources import archive, registry
from deadweight.sources.registry.auth import Credentials
from deadweight.sources.registry.transport import RetryPolicy
from deadweight.spec.manifest import Descriptor

# never read the developer's own docker config (conftest.py)
pytestmark = pytest.mark.usefixtures("no_docker_config")

Reply = tuple[int, dict[str, str], bytes]
USER, PASSWORD = "alice", "s3cret"
S = static


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def errors_body(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    size: int


@dataclass
class PushRegistry:
    """Blobs, manifests and upload sessions; auth "", "basic" or "bearer"."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    uploads: dict[str, str] = field(default_factory=dict)  # session id -> repository
    auth: str = ""
    anonymous_push: bool = True  # the token service grants push to anonymous clients
    tokens: dict[str, str] = field(default_factory=dict)  # token -> scope granted
    script: dict[str, list[Reply]] = field(default_factory=dict)  # "METHOD /path" -> replies
    lie_about_manifest: bool = False
    log: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ref(self, text: str) -> Reference:
        return Reference.parse(f"{self.host}/{text}")

    def requests(self, method: str, pattern: str = "") -> list[Seen]:
        return [s for s in self.log if s.method == method and re.search(pattern, s.path)]

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        self.log.append(Seen(method, path, headers, len(body)))
        url = urlsplit(path)
        route, query = url.path, parse_qs(url.query)
        scripted = self.script.get(f"{method} {route.split('/uploads/')[0]}")
        if scripted:
            return scripted.pop(0)
        if route == "/token":
            return self._token(headers, query)
        denied = self._denied(method, route, headers)
        if denied:
            return denied
        if route == "/v2/":
            return 200, {}, b"{}"
        m = re.match(r"^/v2/(.+)/blobs/uploads/([^/]*)$", route)
        if m and method == "POST":
            session = f"s{len(self.uploads)}"
            self.uploads[session] = m.group(1)
            location = f"/v2/{m.group(1)}/blobs/uploads/{session}?_state=abc"
            return 202, {"Location": location, "Docker-Upload-UUID": session}, b""
        if m and method == "PUT":
            return self._finish_upload(m.group(1), m.group(2), query, headers, body)
        m = re.match(r"^/v2/(.+)/blobs/([^/]+)$", route)
        if m:
            found = self.blobs.get(m.group(2))
            if found is None:
                return 404, {}, b"" if method == "HEAD" else errors_body("BLOB_UNKNOWN", "?")
            return 200, {"Docker-Content-Digest": m.group(2)}, b"" if method == "HEAD" else found
        m = re.match(r"^/v2/(.+)/manifests/([^/]+)$", route)
        if m and method == "PUT":
            return self._put_manifest(m.group(1), m.group(2), headers, body)
        if m:
            stored = self.manifests.get((m.group(1), m.group(2)))
            if stored is None:
                return 404, {}, errors_body("MANIFEST_UNKNOWN", "manifest unknown")
            raw, media_type = stored
            return 200, {"Content-Type": media_type, "Docker-Content-Digest": sha(raw)}, raw
        return 404, {}, b"404 page not found"

    def _finish_upload(
        self,
        repo: str,
        session: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        if self.uploads.pop(session, None) != repo or query.get("_state") != ["abc"]:
            return 404, {}, errors_body("BLOB_UPLOAD_UNKNOWN", "blob upload unknown")
        if headers.get("content-length") != str(len(body)):
            return 400, {}, errors_body("SIZE_INVALID", "no Content-Length")
        digest = query.get("digest", [""])[0]
        if sha(body) != digest:
            return 400, {}, errors_body("DIGEST_INVALID", "provided digest did not match")
        self.blobs[digest] = body
        return 201, {"Docker-Content-Digest": digest, "Location": f"/v2/{repo}/blobs/{digest}"}, b""

    def _put_manifest(self, repo: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        doc = json.loads(body)
        for blob in [doc["config"], *doc["layers"]]:
            if blob["digest"] not in self.blobs:
                return 400, {}, errors_body("MANIFEST_BLOB_UNKNOWN", blob["digest"])
        media_type = headers.get("content-type", "")
        if media_type != doc.get("mediaType"):
            return 400, {}, errors_body("MANIFEST_INVALID", "media type mismatch")
        digest = sha(body)
        self.manifests[(repo, target)] = self.manifests[(repo, digest)] = (body, media_type)
        answered = sha(body + b"x") if self.lie_about_manifest else digest
        return 201, {"Docker-Content-Digest": answered}, b""

    def _denied(self, method: str, route: str, headers: dict[str, str]) -> Reply | None:
        value = headers.get("authorization", "")
        unauthorized = errors_body("UNAUTHORIZED", "authentication required")
        if self.auth == "basic" and value != Credentials(USER, PASSWORD).basic():
            return 401, {"WWW-Authenticate": 'Basic realm="fake"'}, unauthorized
        if self.auth == "bearer":
            m = re.match(r"^/v2/(.+?)/(?:manifests|blobs)/", route)
            wanted = "pull" if method in ("GET", "HEAD") else "push"
            granted = self.tokens.get(value.removeprefix("Bearer "), "")
            if m is None and granted:
                return None
            if m is not None and wanted in granted.rpartition(":")[2].split(","):
                return None
            scope = f',scope="repository:{m.group(1)}:{wanted}"' if m else ""
            challenge = f'Bearer realm="http://{self.host}/token",service="fake"{scope}'
            return 401, {"WWW-Authenticate": challenge}, unauthorized
        return None

    def _token(self, headers: dict[str, str], query: dict[str, list[str]]) -> Reply:
        scope = query.get("scope", [""])[0]
        value = headers.get("authorization", "")
        if value and value != Credentials(USER, PASSWORD).basic():
            return 401, {}, errors_body("UNAUTHORIZED", "bad credentials")
        if not value and not self.anonymous_push:
            scope = scope.replace("pull,push", "pull")  # grant a subset, as Docker Hub does
        token = f"tok{len(self.tokens)}"
        self.tokens[token] = scope
        return 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake: PushRegistry

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        if self.headers.get("Transfer-Encoding"):  # a real registry takes it; we insist on a length
            body, length = b"", -1
            self.close_connection = True
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, reply_headers, payload = self.fake.handle(method, self.path, headers, body)
        if length < 0:
            status, payload = 411, errors_body("SIZE_INVALID", "chunked body")
        self.send_response(status)
        for key, value in reply_headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)


@pytest.fixture
def fake() -> Iterator[PushRegistry]:
    state = PushRegistry()
    with serving(state, _Handler):
        yield state


def login(config_dir: Path, host: str, password: str = PASSWORD) -> None:
    from base64 import b64encode

    auth = b64encode(f"{USER}:{password}".encode()).decode()
    (config_dir / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def retry(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append)


STEPS = [
    S.Step("ADD rootfs.tar /", S.layer([S.Dir("etc"), S.File("etc/os-release", b"base\n")])),
    S.Step('CMD ["sh"]'),
    S.Step("COPY app /app", S.layer([S.File("app/main.js", b"console.log(1)\n" * 50)], "gzip")),
]


def image() -> Image:
    return S.image(STEPS)


def layer_bytes(img: Image) -> list[bytes]:
    out = []
    for layer in img.layers:
        with layer.open() as stream:
            out.append(stream.read())
    return out


def test_push_builds_an_oci_manifest_and_reads_back(fake: PushRegistry, retry: RetryPolicy) -> None:
    img = image()
    digest = registry.write(img, fake.ref("app:v1"), retry=retry)
    raw, media_type = fake.manifests[("app", "v1")]
    assert media_type == mt.OCI_MANIFEST and digest == sha(raw)
    doc = json.loads(raw)
    assert doc["config"] == {
        "mediaType": mt.OCI_CONFIG,
        "digest": img.id,
        "size": len(img.raw_config),
    }
    assert [d["mediaType"] for d in doc["layers"]] == [mt.OCI_LAYER, mt.OCI_LAYER_GZIP]
    assert [d["digest"] for d in doc["layers"]] == [layer.blob.digest for layer in img.layers]
    back = registry.read(fake.ref("app:v1"), retry=retry)
    assert back.id == img.id and back.digest == digest
    assert layer_bytes(back) == layer_bytes(img)
    # every blob (2 layers, then the config) was checked, then uploaded in one PUT
    assert [s.path.rsplit("/", 1)[1] for s in fake.requests("HEAD")] == [
        *(layer.blob.digest for layer in img.layers),
        img.id,
    ]
    assert len(fake.requests("POST")) == 3
    puts = fake.requests("PUT", "/blobs/uploads/")
    assert [s.size for s in puts] == [
        *(layer.blob.size for layer in img.layers),
        len(img.raw_config),
    ]
    assert all(s.headers["content-length"] == str(s.size) for s in puts)


def test_blobs_the_registry_has_are_not_uploaded_again(
    fake: PushRegistry, retry: RetryPolicy
) -> None:
    img = image()
    fake.blobs[img.layers[0].blob.digest] = b"already there"  # HEAD is trusted
    registry.write(img, fake.ref("app:v1"), retry=retry)
    uploaded = [
        parse_qs(urlsplit(s.path).query)["digest"][0] for s in fake.requests("PUT", "/uploads/")
    ]
    assert uploaded == [img.layers[1].blob.digest, img.id]
    fake.log.clear()
    registry.write(img, fake.ref("app:v2"), retry=retry)
    assert fake.requests("POST") == [] and len(fake.requests("HEAD")) == 3
    assert fake.manifests[("app", "v2")] == fake.manifests[("app", "v1")]


def test_bearer_push_asks_for_a_pull_push_token(
    fake: PushRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    fake.auth = "bearer"
    login(no_docker_config, fake.host)
    digest = registry.write(image(), fake.ref("team/app:v1"), retry=retry)
    scopes = [parse_qs(urlsplit(s.path).query)["scope"][0] for s in fake.requests("GET", "^/token")]
    assert scopes == ["repository:team/app:pull,push"]  # one token, cached for every request
    assert all(
        s.headers["authorization"] == Credentials(USER, PASSWORD).basic()
        for s in fake.requests("GET", "^/token")
    )
    assert fake.manifests[("team/app", "v1")][0] == fake.manifests[("team/app", digest)][0]


def test_anonymous_push_refused_says_to_log_in(fake: PushRegistry, retry: RetryPolicy) -> None:
    fake.auth, fake.anonymous_push = "bearer", False
    with pytest.raises(AuthError) as info:
        registry.write(image(), fake.ref("app:v1"), retry=retry)
    assert info.value.status == 401
    assert str(info.value).startswith(
        f"{fake.host}/app: the registry refused anonymous access (401: UNAUTHORIZED: "
        f"authentication required): if the repository exists, run 'docker login {fake.host}'"
    )
    assert fake.manifests == {}


def test_push_denied_names_the_push_action(
    fake: PushRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    fake.auth = "basic"
    login(no_docker_config, fake.host)
    fake.script["POST /v2/app/blobs"] = [
        (403, {}, errors_body("DENIED", "requested access to the resource is denied"))
    ]
    with pytest.raises(AuthError) as info:
        registry.write(image(), fake.ref("app:v1"), retry=retry)
    assert str(info.value) == (
        f"{fake.host}/app: access denied (403: DENIED: requested access to the resource is "
        f"denied): check that the repository exists and that {USER} may push to it"
    )


def test_basic_auth_push_and_wrong_password(
    fake: PushRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    fake.auth = "basic"
    login(no_docker_config, fake.host)
    registry.write(image(), fake.ref("app:v1"), retry=retry)
    assert ("app", "v1") in fake.manifests
    login(no_docker_config, fake.host, password="wrong")
    with pytest.raises(AuthError, match="refused the credentials"):
        registry.write(image(), fake.ref("app:v2"), retry=retry)


def gzip_docker_archive(path: Path) -> Path:
    """A ``docker save`` archive whose second layer member is gzip-compressed (as older
    engines and hand-made archives have them): its manifest.json records no blob digest."""
    img = image()
    members = {"config.json": img.raw_config}
    names = []
    for i, data in enumerate(layer_bytes(img)):
        names.append(f"l{i}/layer.tar")
        members[names[-1]] = gzip.compress(data, mtime=0) if i else data
    members["manifest.json"] = json.dumps(
        [{"Config": "config.json", "RepoTags": ["app:1"], "Layers": names}]
    ).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_docker_archive_gzip_layers_are_spooled_to_learn_their_digest(
    fake: PushRegistry, retry: RetryPolicy, tmp_path: Path
) -> None:
    img = archive.read(gzip_docker_archive(tmp_path / "app.tar"))
    assert img.layers[1].blob.digest == ""  # compressed: not recorded by docker save
    digest = registry.write(img, fake.ref("app:v1"), retry=retry)
    doc = json.loads(fake.manifests[("app", digest)][0])
    gz = doc["layers"][1]
    assert gz["mediaType"] == mt.OCI_LAYER_GZIP
    assert (
        sha(fake.blobs[gz["digest"]]) == gz["digest"]
        and len(fake.blobs[gz["digest"]]) == gz["size"]
    )
    assert layer_bytes(registry.read(fake.ref("app:v1"), retry=retry)) == layer_bytes(img)


def test_a_corrupt_layer_is_never_pushed(
    fake: PushRegistry, retry: RetryPolicy, tmp_path: Path
) -> None:
    good = image()
    bad_blob = gzip.compress(b"not the layer the config names" * 100, mtime=0)
    blob = Descriptor(mt.DOCKER_LAYER_GZIP, "", len(bad_blob))
    wrong = Layer(good.layers[1].diff_id, blob, lambda: io.BytesIO(bad_blob))
    bad = dataclasses.replace(good, layers=(good.layers[0], wrong))
    with pytest.raises(DigestMismatch):
        registry.write(bad, fake.ref("app:v1"), retry=retry)
    assert fake.manifests == {} and sha(bad_blob) not in fake.blobs


def test_the_images_own_manifest_is_reused_when_it_matches(
    fake: PushRegistry, retry: RetryPolicy
) -> None:
    docker_manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": {
                "mediaType": mt.DOCKER_CONFIG,
                "digest": image().id,
                "size": len(image().raw_config),
            },
            "layers": [
                {
                    "mediaType": mt.DOCKER_LAYER_GZIP if i else mt.DOCKER_LAYER,
                    "digest": layer.blob.digest,
                    "size": layer.blob.size,
                }
                for i, layer in enumerate(image().layers)
            ],
        },
        indent=3,
    ).encode()
    img = dataclasses.replace(
        image(), raw_manifest=docker_manifest, manifest_media_type=mt.DOCKER_MANIFEST
    )
    assert registry.write(img, fake.ref("copy:v1"), retry=retry) == sha(docker_manifest)
    assert fake.manifests[("copy", "v1")] == (docker_manifest, mt.DOCKER_MANIFEST)
    # a manifest that no longer describes the layers is not reused
    other = dataclasses.replace(img, layers=(gzip_layer(img.layers[0]), img.layers[1]))
    digest = registry.write(other, fake.ref("copy:v2"), retry=retry)
    raw, media_type = fake.manifests[("copy", "v2")]
    assert media_type == mt.OCI_MANIFEST and sha(raw) == digest != sha(docker_manifest)
    assert json.loads(raw)["layers"][0]["digest"] == other.layers[0].blob.digest


def test_a_registry_naming_another_manifest_digest_is_an_error(
    fake: PushRegistry, retry: RetryPolicy
) -> None:
    fake.lie_about_manifest = True
    with pytest.raises(RegistryError, match=r"stored the manifest of .*/app:v1 as sha256:"):
        registry.write(image(), fake.ref("app:v1"), retry=retry)


def test_a_transient_upload_failure_restarts_the_upload(
    fake: PushRegistry, retry: RetryPolicy, sleeps: list[float]
) -> None:
    fake.script["PUT /v2/app/blobs"] = [(503, {}, errors_body("UNAVAILABLE", "busy"))]
    registry.write(image(), fake.ref("app:v1"), retry=retry)
    assert sleeps == [0.5]
    assert len(fake.requests("POST")) == 4  # the failed session was abandoned for a new one
    assert ("app", "v1") in fake.manifests


def test_a_rejected_upload_is_a_registry_error_with_the_registrys_reason(
    fake: PushRegistry, retry: RetryPolicy, sleeps: list[float]
) -> None:
    fake.script["PUT /v2/app/blobs"] = [(400, {}, errors_body("DIGEST_INVALID", "nope"))]
    with pytest.raises(RegistryError) as info:
        registry.write(image(), fake.ref("app:v1"), retry=retry)
    assert info.value.status == 400 and sleeps == []
    assert "answered 400 Bad Request to PUT /v2/app/blobs/uploads/s0: DIGEST_INVALID: nope" in str(
        info.value
    )
    assert fake.manifests == {}


def test_push_by_digest_must_match(fake: PushRegistry, retry: RetryPolicy) -> None:
    wrong = "sha256:" + "0" * 64
    with pytest.raises(RegistryError, match="cannot push to sha256:0000"):
        registry.write(image(), fake.ref(f"app@{wrong}"), retry=retry)
    assert fake.manifests == {}


def test_optimize_pushes_to_a_registry(
    fake: PushRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    archive.write([image()], tmp_path / "app.tar")
    r = CliRunner().invoke(
        optimize,
        ["app.tar", "-o", f"docker://{fake.host}/app:slim", "--epoch", "0", "--format", "json"],
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["destination"] == f"docker://{fake.host}/app:slim"
    back = registry.read(fake.ref("app:slim"))
    assert back.id == report["imageId"]
    assert {layer.blob.media_type for layer in back.layers} == {mt.OCI_LAYER_GZIP}
    for layer in back.layers:  # registry layers are stored compressed
        assert fake.blobs[layer.blob.digest][:2] == b"\x1f\x8b"


def test_optimize_refuses_a_digest_destination(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        optimize, ["app.tar", "-o", "docker://localhost:5000/app@sha256:" + "a" * 64]
    )
    assert isinstance(r.exception, UsageError)
    assert "a destination takes a tag, not a digest" in str(r.exception)


def test_a_blob_stored_under_another_digest_is_an_error(
    fake: PushRegistry, retry: RetryPolicy
) -> None:
    other = "sha256:" + "1" * 64
    fake.script["PUT /v2/app/blobs"] = [(201, {"Docker-Content-Digest": other}, b"")]
    with pytest.raises(RegistryError, match=f"stored layer 1 of 2 of {fake.host}/app as {other}"):
        registry.write(image(), fake.ref("app:v1"), retry=retry)
    assert fake.manifests == {}


def test_credentials_never_go_to_an_upload_location_on_another_host(
    fake: PushRegistry, retry: RetryPolicy, no_docker_config: Path
) -> None:
    fake.auth = "basic"
    login(no_docker_config, fake.host)
    elsewhere = f"http://localhost:{fake.port}/v2/app/blobs/uploads/s9?_state=abc"
    fake.script["POST /v2/app/blobs"] = [(202, {"Location": elsewhere}, b"")]
    with pytest.raises(AuthError):
        registry.write(image(), fake.ref("app:v1"), retry=retry)
    (put,) = fake.requests("PUT")
    assert put.path.startswith("/v2/app/blobs/uploads/s9?") and "authorization" not in put.headers
