"""Secrets in an image's environment and files, by precise patterns only.

The main complaint about image linters (dockle, trivy's secret scan) is noise: every
``*.pem`` CA bundle, every test key shipped inside a library, every ``GPG_KEY``
fingerprint. So a value counts only when it has the exact shape of a credential (AWS
access key IDs, npm and GitHub tokens, PEM private key blocks), a name counts only when it
is password-like and its value is not a placeholder, and a file counts only when its
*content* holds a credential, never for its name alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key ID", re.compile(r"(?<![A-Z0-9])AKIA[0-9A-Z]{16}(?![A-Z0-9])")),
    ("an npm token", re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,}")),
    ("a GitLab token", re.compile(r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9_])xox[abpr]-[A-Za-z0-9-]{10,}")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
)
# The last word (or last two) of a name that holds a secret; GPG_KEY, SSH_KEY_PATH and
# the like are not secrets, so a bare *_KEY only counts after one of _KEY_OWNERS.
_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS"}
)
_KEY_OWNERS = frozenset({"API", "SECRET", "PRIVATE", "ACCESS", "ENCRYPTION", "SIGNING", "MASTER"})
_PLACEHOLDER = re.compile(
    r"^(?:|\$.*|<.*>|\{\{.*\}\}|%.*%|(.)\1*|/.*|(?:change[-_]?me|replace[-_]?me|your[-_].*|"
    r"example|placeholder|dummy|none|null|nil|unset|undefined|todo|tbd|false|true|"
    r"secret|password|redacted)\W*)$",
    re.I,
)
_MAX_FILE = 64 << 10
# Files whose content may hold credentials, by name or by the folder they live in.
_NAMED = frozenset(
    {
        ".npmrc",
        ".yarnrc",
        ".yarnrc.yml",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".env",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "credentials.json",
        "application_default_credentials.json",
        "service-account.json",
    }
)
_IN_FOLDER = re.compile(
    r"(?:^|/)(?:\.aws/(?:credentials|config)|\.docker/config\.json|\.kube/config)$"
)
_KEY_FILE = re.compile(r"\.(?:pem|key|p8)$")
# Libraries ship test keys and sample configs: never look inside packages or test folders.
_VENDORED = re.compile(
    r"(?:^|/)(?:node_modules|site-packages|dist-packages|vendor|gems|go/pkg/mod|\.cargo/registry|"
    r"tests?|testdata|test-data|fixtures|__tests__|examples?|samples?|docs?|usr/share/doc|"
    r"usr/share/ca-certificates|etc/ssl/certs)/"
)
_FILE_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an npm auth token", re.compile(r"_(?:authToken|auth|password)\s*=\s*(?!\$\{)[^\s]+")),
    ("a yarn auth token", re.compile(r"npmAuthToken:\s*[\"']?(?!\$\{)[^\s\"']+")),
    ("an AWS secret key", re.compile(r"aws_secret_access_key\s*=\s*\S+", re.I)),
    ("a registry login", re.compile(r"\"auth\"\s*:\s*\"[^\"]+\"")),
    ("a password in a URL", re.compile(r"https?://[^:/\s@]+:[^@\s/]+@")),
    ("a netrc password", re.compile(r"(?m)^\s*(?:machine\s+\S+\s+)?.*\bpassword\s+\S+")),
    ("a pypirc password", re.compile(r"(?m)^\s*password\s*[=:]\s*\S+")),
    (
        "a cloud credential",
        re.compile(r"\"(?:private_key|refresh_token|client_secret)\"\s*:\s*\"[^\"]+\""),
    ),
    ("a Kubernetes credential", re.compile(r"(?m)^\s*(?:client-key-data|token):\s*\S+")),
)


@dataclass(frozen=True, slots=True)
class Secret:
    """Where a secret is (an env name or a file path) and what kind it is."""

    where: str
    kind: str


def secret_name(name: str) -> bool:
    words = [w for w in re.split(r"[_\-.]", name.upper()) if w]
    if not words:
        return False
    if words[-1] in _SECRET_WORDS:
        return True
    return words[-1] == "KEY" and len(words) > 1 and words[-2] in _KEY_OWNERS


def placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip().strip("\"'")))


def token_kind(text: str) -> str | None:
    for kind, pattern in TOKENS:
        if pattern.search(text):
            return kind
    return None


def env_secrets(env: Sequence[str]) -> Iterator[Secret]:
    """Secrets in a config's ``Env`` (``NAME=value`` strings)."""
    for item in env:
        name, sep, value = item.partition("=")
        if not sep:
            continue
        kind = token_kind(value)
        if kind is None and secret_name(name) and not placeholder(value):
            kind = "a password-like value"
        if kind is not None:
            yield Secret(name, kind)


def capture(path: str) -> int:
    """How many bytes of ``path`` the layer reader keeps to look for credentials."""
    base = path.rpartition("/")[2]
    if _VENDORED.search(path):
        return 0
    if (
        base in _NAMED
        or (base.startswith(".env.") and not base.endswith((".example", ".sample", ".template")))
        or _IN_FOLDER.search(path)
        or _KEY_FILE.search(base)
    ):
        return _MAX_FILE
    return 0


def file_secret(path: str, data: bytes) -> str | None:
    """What credential the start of a candidate file holds, if any."""
    if not capture(path):
        return None
    text = data.decode("utf-8", "replace")
    kind = token_kind(text)
    if kind is not None:
        return kind
    base = path.rpartition("/")[2]
    if base == ".env" or base.startswith(".env."):
        for line in text.splitlines():
            name, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and secret_name(name.strip()) and not placeholder(value):
                return "a password-like value"
        return None
    for kind, pattern in _FILE_CHECKS:
        if pattern.search(text):
            return kind
    return None
