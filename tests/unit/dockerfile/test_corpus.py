"""Our findings against hadolint 2.15.1's on the corpus (copied from shared/corpus/dockerfiles)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deadweight.dockerfile.linting import lint
from deadweight.dockerfile.rules import BY_CODE

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p.name.removesuffix(".Dockerfile") for p in CORPUS.glob("*.Dockerfile"))
SHARED = {code for code in BY_CODE if code.startswith("DL")} | {"DL1000"}

# Where the corpus README says hadolint is wrong, what we report instead (and why).
HADOLINT_WRONG: dict[str, tuple[str, list[tuple[str, int]]]] = {
    # README: "an oracle false positive (known upstream, issue #1137)": BuildKit accepts
    # an instruction right after a heredoc terminator. We parse it; the only shared rule
    # that fires, DL3066 on `USER app`, is silenced by the file's inline pragma.
    "python-uv-cache-heredoc": ("hadolint cannot parse a heredoc followed by COPY", []),
}

Row = tuple[str, int, str, str]


def _hadolint(name: str) -> list[Row]:
    data = json.loads((CORPUS / f"{name}.hadolint.json").read_text())
    return sorted((d["code"], d["line"], d["level"], d["message"]) for d in data)


def _ours(name: str) -> list[Row]:
    result = lint((CORPUS / f"{name}.Dockerfile").read_text())
    return sorted((f.code, f.line, f.severity.label, f.message) for f in result.findings)


def test_corpus_is_complete() -> None:
    assert len(FILES) == 33


@pytest.mark.parametrize("name", FILES)
def test_shared_rules_match_hadolint(name: str) -> None:
    ours = [r for r in _ours(name) if r[0] in SHARED]
    theirs = [r for r in _hadolint(name) if r[0] in SHARED]
    if name in HADOLINT_WRONG:
        _reason, expected = HADOLINT_WRONG[name]
        assert [(c, ln) for c, ln, _, _ in ours] == expected
        assert theirs != ours
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", FILES)
def test_only_shellcheck_codes_are_not_shared(name: str) -> None:
    """Every hadolint code in the corpus is one we implement, except ShellCheck's SCxxxx."""
    unshared = {r[0] for r in _hadolint(name)} - SHARED
    assert all(code.startswith("SC") for code in unshared)


def test_syntax_error_column_matches_hadolint() -> None:
    result = lint((CORPUS / "malformed-unknown-instruction.Dockerfile").read_text())
    dl1000 = [f for f in result.findings if f.code == "DL1000"]
    assert [(f.line, f.column, f.message) for f in dl1000] == [(4, 4, "missing whitespace")]


# What the DW rules find on the corpus, given a build context with no .dockerignore.
# Each line is something the README notes hadolint is silent about.
DW_EXPECTED = {
    "arg-before-from-matrix": ["DW014@10", "DW015@13", "DW005@15"],
    "centos-yum-legacy": ["DW001@1", "DW015@1"],
    "continuation-comments-debug": ["DW015@1"],
    "debian-toolbox-hardened": ["DW015@1"],
    "go-single-stage-full": ["DW001@1", "DW006@1", "DW015@1", "DW014@4"],
    "go-static-scratch": ["DW014@5"],
    "heredoc-nginx-config": ["DW015@2"],
    "java-maven-multistage": [],
    "java-tomcat-war-legacy": ["DW001@1", "DW015@1", "DW008@6"],
    "malformed-empty": ["DW000@1"],  # docker refuses an empty file; hadolint passes it
    "malformed-missing-from": ["DW014@5"],
    "malformed-unknown-instruction": ["DW001@1", "DW015@1", "DW014@5"],
    "misc-rule-grabbag": ["DW005@9"],
    "multistage-copy-mistakes": ["DW014@4"],
    "node-backend-01-classic-alpine": [
        "DW001@1",
        "DW015@1",
        "DW002@12",
        "DW004@12",
        "DW003@13",
        "DW004@13",
        "DW014@16",
        "DW013@19",
    ],
    "node-backend-03-nonroot-ci": ["DW014@11"],
    "node-backend-04-untagged-debian": [
        "DW001@1",
        "DW006@1",
        "DW015@1",
        "DW007@7",
        "DW014@9",
        "DW002@10",
        "DW004@10",
        "DW003@11",
        "DW004@11",
        "DW004@12",
        "DW013@15",
    ],
    "node-backend-06-distroless": ["DW014@13"],
    "node-backend-08-slim-tini-healthcheck": ["DW002@11", "DW003@11", "DW004@11", "DW014@15"],
    "node-nextjs-standalone": ["DW014@11", "DW015@15"],
    "node-nodesource-curl-bash": [
        "DW001@2",
        "DW015@2",
        "DW007@7",
        "DW009@8",
        "DW004@10",
        "DW014@13",
        "DW004@14",
    ],
    "node-yarn-react-nginx": ["DW015@11"],
    "onbuild-python-base": ["DW001@1", "DW015@1"],
    "php-apache-laravel": ["DW015@6", "DW014@17"],
    "python-datascience-bloated": ["DW001@1", "DW015@1", "DW007@8", "DW014@13", "DW005@18"],
    "python-django-gunicorn-slim": ["DW014@21"],
    "python-flask-pip-basic": ["DW001@1", "DW006@1", "DW015@1", "DW014@8"],
    "python-uv-cache-heredoc": ["DW014@10", "DW015@14"],
    "ruby-rails-bundler": ["DW014@18", "DW015@22"],
    "static-nginx-simple": ["DW015@1"],
    "static-nginx-ubuntu-manual": ["DW001@1", "DW015@1"],
    "ubuntu-devbox-kitchen-sink": ["DW001@1", "DW015@1", "DW009@11"],
    "windows-servercore-escape": ["DW001@2", "DW015@2", "DW004@17", "DW014@18"],
}


@pytest.mark.parametrize("name", FILES)
def test_dw_rules_on_corpus(name: str) -> None:
    result = lint((CORPUS / f"{name}.Dockerfile").read_text(), has_context=True)
    got = [f"{f.code}@{f.line}" for f in result.findings if f.code.startswith("DW")]
    assert got == DW_EXPECTED[name]
