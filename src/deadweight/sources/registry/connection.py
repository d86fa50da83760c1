"""One repository on one registry as a client sees it: the API check, the auth challenge
flow and what error statuses mean.

distribution-spec: ``GET /v2/`` tells whether the API is there and how to authenticate
(a 401 with ``WWW-Authenticate``). ``Basic`` challenges take the docker login credentials
(RFC 7617); ``Bearer`` challenges send us to the token service named by ``realm``
(https://distribution.github.io/distribution/spec/auth/token/) for a token scoped to
``repository:<path>:pull`` (``pull,push`` for a push). Tokens are cached per scope in the
``requests.Session`` so several reads through one session authenticate once.
"""

from __future__ import annotations

import io
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

import requests

from deadweight import limits
from deadweight.errors import AuthError, NetworkError, NotFound, RegistryError
from deadweight.reference import DEFAULT_DOMAIN, Reference
from deadweight.sources.registry.auth import (
    Challenge,
    Credentials,
    config_path,
    credentials_for,
    parse_challenges,
    parse_token,
)
from deadweight.sources.registry.transport import (
    Answer,
    BlobStream,
    RetryPolicy,
    Sender,
    error_detail,
    is_loopback,
    schemes,
    valid_url,
)
from deadweight.streams import CHUNK

CLIENT_ID = "deadweight"
TOKEN_LIMIT = limits.TOKEN_BYTES

Body = bytes | Callable[[], BinaryIO]  # bytes, or an opener for a stream sent once per call


@dataclass
class _State:
    """What a session remembers: tokens by (realm, service, scope) and API checks by host."""

    tokens: dict[tuple[str, str, str], tuple[str, float]] = field(default_factory=dict)
    pings: dict[tuple[str, bool], tuple[str, Challenge | None]] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[requests.Session, _State] = weakref.WeakKeyDictionary()


class Connection:
    """Requests to one repository, authenticated and mapped to deadweight errors."""

    def __init__(
        self,
        ref: Reference,
        *,
        insecure: bool = False,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
        actions: str = "pull",
    ) -> None:
        self.ref = ref
        self.actions = actions
        self.host = ref.registry_host
        self.insecure = insecure
        self.session = session or requests.Session()
        self.sender = Sender(self.host, self.session, retry or RetryPolicy(), not insecure)
        self.scope = f"repository:{ref.path}:{actions}"
        self._state = _STATES.setdefault(self.session, _State())
        self._credentials = credentials
        self._looked_up = credentials is not None
        self._base = ""
        self._challenge: Challenge | None = None

    @property
    def label(self) -> str:
        return self.ref.name

    def credentials(self) -> Credentials | None:
        if not self._looked_up:
            self._credentials = credentials_for(self.ref.domain)
            self._looked_up = True
        return self._credentials

    def base(self) -> str:
        """``scheme://host`` of the registry, checking ``/v2/`` the first time."""
        if not self._base:
            key = (self.host, self.insecure)
            if key not in self._state.pings:
                self._state.pings[key] = self._ping()
            self._base, self._challenge = self._state.pings[key]
        return self._base

    def _ping(self) -> tuple[str, Challenge | None]:
        options = schemes(self.host, self.insecure)
        for i, scheme in enumerate(options):
            last = i == len(options) - 1
            try:
                answer = self.sender.send(
                    "GET", f"{scheme}://{self.host}/v2/", attempts=None if last else 1
                )
            except NetworkError:
                if last:
                    raise
                continue
            if answer.status == 401:
                return f"{scheme}://{self.host}", _pick(answer)
            if 200 <= answer.status < 300:
                return f"{scheme}://{self.host}", None
            if answer.status == 404:
                raise RegistryError(
                    f"{self.host} does not serve the registry API (GET /v2/ answered 404)", 404
                )
            raise self._failure(answer, "GET /v2/")
        raise AssertionError("unreachable")  # pragma: no cover

    def get(
        self,
        target: str,
        *,
        not_found: str,
        headers: Mapping[str, str] | None = None,
        limit: int | None = None,
        stream: bool = False,
    ) -> Answer:
        """GET ``target`` (a path under the registry, or a URL on it), authenticated."""
        return self.request(
            "GET", target, not_found=not_found, headers=headers, limit=limit, stream=stream
        )

    def request(
        self,
        method: str,
        target: str,
        *,
        not_found: str = "",
        headers: Mapping[str, str] | None = None,
        body: Body | None = None,
        limit: int | None = None,
        stream: bool = False,
    ) -> Answer:
        """Send ``method`` to ``target``, authenticated; a 2xx answer or a typed error (a 404
        is :class:`NotFound` with ``not_found`` as its message, when given).

        A streamed ``body`` is opened afresh for each send and sent once (no transport retry:
        a consumed stream cannot be re-sent); the caller retries the whole step. Credentials
        never go to another host (an upload ``Location`` may name one)."""
        base = self.base()
        url = target if "://" in target else base + target
        foreign = urlsplit(url)[:2] != urlsplit(base)[:2]
        sent = "" if foreign else self._authorization()
        answer = self._send(method, url, headers, sent, body, limit, stream)
        if answer.status == 401 and not foreign:
            challenge = _pick(answer) or self._challenge
            fresh = self._authorization(challenge, fresh=True) if challenge else ""
            if not fresh or (
                fresh == sent and challenge is not None and challenge.scheme == "basic"
            ):
                raise self._auth_error(answer)
            self._challenge = challenge
            self._state.pings[(self.host, self.insecure)] = (base, challenge)
            answer = self._send(method, url, headers, fresh, body, limit, stream)
        if 200 <= answer.status < 300:
            return answer
        if answer.status in (401, 403):
            raise self._auth_error(answer)
        if answer.status == 404 and not_found:
            raise NotFound(not_found)
        raise self._failure(answer, f"{method} {urlsplit(url).path}")

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        authorization: str,
        body: Body | None,
        limit: int | None,
        stream: bool,
    ) -> Answer:
        if body is None or isinstance(body, bytes):
            return self.sender.send(
                method,
                url,
                headers=headers,
                authorization=authorization,
                data=cast(Any, body),  # requests takes bytes and file objects as data too
                limit=limit,
                stream=stream,
            )
        with body() as data:
            return self.sender.send(
                method,
                url,
                headers=headers,
                authorization=authorization,
                data=cast(Any, data),
                limit=limit,
                stream=stream,
                attempts=1,
            )

    def open_blob(self, digest: str) -> BinaryIO:
        """A streaming read of a blob, as stored (redirects to a CDN are followed)."""
        answer = self.get(
            f"/v2/{self.ref.path}/blobs/{digest}",
            not_found=f"blob unknown: {self.label}@{digest}",
            headers={"Accept-Encoding": "identity"},
            stream=True,
        )
        what = f"registry {self.host} while reading blob {digest[:19]}"
        return io.BufferedReader(BlobStream(answer.response, what, self.sender.timeout), CHUNK)

    def _authorization(self, challenge: Challenge | None = None, *, fresh: bool = False) -> str:
        challenge = challenge or self._challenge
        if challenge is None:
            return ""
        if challenge.scheme == "basic":
            creds = self.credentials()
            if creds is None or not creds.username or creds.identity_token:
                raise self._missing(401)
            return creds.basic()
        if challenge.scheme == "bearer":
            return "Bearer " + self._token(challenge, fresh)
        raise AuthError(
            f"{self.label}: the registry asks for {challenge.scheme!r} authentication, "
            "which deadweight does not support",
            401,
        )

    def _token(self, challenge: Challenge, fresh: bool) -> str:
        realm, service = challenge.get("realm"), challenge.get("service")
        if not realm:
            raise AuthError(f"{self.label}: the registry's Bearer challenge names no realm", 401)
        valid_url(realm, f"{self.label}: the registry's auth realm")
        key = (realm, service, self.scope)
        cached = self._state.tokens.get(key)
        if cached and not fresh and cached[1] > time.monotonic():
            return cached[0]
        creds = self.credentials()
        parts = urlsplit(realm)
        if creds and parts.scheme != "https" and not (self.insecure or is_loopback(parts.netloc)):
            raise AuthError(
                f"{self.label}: refusing to send credentials to the token service {realm} over "
                "plain http",
                401,
            )
        params = {"scope": self.scope, **({"service": service} if service else {})}
        if creds and creds.identity_token:  # OAuth2 refresh-token grant (token spec, oauth.md)
            form = {**params, "grant_type": "refresh_token", "client_id": CLIENT_ID}
            form["refresh_token"] = creds.identity_token
            answer = self.sender.send("POST", realm, data=form, limit=TOKEN_LIMIT)
        else:
            basic = creds.basic() if creds else ""
            answer = self.sender.send(
                "GET", realm, params=params, authorization=basic, limit=TOKEN_LIMIT
            )
        if answer.status in (401, 403):
            raise self._auth_error(answer, token_service=realm)
        if not 200 <= answer.status < 300:
            raise self._failure(answer, f"token service {realm}")
        token, lifetime = parse_token(answer.body, realm)
        self._state.tokens[key] = (token, time.monotonic() + max(lifetime - 5, 1))
        return token

    def _login(self) -> str:
        return (
            "docker login"
            if self.ref.domain == DEFAULT_DOMAIN
            else f"docker login {self.ref.domain}"
        )

    def _missing(self, status: int) -> AuthError:
        return AuthError(
            f"{self.label}: authentication required: run '{self._login()}' or set credentials "
            f"for {self.ref.domain} in {config_path()}",
            status,
        )

    def _auth_error(self, answer: Answer, token_service: str = "") -> AuthError:
        creds = self.credentials()
        detail = error_detail(answer.body)
        why = f"{answer.status}{': ' + detail if detail else ''}"
        who = f"the token service {token_service}" if token_service else "the registry"
        if creds is None:
            return AuthError(
                f"{self.label}: {who} refused anonymous access ({why}): if the repository "
                f"exists, run '{self._login()}' or set credentials for {self.ref.domain} in "
                f"{config_path()}",
                answer.status,
            )
        # With a token in hand, a 401 means the scope was not granted (Docker Hub answers so
        # for repositories that do not exist), not that the password is wrong.
        bearer = self._challenge is not None and self._challenge.scheme == "bearer"
        if answer.status == 403 or (bearer and not token_service):
            return AuthError(
                f"{self.label}: access denied ({why}): check that the repository exists and "
                f"that {creds.username or 'your account'} may {self._verb} it",
                answer.status,
            )
        return AuthError(
            f"{self.label}: {who} refused the credentials for {self.ref.domain} ({why}): run "
            f"'{self._login()}' again or fix them in {config_path()}",
            answer.status,
        )

    @property
    def _verb(self) -> str:
        return "push to" if "push" in self.actions.split(",") else "pull"

    def _failure(self, answer: Answer, what: str) -> RegistryError:
        detail = error_detail(answer.body)
        tries = f" after {answer.attempts} attempts" if answer.attempts > 1 else ""
        return RegistryError(
            f"registry {self.host} answered {answer.status} {answer.response.reason or ''} to "
            f"{what}{tries}{': ' + detail if detail else ''}".replace("  ", " "),
            answer.status,
        )


def _pick(answer: Answer) -> Challenge | None:
    """The challenge to answer: Bearer over Basic when a registry offers both."""
    found = parse_challenges(answer.headers.get("WWW-Authenticate", ""))
    for scheme in ("bearer", "basic"):
        for challenge in found:
            if challenge.scheme == scheme:
                return challenge
    return found[0] if found else None
