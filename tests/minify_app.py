"""A small synthetic app for ``minify``'s CLI and HTML tests: a base with a shell, a passwd
and junk, an app script and notes, ``CMD ["/app/run.sh"]``, written as ``app.tar``."""

from __future__ import annotations

from pathlib import Path

import pytest

from deadweight import static as S
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


def app_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working folder holding ``app.tar`` (tagged ``app:1``), with a
    private layer cache, no engine and no SOURCE_DATE_EPOCH."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    config = {"Cmd": ["/app/run.sh"]}
    archive.write([S.image(STEPS, repo_tags=("app:1",), config=config)], tmp_path / "app.tar")
    return tmp_path
