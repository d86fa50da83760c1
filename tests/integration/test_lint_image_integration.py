"""``deadweight lint IMAGE`` and ``deadweight dockerfile IMAGE`` on a real BuildKit build.

The image is built from the session's busybox base (no network) with a fake private key
planted, an AWS key ID in ENV, a setuid copy of busybox, a world-writable directory and
no USER; it is exported with ``docker save``. Every finding is asserted exactly, and the
Dockerfile rebuilt from the image's history must give back the instructions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine_fixtures import DockerEngine

from deadweight.cli.dockerfile import dockerfile
from deadweight.cli.lint import lint
from deadweight.dockerfile.parser import parse

pytestmark = pytest.mark.integration

FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZQ==\n-----END OPENSSH PRIVATE KEY-----\n"
DOCKERFILE = """\
FROM {base}
ARG BUILD_ID=7
ENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
COPY id_rsa /root/.ssh/id_rsa
RUN cp /bin/busybox /bin/suid-tool && chmod 4755 /bin/suid-tool && mkdir -p /data/drop \
&& chmod 777 /data/drop
CMD ["/bin/sh"]
"""


@pytest.fixture(scope="module")
def saved(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    context = tmp_path_factory.mktemp("lint-image")
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_base))
    (context / "id_rsa").write_text(FAKE_KEY)
    docker_engine.build(context, "dw-lint-planted:1", buildkit=True)
    out = context / "planted.tar"
    docker_engine.docker("save", "-o", str(out), "dw-lint-planted:1")
    return out


def test_lint_finds_exactly_the_planted_problems(saved: Path) -> None:
    r = CliRunner().invoke(lint, [str(saved), "--no-cache", "--format", "json"])
    assert r.exit_code == 1, r.output
    found = [(d["line"], d["code"], d["level"], d["message"]) for d in json.loads(r.stdout)]
    assert found == [
        (0, "DW101", "warning", "The image runs as root (no User is set)"),
        (0, "DW108", "info", "The image has no HEALTHCHECK"),
        (4, "DW102", "error", "Env AWS_ACCESS_KEY_ID holds an AWS access key ID"),
        (5, "DW103", "error", "/root/.ssh/id_rsa holds a private key"),
        (6, "DW012", "warning", "World-writable permissions (`chmod 777`)"),
        (6, "DW104", "warning", "1 setuid/setgid path(s): /bin/suid-tool (setuid 4755)"),
        (6, "DW105", "warning", "1 world-writable path(s): /data/drop (directory 0777)"),
    ]


def test_dockerfile_gives_back_the_instructions(saved: Path) -> None:
    r = CliRunner().invoke(dockerfile, [str(saved)])
    assert r.exit_code == 0, r.output
    rebuilt = parse(r.stdout).instructions
    original = parse(DOCKERFILE.format(base="dw-busybox:latest")).instructions
    # the base image's name is not in the history: its rows (ADD rootfs.tar / and
    # CMD ["/bin/sh"]) match the official alpine pattern, the best guess said
    assert rebuilt[0].value == "alpine"
    assert [(i.keyword, " ".join(i.value.split())) for i in rebuilt[1:]] == [
        (i.keyword, " ".join(i.value.split())) for i in original[1:]
    ]
