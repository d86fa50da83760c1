"""``registry.repositories``: ``GET /v2/_catalog``, pages followed through ``Link``."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_http import serving

from deadweight.errors import NotFound, RegistryError
from deadweight.sources import registry
from deadweight.sources.registry import RetryPolicy

NO_WAIT = RetryPolicy(attempts=1, sleep=lambda seconds: None)


class Catalog:
    def __init__(
        self, names: list[str], body: bytes | None = None, status: int = 200, link: str = ""
    ) -> None:
        self.names, self.body, self.status, self.port = names, body, status, 0
        self.link = link  # a Link header sent with every page, as given
        self.asked: list[str] = []


class Handler(BaseHTTPRequestHandler):
    fake: Any

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/v2/":
            self._send(200, b"{}")
            return
        self.fake.asked.append(self.path)
        if self.fake.status != 200:
            self._send(self.fake.status, b'{"errors":[]}')
            return
        if self.fake.body is not None:
            self._send(200, self.fake.body, {"Link": self.fake.link} if self.fake.link else None)
            return
        query = parse_qs(url.query)
        size = int(query.get("n", ["1000"])[0])
        last = query.get("last", [""])[0]
        rest = [n for n in sorted(self.fake.names) if n > last]
        page = rest[:size]
        link = {}
        if len(rest) > size:
            link = {"Link": f'</v2/_catalog?last={page[-1]}&n={size}>; rel="next"'}
        self._send(200, json.dumps({"repositories": page}).encode(), link)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def test_pages_are_followed(no_docker_config: object) -> None:
    fake = Catalog(["b/app", "a/app", "c", "d/e/f", "g"])
    with serving(fake, Handler):
        found = registry.repositories(f"127.0.0.1:{fake.port}", retry=NO_WAIT, page_size=2)
    assert found == ["a/app", "b/app", "c", "d/e/f", "g"]
    assert len(fake.asked) == 3 and fake.asked[0] == "/v2/_catalog?n=2"


@pytest.mark.parametrize(
    ("fake", "error", "message"),
    [
        (Catalog([], status=404), NotFound, "does not list its repositories"),
        (Catalog([], body=b"[1, 2]"), RegistryError, "not a list of strings"),
        (Catalog([], body=b"{not json"), RegistryError, "catalog of"),
    ],
)
def test_refusals(
    fake: Catalog, error: type[Exception], message: str, no_docker_config: object
) -> None:
    with serving(fake, Handler), pytest.raises(error, match=message):
        registry.repositories(f"127.0.0.1:{fake.port}", retry=NO_WAIT)


PAGE = json.dumps({"repositories": ["a"]}).encode()


@pytest.mark.parametrize(
    ("link", "message"),
    [
        # a Link is input like any other: one that is no URL is a one-line refusal
        ('<http://[::1/v2/_catalog?last=a>; rel="next"', "catalog link is not a valid URL"),
        ('<http://127.0.0.1:port/v2/_catalog>; rel="next"', "catalog link is not a valid URL"),
        ('<https://elsewhere.example/v2/_catalog?last=a>; rel="next"', "links to another host"),
        # a registry that links a page to itself would be asked again and again
        ('</v2/_catalog?last=a>; rel="next"', "links back to a page already read"),
    ],
)
def test_hostile_links_are_refused(link: str, message: str, no_docker_config: object) -> None:
    fake = Catalog([], body=PAGE, link=link)
    with serving(fake, Handler), pytest.raises(RegistryError, match=message) as caught:
        registry.repositories(f"127.0.0.1:{fake.port}", retry=NO_WAIT)
    assert "\n" not in str(caught.value)
