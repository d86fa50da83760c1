"""The one atomic writer (``scratch.atomic_file``) as images, reports and ``lint --fix``
use it: permission bits, folders made or not, nothing left when the block fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deadweight.cli._report import write_report
from deadweight.dockerfile.fixes import write_atomically
from deadweight.scratch import atomic_file


def test_mode_is_set_and_parents_are_made_by_default(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "dir" / "blob"
    with atomic_file(dest, mode=0o600) as out:
        out.write(b"abc")
    assert dest.read_bytes() == b"abc"
    assert dest.stat().st_mode & 0o777 == 0o600


def test_without_parents_a_missing_folder_is_an_error_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError), atomic_file(tmp_path / "no" / "x", parents=False):
        pass
    assert os.listdir(tmp_path) == []


def test_a_failed_block_leaves_the_old_file(tmp_path: Path) -> None:
    dest = tmp_path / "keep"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(dest) as out:
        out.write(b"half")
        raise RuntimeError
    assert dest.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["keep"]


def test_reports_are_0644_and_fixed_dockerfiles_keep_their_bits(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    write_report(str(report), "{}\n")
    assert (report.read_text(), report.stat().st_mode & 0o777) == ("{}\n", 0o644)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM a\r\n")
    dockerfile.chmod(0o750)
    write_atomically(dockerfile, "FROM b\r\n")
    assert dockerfile.read_bytes() == b"FROM b\r\n"  # no newline translation
    assert dockerfile.stat().st_mode & 0o777 == 0o750
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile", "r.json"]
