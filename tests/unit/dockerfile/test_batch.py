"""Linting Dockerfiles on disk through the library (``dockerfile.batch``, ``targets``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deadweight.dockerfile.batch import lint_files
from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.targets import dockerfiles_of, is_dockerfile_name
from deadweight.errors import NotFound, UsageError


def test_fix_writes_and_lints_the_fixed_file(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12\nCMD run it\nUSER 1\n")
    [one] = lint_files([path], fix=True)
    assert one.written and one.fixed == 'FROM debian:12\nCMD ["run", "it"]\nUSER 1\n'
    assert path.read_text() == one.fixed
    assert "DL3025" not in {f.code for f in one.result.findings}
    assert [f.code for f in one.result.findings] == ["DW015"]  # no HEALTHCHECK: not fixable


def test_diff_computes_the_fix_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12\nCMD run it\nUSER 1\n")
    [one] = lint_files([path], diff=True)
    assert not one.written and one.fixed != one.source
    assert path.read_text() == one.source
    assert [f.code for f in one.result.findings] == ["DW015", "DL3025"]


def test_settings_beside_the_file_and_the_threshold_given(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12\nCMD run it\nUSER 1\n")
    (tmp_path / ".hadolint.yaml").write_text("failure-threshold: error\n")
    [found] = lint_files([path])
    assert found.threshold is Severity.ERROR and not found.failed
    [given] = lint_files([path], threshold="warning")
    assert given.threshold is Severity.WARNING and given.failed
    [ignored] = lint_files([path], ignores=("dl3025", "DW015"), threshold="style")
    assert ignored.result.findings == () and not ignored.failed


def test_targets(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM a\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "Dockerfile").write_text("FROM a\n")
    (tmp_path / "web.Dockerfile").write_text("FROM a\n")
    (tmp_path / "web.Dockerfile.dockerignore").write_text("x\n")
    assert [Path(p).relative_to(tmp_path).as_posix() for p in dockerfiles_of(tmp_path)] == [
        "app/Dockerfile",
        "web.Dockerfile",
    ]
    assert is_dockerfile_name(Path("Containerfile.dev"))
    assert not is_dockerfile_name(Path("Dockerfile.dockerignore"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no Dockerfile here"):
        dockerfiles_of(tmp_path / "empty")
    with pytest.raises(NotFound):
        dockerfiles_of(tmp_path / "missing")


def test_a_file_is_itself_as_named(tmp_path: Path) -> None:
    path = tmp_path / "odd-name"
    path.write_text("FROM a\n")
    assert dockerfiles_of(str(path)) == [str(path)]
    assert dockerfiles_of(path) == [path]
    [one] = lint_files([str(path)])
    assert one.path == str(path) and one.result.path == str(path)
