"""Registry credentials (docker's config.json and credential helpers) and auth challenges.

Credentials are looked up the way the docker CLI does: ``credHelpers`` for the registry,
then the global ``credsStore``, then ``auths`` (``auth`` is base64 ``user:password``).
Docker Hub is stored under ``https://index.docker.io/v1/``; other registries under their
bare ``host[:port]``, though older clients wrote ``https://host/v1/`` keys, so keys are
compared by host name. Challenges follow RFC 7235 and the distribution token spec
(https://distribution.github.io/distribution/spec/auth/token/).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deadweight.errors import AuthError, CorruptImage, RegistryError, UsageError
from deadweight.spec.document import decode_json

HUB_SERVER = "https://index.docker.io/v1/"
HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
TOKEN_USERNAME = "<token>"  # a helper's way to hand back an identity (refresh) token
HELPER_TIMEOUT = 60.0
DEFAULT_TOKEN_LIFETIME = 60  # seconds, when the token service omits expires_in (token spec)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password, or an OAuth2 identity (refresh) token."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)

    def basic(self) -> str:
        """The value of an ``Authorization: Basic`` header (RFC 7617)."""
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: a scheme (lower case) and its parameters."""

    scheme: str
    params: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.params.get(name, "")


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')
_SCHEME = re.compile(rf"\s*,?\s*({_TOKEN})(?=\s|$|,)")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse ``WWW-Authenticate`` (several challenges may share one header, RFC 7235 §4.1)."""
    out: list[Challenge] = []
    pos = 0
    while pos < len(header):
        scheme = _SCHEME.match(header, pos)
        if not scheme:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        while True:
            m = _PARAM.match(header, pos)
            if not m:
                break
            value = m.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[m.group(1).lower()] = value
            pos = m.end()
        out.append(Challenge(scheme.group(1).lower(), params))
    return out


def config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The docker config as a dict; empty when the file does not exist."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read docker config {path}: {exc.strerror}") from exc
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"docker config {path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise UsageError(f"docker config {path} is not a JSON object")
    return doc


def server_address(host: str) -> str:
    """The name docker stores a registry's credentials under."""
    return HUB_SERVER if host in HUB_HOSTS else host


def _host_of(key: str) -> str:
    bare = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return "docker.io" if bare in HUB_HOSTS else bare


def _lookup(table: object, host: str) -> Any:
    """The entry of ``table`` for ``host``: exact key first, then any key naming that host."""
    if not isinstance(table, dict):
        return None
    server = server_address(host)
    if server in table:
        return table[server]
    wanted = _host_of(host)
    for key, value in table.items():
        if isinstance(key, str) and _host_of(key) == wanted:
            return value
    return None


def credentials_for(
    host: str, config: Mapping[str, Any] | None = None, *, path: Path | None = None
) -> Credentials | None:
    """Credentials for registry ``host`` from the docker config, or None for anonymous."""
    source = path or config_path()
    doc = load_config(source) if config is None else config
    helper = _lookup(doc.get("credHelpers"), host) or doc.get("credsStore")
    if isinstance(helper, str) and helper:
        found = run_helper(helper, server_address(host), source)
        if found is not None:
            return found
    entry = _lookup(doc.get("auths"), host)
    return _from_entry(entry, host, source) if isinstance(entry, dict) else None


def _from_entry(entry: Mapping[str, Any], host: str, source: Path) -> Credentials | None:
    token = entry.get("identitytoken")
    auth = entry.get("auth")
    username, password = entry.get("username"), entry.get("password")
    if isinstance(auth, str) and auth:
        try:
            username, _, password = base64.b64decode(auth, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise UsageError(
                f"docker config {source}: the 'auth' of {host} is not base64 'user:password'"
            ) from exc
    if isinstance(token, str) and token:
        return Credentials(username=str(username or ""), identity_token=token)
    if isinstance(username, str) and username and isinstance(password, str):
        return Credentials(username, password)
    return None


def run_helper(helper: str, server: str, source: Path | None = None) -> Credentials | None:
    """Ask ``docker-credential-<helper> get`` (docker-credential-helpers protocol)."""
    program = f"docker-credential-{helper}"
    where = f" (named in {source})" if source else ""
    try:
        proc = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise AuthError(
            f"credential helper {program}{where} is not on PATH: install it or remove it "
            "from the docker config"
        ) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AuthError(f"credential helper {program} failed: {exc}") from exc
    out = proc.stdout.decode(errors="replace").strip()
    if proc.returncode != 0:
        message = out or proc.stderr.decode(errors="replace").strip()
        if "credentials not found" in message.lower():
            return None
        first = message.splitlines()[0] if message else f"exit status {proc.returncode}"
        raise AuthError(f"credential helper {program} failed for {server}: {first}")
    try:
        doc = json.loads(out)
        username, secret = str(doc.get("Username") or ""), str(doc.get("Secret") or "")
    except (ValueError, AttributeError) as exc:
        raise AuthError(f"credential helper {program} returned invalid JSON for {server}") from exc
    if not secret:
        return None
    if username == TOKEN_USERNAME:
        return Credentials(identity_token=secret)
    return Credentials(username, secret)


def parse_token(body: bytes, realm: str) -> tuple[str, int]:
    """The token and its lifetime in seconds from a token service's JSON answer."""
    try:
        doc: Any = decode_json(body, "token")
    except CorruptImage as exc:
        raise RegistryError(f"token service {realm} answered invalid JSON") from exc
    token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
    if not isinstance(token, str) or not token:
        raise RegistryError(f"token service {realm} answered without a token")
    lifetime = doc.get("expires_in")
    return token, lifetime if isinstance(lifetime, int) and lifetime > 0 else DEFAULT_TOKEN_LIFETIME
