"""The engine's ``docker save`` spool has no name: a killed run leaves nothing on disk."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from deadweight.sources.engine import _Spool  # the unit under test


def test_the_spool_has_no_name_and_reopens_while_it_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEADWEIGHT_TMPDIR", str(tmp_path))
    spool = _Spool(iter([b"abc", b"def"]))
    assert list(tmp_path.iterdir()) == []
    assert os.stat(spool.path).st_nlink == 0
    with open(spool.path, "rb") as one, open(spool.path, "rb") as two:
        assert one.read() == b"abcdef"
        assert two.read(3) == b"abc"  # independent readers
    ref = weakref.ref(spool)
    del spool
    gc.collect()
    assert ref() is None


def test_a_save_that_fails_midway_closes_the_spool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEADWEIGHT_TMPDIR", str(tmp_path))
    before = len(os.listdir("/proc/self/fd"))

    def chunks() -> Iterator[bytes]:
        yield b"abc"
        raise ConnectionResetError("engine went away")

    with pytest.raises(ConnectionResetError):
        _Spool(chunks())
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before  # no descriptor left open
    assert list(tmp_path.iterdir()) == []
