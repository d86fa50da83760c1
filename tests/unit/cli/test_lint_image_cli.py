from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from deadweight import static
from deadweight.cli.lint import is_dockerfile_target, lint
from deadweight.sources import archive

sys.path.insert(0, str(Path(__file__).parents[1] / "imagelint"))
from planted_image import planted


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "planted.tar"
    archive.write([planted()], path)
    return path


def invoke(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(lint, list(args))
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout


def test_targets_are_told_apart(tmp_path: Path, saved: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a:1\n")
    (tmp_path / "notes").write_text("FROM a:1\n")
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "index.json").write_text("{}")
    assert is_dockerfile_target(str(tmp_path / "Dockerfile"))
    assert is_dockerfile_target(str(tmp_path / "notes"))
    assert is_dockerfile_target(str(tmp_path))
    assert not is_dockerfile_target(str(saved))
    assert not is_dockerfile_target(str(layout))
    assert not is_dockerfile_target("docker-archive:" + str(saved))
    assert not is_dockerfile_target("alpine:3.20")
    (layout / "Dockerfile").write_text("FROM a:1\n")
    assert is_dockerfile_target(str(layout))


def test_tty_names_rows_and_instructions(saved: Path) -> None:
    code, out = invoke(str(saved), "--no-cache", "--failure-threshold", "error")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "planted:1 DW101 warning: The image runs as root (no User is set)"
    assert lines[2] == "planted:1 row 1 DW104 info: 1 setuid/setgid path(s): /bin/su (setuid 4755)"
    assert lines[3] == "    at: ADD file:abc123 /"
    assert "planted:1 row 4 DW103 error: /app/.npmrc holds an npm token" in lines
    assert "    at: RUN apt-get update && apt-get install -y gcc" in lines


def test_json_and_threshold(saved: Path) -> None:
    code, out = invoke(str(saved), "--no-cache", "--format", "json", "--ignore", "DW108")
    assert code == 1
    doc = json.loads(out)
    assert {d["file"] for d in doc} == {"planted:1"}  # Image.name: the tag
    assert [(d["line"], d["code"]) for d in doc][:3] == [(0, "DW101"), (1, "DW104"), (3, "DW102")]
    ignored = ["DW101", "DW102", "DW103", "DW104", "DW105", "DW106", "DW107", "DW108"]
    ignored += ["DL3008", "DL3009", "DL3015", "DL3064", "DW010", "DL3025"]
    args = [a for code in ignored for a in ("--ignore", code)]
    assert invoke(str(saved), "--no-cache", *args) == (0, "")


def test_images_and_dockerfiles_together(tmp_path: Path, saved: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nCMD run it\nUSER 1\n")
    (tmp_path / ".dockerignore").write_text(".git\nnode_modules\n")
    code, out = invoke(str(tmp_path / "Dockerfile"), str(saved), "--no-cache", "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert [d["code"] for d in doc if d["file"].endswith("Dockerfile")] == ["DW015", "DL3025"]
    assert sum(1 for d in doc if d["file"] == "planted:1") == 16


def test_fix_refuses_images(saved: Path) -> None:
    r = CliRunner().invoke(lint, [str(saved), "--fix"])
    assert r.exception is not None and "not images" in str(r.exception)


def test_explain_image_rule() -> None:
    code, out = invoke("--explain", "DW104")
    assert code == 0
    assert out.startswith("DW104 (warning): Files with the setuid or setgid bit (images only)")


def test_clean_image_passes(tmp_path: Path) -> None:
    img = static.image(
        [static.Step("USER 1000", comment="buildkit.dockerfile.v0")],
        config={"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}},
    )
    path = tmp_path / "clean.tar"
    archive.write([img], path)
    assert invoke(str(path), "--no-cache") == (0, "")
