"""``minify --html``: the page holds the sizes, what each package and directory lost, why
the rest stays, and the verification state (here ``--static``: nothing run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from html_page import Page

from deadweight import static as S
from deadweight.cli.minify import minify
from deadweight.errors import UsageError
from deadweight.sources import archive

STEPS = [
    S.Step("ADD rootfs.tar /", S.layer([
        S.Dir("bin"), S.File("bin/sh", b"\x7fnot-really-elf", 0o755),
        S.Dir("etc"), S.File("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
        S.Dir("opt"), S.File("opt/junk.bin", b"j" * 5000),
    ])),
    S.Step("COPY app /app", S.layer([
        S.Dir("app"), S.File("app/run.sh", b"#!/bin/sh\necho hello\n", 0o755),
        S.File("app/notes.txt", b"n" * 300),
    ])),
    S.Step('CMD ["/app/run.sh"]'),
]  # fmt: skip


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    config = {"Cmd": ["/app/run.sh"]}
    archive.write([S.image(STEPS, repo_tags=("app:1",), config=config)], tmp_path / "app.tar")
    return tmp_path


def test_static_minify_report(env: Path) -> None:
    r = CliRunner().invoke(minify, ["app.tar", "-o", "out.tar", "--static", "--html", "m.html"])
    assert r.exit_code == 0, r.output
    html = (env / "m.html").read_text(encoding="utf-8")
    p = Page(html)
    assert p.fetches == []
    doc = p.data
    assert doc["kind"] == "minify" and doc["before"] > doc["after"] > 0
    assert doc["dirs"] == [{"path": "/opt", "delta": -5000}, {"path": "/app", "delta": -300}]
    assert p.rows("removed-table")[:2] == [["/opt/junk.bin", "5kB", ""],
                                           ["/app/notes.txt", "300B", ""]]  # fmt: skip
    assert p.rows("dirs-table") == [["/opt", "5kB"], ["/app", "300B"]]
    assert "Not verified" in html and 'data-figure="verification"' in html
    assert "Wrote docker-archive:" in html
    assert p.rows("kept-table") == [["entrypoint", "2"], ["essential", "1"], ["structure", "3"]]


def test_minify_report_path_is_checked_first(env: Path) -> None:
    r = CliRunner().invoke(minify, ["app.tar", "--dry-run", "--static", "--html", "no/m.html"])
    assert isinstance(r.exception, UsageError) and "--html no/m.html" in str(r.exception)
