"""Rules not exercised by the corpus, one exact case each (fires, and stays silent)."""

from __future__ import annotations

import pytest

from deadweight.dockerfile.config import LintConfig
from deadweight.dockerfile.linting import lint


def codes(src: str, **kw: object) -> list[str]:
    return [f"{f.code}@{f.line}" for f in lint(src, **kw).findings]  # type: ignore[arg-type]


def only(src: str, prefix: str, **kw: object) -> list[str]:
    return [c for c in codes(src, **kw) if c.startswith(prefix)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("WORKDIR app", ["DL3000@2"]),
        ("WORKDIR /app\nWORKDIR C:\\\\x\nWORKDIR $HOME", []),
        ("RUN apk add curl", ["DL3018@2", "DL3019@2"]),
        ("RUN apk add --no-cache curl=8.5.0-r0", []),
        ("RUN gem install rails", ["DL3028@2"]),
        ("RUN gem install rails:7.1.0 && gem install -v 1 x", []),
        ("RUN dnf install curl", ["DL3038@2", "DL3040@2", "DL3041@2"]),
        ("RUN zypper install curl", ["DL3034@2", "DL3036@2", "DL3037@2"]),
        ("RUN zypper dup -y", ["DL3035@2"]),
        ('CMD ["a"]\nCMD ["b"]', ["DL4003@3"]),
        ("ONBUILD FROM x", ["DL3043@2"]),
        ("RUN go install golang.org/x/tools/gopls", ["DL3062@2"]),
        ("RUN go install golang.org/x/tools/gopls@v0.1 && go build ./...", []),
        ("RUN apt-get install -y curl=1 --no-install-recommends", []),
        ("RUN apt-get -qq install --no-install-recommends curl=1", []),
        ("RUN pip install --no-cache-dir -c c.txt flask", []),
        ("RUN python3 -m pip install flask==3.0 && pipx install black==24.1", ["DL3042@2"]),
        ("RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3", []),
        ("RUN npm install @scope/pkg@1 ./local git+https://x/y#v1", []),
        ("RUN npm install @scope/pkg", ["DL3016@2"]),
        # hadolint counts this stage's own FROM: 0 is below 1, so it passes (DL3022)
        ("COPY --from=0 /a /a", []),
        ("COPY --from=1 /a /a", ["DL3022@2"]),
        ("FROM x:1\nCOPY --from=0 /a /a", []),
        ("COPY --from=nginx:1.25 /etc/nginx /etc/nginx", []),
    ],
)
def test_dl_rules(body: str, expected: list[str]) -> None:
    assert only(f"FROM debian:12\n{body}\n", "DL") == expected


def test_dl3026_needs_trusted_registries() -> None:
    src = "FROM evil.io/x:1\nFROM docker.io/library/debian:12\nFROM debian:12\n"
    assert only(src, "DL3026") == []
    cfg = LintConfig(trusted_registries=("docker.io",))
    assert only(src, "DL3026", config=cfg) == ["DL3026@1"]


def test_dl3009_only_in_final_or_reused_stages() -> None:
    src = (
        "FROM debian:12 AS a\nRUN apt-get update && apt-get install -y x\n"
        "FROM debian:12 AS b\nRUN apt-get update && apt-get install -y x\n"
        "FROM b\nRUN true\n"
    )
    assert only(src, "DL3009") == ["DL3009@4"]


def test_pipefail_shell_silences_dl4006_until_next_from() -> None:
    src = (
        'FROM a:1\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN a | b\n'
        "FROM a:1\nRUN a | b\n"
        'FROM a:1\nSHELL ["pwsh", "-c"]\nRUN a | b\n'
    )
    assert only(src, "DL4006") == ["DL4006@5"]


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ('FROM node:20\nCMD ["node", "s.js"]\n', ["DW001@1", "DW006@1"]),
        ("FROM node:20-slim\nUSER node\n", []),
        ("FROM gcr.io/distroless/nodejs20-debian12:nonroot\n", []),
        ("FROM debian:12\nADD https://x/y.jar /y.jar\nUSER 1\n", ["DW008@2"]),
        ("FROM debian:12\nADD --checksum=sha256:ab https://x/y.jar /y.jar\nUSER 1\n", []),
        ("FROM debian:12\nRUN wget -qO- https://x | sudo bash\nUSER 1\n", ["DW009@2"]),
        ("FROM debian:12\nENV AWS=AKIAIOSFODNN7EXAMPLE\nUSER 1\n", ["DW010@2"]),
        ("FROM debian:12\nARG DB_PASSWD=hunter2\nUSER 1\n", ["DW010@2"]),
        ("FROM debian:12\nENV PASSWORD=x\nARG KEY=$K\nUSER 1\n", []),
        ("FROM debian:12\nCOPY .npmrc id_rsa ./\nUSER 1\n", ["DW011@2"]),
        ("FROM debian:12\nCOPY .env.example ./\nUSER 1\n", []),
        ("FROM debian:12\nRUN chmod -R 777 /app && chmod o+w /x\nUSER 1\n", ["DW012@2"]),
        ("FROM debian:12\nRUN chmod 755 /app && chmod u+w /x\nUSER 1\n", []),
        ('FROM node:20-slim\nUSER node\nCMD ["yarn", "start"]\n', ["DW013@3"]),
        ('FROM node:20-slim\nUSER node\nENTRYPOINT ["tini", "--"]\nCMD ["npm", "start"]\n', []),
        ("FROM node:20-slim\nRUN npm ci && npm cache clean --force\nUSER node\n", ["DW003@2"]),
        ("FROM node:20-slim\nENV NODE_ENV=production\nRUN npm ci\nUSER node\n", ["DW004@3"]),
        ("FROM a:1 AS b\nRUN make\nFROM debian:12\nRUN apt-get install -y gcc\nUSER 1\n", []),
        ("FROM debian:12\nRUN apt-get install -y gcc libssl-dev\nUSER 1\n", ["DW007@2"]),
        ("FROM debian:12\nCOPY app.tgz /tmp/\nRUN rm /tmp/app.tgz\nUSER 1\n", ["DW005@3"]),
        ("FROM debian:12\nRUN wget -q https://x/a.tgz && rm a.tgz\nUSER 1\n", []),
    ],
)
def test_dw_rules(src: str, expected: list[str]) -> None:
    got = [c for c in codes(src) if c.startswith("DW") and not c.startswith("DW015")]
    assert got == expected


@pytest.mark.parametrize(
    ("ignore", "expected"),
    [
        (None, ["DW014@2"]),
        ("node_modules\n", ["DW014@2"]),
        ("**/node_modules\n.git\n", []),
        (".git/\nnode_modules/*\n", []),
        (".git\nnode_modules\n!node_modules\n", ["DW014@2"]),
    ],
)
def test_dw014_dockerignore(ignore: str | None, expected: list[str]) -> None:
    src = "FROM debian:12\nCOPY . .\nUSER 1\n"
    assert only(src, "DW014", dockerignore=ignore, has_context=True) == expected
    assert only(src, "DW014", dockerignore=ignore, has_context=False) == []


def test_dw014_message_names_what_is_missing() -> None:
    r = lint("FROM d:1\nCOPY . .\n", dockerignore="node_modules\n", has_context=True)
    assert [f.message for f in r.findings if f.code == "DW014"] == [
        "The whole build context is copied and .dockerignore does not exclude .git"
    ]


def test_dw016_allowed_base_images() -> None:
    src = "FROM python:3.12-slim AS a\nFROM a\nFROM evil/python:3\nUSER 1\n"
    cfg = LintConfig(allowed_images=("python:*-slim", "debian"))
    assert only(src, "DW016", config=cfg) == ["DW016@3"]
    assert only(src, "DW016") == []


def test_dw015_skips_scratch_and_sees_base_stage_healthcheck() -> None:
    assert only("FROM scratch\nCOPY a /a\n", "DW015") == []
    src = 'FROM debian:12 AS b\nHEALTHCHECK CMD ["true"]\nFROM b\n'
    assert only(src, "DW015") == []
    assert only("FROM debian:12\n", "DW015") == ["DW015@1"]


# Rule bugs seen on real files (issue 14): each case failed before its fix.
@pytest.mark.parametrize(
    ("body", "code", "expected"),
    [
        ("ARG UID=1000\nUSER $UID", "DL3066", []),
        ("ARG UID=1000\nUSER ${UID}:${UID}", "DL3066", []),
        ("ARG UID\nUSER $UID", "DL3066", []),
        # a declared ARG passes whatever its default, as in hadolint (it cannot judge it)
        ("ARG U=app\nUSER $U", "DL3066", []),
        ("USER $NOT_AN_ARG", "DL3066", ["DL3066@2"]),
        (
            "RUN yum install -y epel-release centos-release-scl && yum clean all",
            "DL3033",
            ["DL3033@2"],
        ),
        ("RUN yum install -y httpd-2.4.6-99.el7 x-1:2.0 && yum clean all", "DL3033", []),
        ("RUN dnf install -y epel-release && dnf clean all", "DL3041", ["DL3041@2"]),
        ("RUN dnf install -y nginx-1.24.0 && dnf clean all", "DL3041", []),
        ("RUN if [ -f x ]; then echo a; fi\nRUN echo b", "DL3059", ["DL3059@3"]),
        ("RUN echo b\nRUN if [[ -f x ]]; then echo a; fi", "DL3059", ["DL3059@3"]),
        ("RUN echo b\nRUN test -f x && echo a", "DL3059", []),
        (
            "RUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update "
            "&& apt-get install -y --no-install-recommends curl=1",
            "DL3009",
            [],
        ),
        (
            "RUN --mount=type=tmpfs,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt "
            "apt-get update && apt-get install -y --no-install-recommends curl=1",
            "DL3009",
            [],
        ),
        ('SHELL ["/bin/bash", "-xo", "pipefail", "-c"]\nRUN curl x | tar x', "DL4006", []),
        ('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN curl x | tar x', "DL4006", []),
        ('SHELL ["/bin/bash", "-ex", "-c"]\nRUN curl x | tar x', "DL4006", ["DL4006@3"]),
        ('COPY "${D}"/file /dst', "DL3021", []),
        ('COPY a "${D}"/file /dst', "DL3021", ["DL3021@2"]),
        ("RUN go install golang.org/x/tools/gopls@latest", "DL3062", ["DL3062@2"]),
        ("RUN go install golang.org/x/tools/gopls@v0.16.1", "DL3062", []),
        ("RUN yum clean all && yum install -y httpd-2.4.6", "DL3032", ["DL3032@2"]),
        ("RUN yum install -y httpd-2.4.6 && yum clean all", "DL3032", []),
    ],
)
def test_rule_bugs_from_real_files(body: str, code: str, expected: list[str]) -> None:
    assert only("FROM debian:12\n" + body + "\n", code) == expected
