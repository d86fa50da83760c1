"""A hostile registry (issue 16): invalid ``Location`` and auth realms, ``Retry-After``
that is no number, a manifest nested 100,000 deep and a body trickled a byte at a time all
end in one typed error, in bounded time."""

from __future__ import annotations

import json
import time

import pytest
from hostile_registry import Reply, hostile_registry, registry_timeout

from deadweight.errors import CorruptImage, DeadweightError, NetworkError, RegistryError
from deadweight.reference import Reference
from deadweight.sources import registry
from deadweight.sources.registry.transport import RetryPolicy

pytestmark = pytest.mark.usefixtures("no_docker_config")

NO_SLEEP = RetryPolicy(attempts=3, sleep=lambda _: None)
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def read(host: str) -> object:
    return registry.read(Reference.parse(f"{host}/app:1"), retry=NO_SLEEP)


@pytest.mark.parametrize(
    "location",
    ["http://[::1", "http://host:99999999/x", "ftp://elsewhere/x", "http:///nohost", "//[", "\x00"],
)
def test_redirect_to_an_invalid_location_is_a_registry_error(location: str) -> None:
    with (
        hostile_registry(lambda m, p: Reply(307, {"Location": location})) as host,
        pytest.raises((RegistryError, NetworkError)),
    ):
        read(host)


@pytest.mark.parametrize(
    "realm", ["http://[::1/token", "not a url", "javascript:alert(1)", "http://h:port/t", ""]
)
def test_auth_realm_that_is_no_url_is_an_auth_error(realm: str) -> None:
    challenge = f'Bearer realm="{realm}",service="x"'
    reply = Reply(401, {"WWW-Authenticate": challenge}, ping=False)
    with hostile_registry(lambda m, p: reply) as host, pytest.raises(RegistryError, match="realm"):
        read(host)


@pytest.mark.parametrize(
    "value", ["²", "¹", "1e400", "-5", "soon", "Mon, 01 Jan 99999 00:00:00 GMT", "9" * 400]
)
def test_retry_after_that_is_no_number_falls_back_to_backoff(value: str) -> None:
    slept: list[float] = []
    retry = RetryPolicy(attempts=2, sleep=slept.append)
    reply = Reply(429, {"Retry-After": value}, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}')
    with hostile_registry(lambda m, p: reply) as host, pytest.raises(RegistryError):
        registry.read(Reference.parse(f"{host}/app:1"), retry=retry)
    assert slept and all(0 <= s <= retry.max_sleep for s in slept)


def test_manifest_nested_100000_deep_is_corrupt() -> None:
    body = b'{"schemaVersion":2,"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    reply = Reply(200, {"Content-Type": MANIFEST}, body)
    with (
        hostile_registry(lambda m, p: reply) as host,
        pytest.raises(CorruptImage, match="nested deeper"),
    ):
        read(host)


def test_error_body_nested_deep_is_still_one_line() -> None:
    body = b'{"errors":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    with hostile_registry(lambda m, p: Reply(400, {}, body)) as host, pytest.raises(RegistryError):
        read(host)


def test_trickled_body_ends_at_the_deadline() -> None:
    body = json.dumps({"schemaVersion": 2, "pad": "x" * 200}).encode()
    reply = Reply(200, {"Content-Type": MANIFEST}, body, trickle=0.05)  # 10 s in all
    with registry_timeout("0.3"), hostile_registry(lambda m, p: reply) as host:
        start = time.monotonic()
        with pytest.raises(NetworkError, match=r"took longer than 0\.9 s"):
            read(host)
    # no timing assert on the duration: the error names the deadline that ended it
    assert time.monotonic() - start < 60


def test_garbage_answers_are_typed_errors() -> None:
    for body in (b"\xff\xfe", b"null", b"[]", b'{"schemaVersion":2,"layers":7}', b"{" * 10):
        reply = Reply(200, {"Content-Type": MANIFEST}, body)
        with hostile_registry(lambda m, p, r=reply: r) as host, pytest.raises(DeadweightError):  # type: ignore[misc]
            read(host)


def test_trickled_headers_end_at_the_deadline() -> None:
    reply = Reply(200, {"Content-Type": MANIFEST}, b"{}", trickle_head=0.05)  # 2,500 bytes
    with (
        registry_timeout("0.3"),
        hostile_registry(lambda m, p: reply) as host,
        pytest.raises(NetworkError, match=r"took longer than 0\.9 s"),
    ):
        read(host)
