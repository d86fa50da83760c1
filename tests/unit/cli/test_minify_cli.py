"""``deadweight minify`` without an engine: ``--static`` on a synthetic image (written,
reported, reproducible from a keep file), and the refusals a user meets first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deadweight.cli.minify import minify
from deadweight.errors import TraceUnavailable
from deadweight.sources import archive

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from minify_app import app_folder

DEADWEIGHT = Path(sys.executable).with_name("deadweight")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return app_folder(tmp_path, monkeypatch)


def run(*args: str) -> Result:
    return CliRunner().invoke(minify, list(args))


def test_static_writes_the_kept_files_and_reports_unverified(env: Path) -> None:
    r = run("app.tar", "-o", "out.tar", "--static", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema"] == "deadweight.minify/v1"
    assert doc["static"] is True and doc["verifications"] == [] and doc["written"] is True
    kept = {k["path"]: k["reasons"] for k in doc["kept"]}
    assert "entrypoint" in kept["/app/run.sh"] and "/bin/sh" in kept
    assert {"/opt/junk.bin", "/app/notes.txt"} <= {r["path"] for r in doc["removed"]}
    written = archive.read(env / "out.tar")
    assert written.id == doc["imageId"] and len(written.layers) == 1
    assert doc["size"]["after"] < doc["size"]["before"]


def test_text_report_and_explain(env: Path) -> None:
    r = run("app.tar", "--dry-run", "--static", "--explain")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Plan: app:1 (static, unverified)\n")
    assert "Not verified (--static): nothing was run." in r.stdout
    assert "Removed paths:" in r.stdout and "/opt/junk.bin" in r.stdout
    assert "  /app/run.sh  (entrypoint" in r.stdout
    assert r.stdout.endswith("Dry run: nothing written.\n")
    assert not (env / "out.tar").exists()


def test_a_keep_file_reproduces_the_same_image(env: Path) -> None:
    first = run("app.tar", "-o", "a.tar", "--static", "--keep", "/app/notes.txt",
                "--write-keep-file", "keep.txt", "--epoch", "0")  # fmt: skip
    assert first.exit_code == 0, first.output
    lines = (env / "keep.txt").read_text().splitlines()
    assert "/app/notes.txt" in lines and "/opt/junk.bin" not in lines
    again = run("app.tar", "-o", "b.tar", "--static", "--keep-file", "keep.txt", "--epoch", "0")
    assert again.exit_code == 0, again.output
    assert archive.read(env / "a.tar").id == archive.read(env / "b.tar").id


def test_tracing_needs_root(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    r = run("app.tar", "-o", "out.tar")
    assert isinstance(r.exception, TraceUnavailable)
    assert str(r.exception) == "tracing needs root (fanotify): run as root, or use --static"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    env.pop("DEADWEIGHT_DEBUG", None)
    return subprocess.run([str(DEADWEIGHT), "minify", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)  # fmt: skip


@pytest.mark.skipif(os.geteuid() != 0, reason="the engine is asked for only as root")
def test_no_engine_is_one_line_exit_3(env: Path) -> None:
    r = cli("app.tar", "-o", "out.tar", cwd=env)
    assert (r.returncode, r.stdout) == (3, "")
    assert r.stderr == (
        "deadweight: error: docker-daemon: cannot connect to the engine at "
        "unix:///nonexistent/docker.sock: no such socket\n"
    )
    assert not (env / "out.tar").exists()


def test_unknown_packages_value_is_a_usage_error(env: Path) -> None:
    r = cli("app.tar", "-o", "out.tar", "--packages", "some", cwd=env)
    assert r.returncode == 2 and "Invalid value for '--packages'" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_bad_env_and_missing_destination_are_usage_errors(env: Path) -> None:
    assert cli("app.tar", "-o", "out.tar", "--env", "NOEQUALS", cwd=env).stderr == (
        "deadweight: error: --env NOEQUALS: use KEY=VALUE\n"
    )
    r = cli("app.tar", "--static", cwd=env)
    assert (r.returncode, r.stderr) == (
        2,
        "deadweight: error: -o DEST is required (or --dry-run)\n",
    )


def test_keeps_that_name_nothing_are_reported(env: Path) -> None:
    r = run("app.tar", "--dry-run", "--static", "--keep", "/nowhere/*", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["unmatchedKeeps"] == ["/nowhere/*"]
    text = run("app.tar", "--dry-run", "--static", "--keep", "/nowhere/*")
    assert "--keep entries that name nothing: /nowhere/*" in text.stdout
