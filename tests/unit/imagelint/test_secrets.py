from __future__ import annotations

import pytest

from deadweight.imagelint.secrets import (
    Secret,
    capture,
    env_secrets,
    file_secret,
    placeholder,
    secret_name,
)

NPM = "npm_" + "A1b2" * 9
GH = "ghp_" + "x" * 36


def test_env_tokens_and_names() -> None:
    env = [
        "PATH=/usr/bin",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        f"NPM_CONFIG=//r/:_authToken={NPM}",
        f"HELPER={GH}",
        "DB_PASSWORD=s3cr3t-v4lue",
        "POSTGRES_PASSWORD_FILE=/run/secrets/pg",
        "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        "API_KEY=${API_KEY}",
        "SECRET_KEY=changeme",
        "PWD=/app",
        "ADMIN_TOKEN=",
        "STRIPE_SECRET=sk_test_abcdef",
        "NOEQUALS",
    ]
    assert list(env_secrets(env)) == [
        Secret("AWS_ACCESS_KEY_ID", "an AWS access key ID"),
        Secret("NPM_CONFIG", "an npm token"),
        Secret("HELPER", "a GitHub token"),
        Secret("DB_PASSWORD", "a password-like value"),
        Secret("STRIPE_SECRET", "a password-like value"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DB_PASSWORD", True),
        ("MYSQL_ROOT_PASS", True),
        ("GITHUB_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("API_KEY", True),
        ("GPG_KEY", False),
        ("SSH_KEY_PATH", False),
        ("PASSWORD_FILE", False),
        ("TOKEN_URL", False),
        ("KEY", False),
    ],
)
def test_secret_name(name: str, expected: bool) -> None:
    assert secret_name(name) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", True),
        ("$DB_PASS", True),
        ("<your password>", True),
        ("xxxxxx", True),
        ("change_me", True),
        ("/run/secrets/db", True),
        ("hunter2", False),
        ("p@ss word", False),
    ],
)
def test_placeholder(value: str, expected: bool) -> None:
    assert placeholder(value) is expected


def test_capture_picks_candidates_and_skips_vendored_files() -> None:
    assert capture("app/.npmrc") == 65536
    assert capture("root/.ssh/id_ed25519") == 65536
    assert capture("root/.aws/credentials") == 65536
    assert capture("etc/ssl/private/server.key") == 65536
    assert capture("app/.env.production") == 65536
    assert capture("app/.env.example") == 0
    assert capture("app/node_modules/x/test/fixtures/key.pem") == 0
    assert capture("usr/lib/python3/dist-packages/certifi/cacert.pem") == 0
    assert capture("etc/ssl/certs/ca.pem") == 0
    assert capture("app/main.py") == 0


def test_file_content_decides() -> None:
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n"
    assert file_secret("root/.ssh/id_rsa", key) == "a private key"
    assert file_secret("root/.ssh/id_rsa", b"ssh-rsa AAAA... user@host\n") is None
    assert file_secret("etc/ssl/server.pem", b"-----BEGIN CERTIFICATE-----\nMII\n") is None
    assert file_secret("app/.npmrc", b"//registry.npmjs.org/:_authToken=abc123\n") == (
        "an npm auth token"
    )
    assert file_secret("app/.npmrc", b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n") is None
    assert file_secret("app/.npmrc", b"registry=https://registry.npmjs.org/\n") is None
    assert file_secret("app/.env", b"DEBUG=1\nDB_PASSWORD=hunter22\n") == "a password-like value"
    assert file_secret("app/.env", b"DEBUG=1\nDB_PASSWORD=\nAPI_KEY=<set me>\n") is None
    assert file_secret("root/.aws/credentials", b"[default]\naws_secret_access_key = abc\n") == (
        "an AWS secret key"
    )
    assert file_secret("root/.docker/config.json", b'{"auths":{"r":{"auth":"dTpw"}}}') == (
        "a registry login"
    )
    assert file_secret("root/.docker/config.json", b'{"credsStore":"desktop"}') is None
    assert file_secret("app/main.py", b"AKIAIOSFODNN7EXAMPLE") is None  # not a candidate
