"""``optimize --verify-http`` on a health endpoint that reports its uptime: the default
``--verify-body shape`` passes it, ``exact`` (the old byte comparison) does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_fixtures import DockerEngine

pytestmark = pytest.mark.integration

PORT = 18957
# busybox httpd runs /cgi-bin/health as CGI: a JSON body with the uptime in it
HEALTH = """#!/bin/sh
echo "Content-Type: application/json"
echo
echo "{\\"status\\": \\"ok\\", \\"uptime\\": $(cut -d' ' -f1 /proc/uptime), \\"pid\\": $$}"
"""


@pytest.fixture(scope="module")
def uptime_image(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    context = tmp_path_factory.mktemp("uptime")
    (context / "cgi-bin").mkdir()
    (context / "cgi-bin" / "health").write_text(HEALTH)
    (context / "cgi-bin" / "health").chmod(0o755)
    (context / "Dockerfile").write_text(
        f"FROM {busybox_base}\nCOPY cgi-bin /www/cgi-bin\nRUN echo tmp > /tmp/junk\n"
        f'CMD ["httpd", "-f", "-p", "127.0.0.1:{PORT}", "-h", "/www"]\n'
    )
    docker_engine.build(context, "dw-uptime:1", buildkit=True)
    return "dw-uptime:1"


@pytest.mark.parametrize(("body", "code"), [("shape", 0), ("status", 0), ("exact", 1)])
def test_uptime_in_the_body_passes_by_shape_not_by_bytes(
    docker_engine: DockerEngine, uptime_image: str, body: str, code: int, tmp_path: Path
) -> None:
    args = [f"docker-daemon:{uptime_image}", "-o", f"docker-archive:{tmp_path}/out.tar",
            "--verify-http", f"http://127.0.0.1:{PORT}/cgi-bin/health",
            "--format", "json"]  # fmt: skip
    if body != "shape":
        args += ["--verify-body", body]
    proc = docker_engine.deadweight("optimize", *args, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    http = json.loads(proc.stdout)["verification"]["checks"][-1]
    assert http["name"] == "http" and http["passed"] is (code == 0)
    if code:
        assert http["reason"] == "the bodies differ"
        assert not (tmp_path / "out.tar").exists()
