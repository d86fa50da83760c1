"""HTTP to one registry: scheme choice, timeouts, retries, streamed blob bodies.

Authentication (the challenge flow) and the meaning of error statuses live in
``connection``; this module only sends. Retries follow the usual registry client practice
(containerd, go-containerregistry): 429, 502, 503, 504 and connection errors are retried
with exponential backoff, honouring ``Retry-After`` (RFC 9110 §10.2.3).
"""

from __future__ import annotations

import email.utils
import io
import ipaddress
import os
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from deadweight import limits
from deadweight.errors import CorruptImage, NetworkError, RegistryError, UsageError
from deadweight.sources.registry import watchdog
from deadweight.spec.document import decode_json

TIMEOUT_ENV = "DEADWEIGHT_REGISTRY_TIMEOUT"
DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
RETRYABLE = frozenset({429, 502, 503, 504})
ERROR_BODY_LIMIT = limits.ERROR_BODY_BYTES
_CHUNK = 64 * 1024
_BAD_URL = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    urllib3.exceptions.LocationParseError,
    requests.exceptions.TooManyRedirects,
    ValueError,  # urllib's "Invalid IPv6 URL" from a redirect, as is
)
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry; ``sleep`` is injectable so tests never wait."""

    attempts: int = 4
    backoff: float = 0.5
    max_sleep: float = 10.0
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        wanted = _retry_after(retry_after) if retry_after else None
        if wanted is None:
            wanted = self.backoff * 2 ** (attempt - 1)
        return max(0.0, min(self.max_sleep, wanted))


def _retry_after(value: str) -> float | None:
    """Seconds from a ``Retry-After`` (RFC 9110 §10.2.3: delay-seconds or an HTTP date),
    at most :data:`~deadweight.limits.RETRY_AFTER`; None for anything else."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value[:12]), limits.RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
        return min(when.timestamp() - time.time(), limits.RETRY_AFTER)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def valid_url(url: str, what: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host, else :class:`RegistryError`:
    a registry's ``Location``, auth realm or ``Link`` is input like any other."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        ok = False
    if not ok or any(ch in url for ch in "\0\r\n\t "):
        raise RegistryError(f"{what} is not a valid URL: {url[:100]!r}")
    return url


def deadline(timeout: tuple[float, float], size: int = 0) -> float:
    """The monotonic time by which a whole request (headers and body of ``size`` bytes)
    must be done: a body trickled a byte at a time never trips the read timeout."""
    allowed = timeout[0] + limits.REQUEST_READS * timeout[1] + size / limits.BODY_MIN_RATE
    return time.monotonic() + allowed


def timeouts() -> tuple[float, float]:
    """(connect, read) seconds; ``$DEADWEIGHT_REGISTRY_TIMEOUT`` is ``N`` or ``CONNECT,READ``."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) <= 0:
        raise UsageError(f"{TIMEOUT_ENV}={text!r}: expected SECONDS or CONNECT,READ seconds")
    return (values[0], values[-1])


def hostname(host: str) -> str:
    """``host[:port]`` without the port (and without IPv6 brackets)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback(host: str) -> bool:
    name = hostname(host).lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def schemes(host: str, insecure: bool) -> tuple[str, ...]:
    """Schemes to try, in order: loopback registries speak plain http (as docker assumes);
    an insecure one is tried with unverified TLS first, then plain http."""
    if is_loopback(host):
        return ("http",)
    return ("https", "http") if insecure else ("https",)


def error_detail(body: bytes) -> str:
    """The registry's error codes and messages (distribution-spec "Error Codes"), one line."""
    try:
        doc: Any = decode_json(body, "registry error")
        errors = doc.get("errors") if isinstance(doc, dict) else None
        parts = [
            f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
            for e in errors or ()
            if isinstance(e, dict)
        ]
        text = "; ".join(p for p in parts if p)
    except CorruptImage:
        text = body[:200].decode("utf-8", errors="replace")
    return " ".join(text.split())[:200]


def reason(exc: BaseException, timeout: tuple[float, float]) -> str:
    """A short, one-line cause of a connection failure."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"connection timed out after {timeout[0]:g} s"
    if isinstance(exc, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
        return f"no answer within {timeout[1]:g} s"
    text = str(exc)
    tls = re.search(r"\[SSL: [A-Z0-9_]+\] (.+?)(?: \(_ssl\.c:\d+\))?['\")]*$", text)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if tls:
        found = "TLS error: " + tls.group(1)
    elif errno:
        found = errno.group(1).strip()
    elif isinstance(exc, requests.exceptions.SSLError):
        found = "TLS handshake failed"
    else:
        found = text or type(exc).__name__
    return " ".join(found.split())[:200]


class _Authorization(requests.auth.AuthBase):
    """Sets our Authorization header; passing any auth object also keeps requests from
    replacing it with ~/.netrc credentials."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.value:
            r.headers["Authorization"] = self.value
        return r


@dataclass(frozen=True, slots=True)
class Answer:
    """A response whose status is final (no more retries) and, unless streamed, its body."""

    response: requests.Response
    body: bytes
    attempts: int

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self.response.headers


class Sender:
    """Sends one request with timeouts and retries; knows nothing about auth."""

    def __init__(
        self, host: str, session: requests.Session, retry: RetryPolicy, verify: bool
    ) -> None:
        self.host = host
        self.session = session
        self.retry = retry
        self.verify = verify
        self.timeout = timeouts()
        watchdog.mount(session)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        authorization: str = "",
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
        limit: int | None = None,
        attempts: int | None = None,
    ) -> Answer:
        """Send, retrying transient failures. Unless ``stream``, the body is read: at most
        ``limit + 1`` bytes of a 2xx answer (so callers can tell it is too long), and at most
        64 KiB otherwise (error details)."""
        total = attempts or self.retry.attempts
        valid_url(url, f"registry {self.host}: URL")
        for attempt in range(1, total + 1):
            ends = deadline(self.timeout)
            try:
                with watchdog.watching(ends) as watch:  # headers trickled a byte at a time too
                    response = self._request(method, url, headers, authorization, data, params)
                if watch.fired:  # what was read before the socket was shut is no answer
                    response.close()
                    raise requests.Timeout("deadline")
                retry_after = response.headers.get("Retry-After")
                if response.status_code in RETRYABLE and attempt < total:
                    response.close()
                    self.retry.sleep(self.retry.delay(attempt, retry_after))
                    continue
                ok = 200 <= response.status_code < 300
                if stream and ok:
                    return Answer(response, b"", attempt)
                cap = limit if ok and limit is not None else ERROR_BODY_LIMIT
                body = _read_capped(response, cap, ends, self.timeout)
            except _BAD_URL as exc:
                raise RegistryError(
                    f"registry {self.host} sent us to an invalid URL ({reason(exc, self.timeout)})"
                ) from exc
            except TRANSIENT as exc:
                if time.monotonic() >= ends:
                    where = urlsplit(url).netloc
                    raise NetworkError(
                        f"{where}: the answer took longer than {_allowed(self.timeout)}"
                    ) from exc
                if attempt >= total or "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    where = urlsplit(url).netloc
                    what = f"registry {self.host}" if where == self.host else f"{where} (auth)"
                    raise NetworkError(f"cannot reach {what}: {reason(exc, self.timeout)}") from exc
                self.retry.sleep(self.retry.delay(attempt))
                continue
            return Answer(response, body, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        authorization: str,
        data: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
    ) -> requests.Response:
        with warnings.catch_warnings():
            if not self.verify:
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return self.session.request(
                method,
                url,
                headers=dict(headers or {}),
                auth=_Authorization(authorization),
                data=data,
                params=params,
                stream=True,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=True,
            )


def _read_capped(
    response: requests.Response, limit: int, ends: float, timeout: tuple[float, float]
) -> bytes:
    """Read the body (decoded); stop one byte past ``limit``, or at the deadline ``ends``.
    ``read1`` returns what one socket read brings, so the deadline is checked that often."""
    with response:
        chunks: list[bytes] = []
        size = 0
        raw = response.raw
        decoded = isinstance(raw, urllib3.response.BaseHTTPResponse)
        try:
            while chunk := (
                raw.read1(_CHUNK, decode_content=True) if decoded else raw.read1(_CHUNK)
            ):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    break
                if time.monotonic() > ends:
                    where = urlsplit(response.url).netloc
                    raise NetworkError(f"{where}: the answer took longer than {_allowed(timeout)}")
        except urllib3.exceptions.HTTPError as exc:
            raise requests.ConnectionError(str(exc)) from exc
        return b"".join(chunks)[: limit + 1]


def _allowed(timeout: tuple[float, float]) -> str:
    return f"{timeout[0] + limits.REQUEST_READS * timeout[1]:g} s"


class BlobStream(io.RawIOBase):
    """The undecoded body of a blob response; closing it closes the response."""

    def __init__(
        self, response: requests.Response, what: str, timeout: tuple[float, float]
    ) -> None:
        self._response = response
        self._what = what
        self._timeout = timeout
        length = response.headers.get("Content-Length", "")
        size = int(length) if length.isascii() and length.isdigit() and len(length) < 16 else 0
        self._ends = deadline(timeout, size)
        response.raw.decode_content = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._response.raw.read1(len(buffer))
        except (urllib3.exceptions.HTTPError, OSError, requests.RequestException) as exc:
            raise NetworkError(
                f"lost the connection to {self._what}: {reason(exc, self._timeout)}"
            ) from exc
        if data and time.monotonic() > self._ends:
            raise NetworkError(f"{self._what}: the download is too slow (more than its deadline)")
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()
