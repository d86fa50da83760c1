"""The bound on an image's entries (``limits.IMAGE_ENTRIES``, issue 16): the commands that
hold the merged tree refuse an image whose layers hold more, with a typed error (exit 3);
``export`` streams what it reads and is not bounded."""

from __future__ import annotations

from pathlib import Path

import hostile_shapes as shapes
import pytest
from click.testing import CliRunner

from deadweight import limits
from deadweight.analysis.analyze import analyze_deltas
from deadweight.cli._group import cli as main
from deadweight.errors import UnsafeLayer
from deadweight.filetree import Entry, LayerDelta
from deadweight.filetree.tree import Stacker, stack


def layer(*paths: str, whiteouts: tuple[str, ...] = ()) -> LayerDelta:
    return LayerDelta(tuple(Entry(p, "file") for p in paths), whiteouts)


def test_the_stacker_counts_every_member_of_every_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "IMAGE_ENTRIES", 4)
    stacker = Stacker()
    stacker.apply(layer("a", "b"))
    stacker.apply(layer("c", whiteouts=("a",)))  # 4 members: at the bound, not past it
    with pytest.raises(UnsafeLayer) as err:
        stacker.apply(layer("d"))
    assert str(err.value) == (
        "the image's layers hold more than 4 entries in all "
        "(deadweight.limits.IMAGE_ENTRIES): refused"
    )
    assert sorted(stack([layer("a", "b", "c", "d", "e")], bounded=False).nodes) == list("abcde")
    with pytest.raises(UnsafeLayer):
        analyze_deltas([layer("a", "b"), layer("c", "d", "e")])


def test_commands_refuse_with_one_line_and_export_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(limits, "IMAGE_ENTRIES", 50)
    archive = tmp_path / "many.tar"
    shapes.docker_archive(archive, [shapes.many_empty_files_layer(60, per_dir=10)])
    other = tmp_path / "other.tar"
    shapes.docker_archive(other, [shapes.small_layer()])
    spec = f"docker-archive:{archive}"
    for argv in (["analyze", spec], ["lint", spec], ["diff", spec, f"docker-archive:{other}"]):
        result = CliRunner().invoke(main, argv)
        # a typed error: ``cli._errors`` prints its one line and exits 3
        assert isinstance(result.exception, UnsafeLayer), (argv, result.output)
        assert result.exception.exit_code == 3
        assert "\n" not in str(result.exception)
        assert "more than 50 entries in all" in str(result.exception)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", spec, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(list((out / "d0").iterdir())) == 10
