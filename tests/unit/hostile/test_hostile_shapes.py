"""Valid but hostile shapes (issue 16): a very deep path, very many layers or history rows,
very many files. No timing asserts: each test counts the work (syscalls, layer reads,
rows rendered) that used to grow with the square of the input."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import hostile_shapes as shapes
import pytest
from click.testing import CliRunner

from deadweight import static
from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze
from deadweight.cache import LayerStore
from deadweight.cli.files import export
from deadweight.extraction.dirs import KEEP, Dirs, inside
from deadweight.imagelint.lint import capture
from deadweight.reading import read_deltas
from deadweight.render.analyze import SHOWN_LAYERS, render_text
from deadweight.sources import archive

S = static


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def counting_opens(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = os.open

    def spy(*args: object, **kwargs: object) -> int:
        calls[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    return calls


def test_deep_path_exports_with_a_few_opens_per_entry(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    depth = 600  # > KEEP: the cursor also drops and reopens descriptors
    path = shapes.docker_archive(cache / "deep.tar", [shapes.deep_path_layer(depth)])
    calls = counting_opens(monkeypatch)
    result = CliRunner().invoke(export, [str(path), "-o", str(cache / "out")])
    assert result.exit_code == 0, result.output
    assert f"exported {depth} files, {depth} directories" in result.output
    deepest = cache / "out" / "/".join(["d"] * depth) / "f"
    fd = os.open(cache / "out", os.O_RDONLY)
    try:  # the path is longer than PATH_MAX allows in one call: walk it
        for _ in range(depth):
            nxt = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        assert os.stat("f", dir_fd=fd).st_size == 2
    finally:
        os.close(fd)
    assert len(str(deepest)) > 1000
    # one open per directory made and per file written, a few more for the final modes
    # and the reopening past KEEP levels; the old walk from the root made depth**2 / 2
    assert calls[0] < 6 * depth + 2 * depth * depth // KEEP


def test_dirs_cursor_moves_by_what_two_paths_share(tmp_path: Path) -> None:
    for p in ("a/b/c", "a/b/x", "a/y", "z"):
        (tmp_path / p).mkdir(parents=True, exist_ok=True)
    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    dirs = Dirs(root)
    try:
        for p in ("a/b/c", "a/b/x", "a/y", "z", "", "a/b", "a/b/c"):
            fd = dirs.get(p)
            assert os.path.samestat(os.fstat(fd), os.stat(tmp_path / p))
    finally:
        dirs.close()
        os.close(root)


def test_dirs_never_follow_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    dirs = Dirs(root)
    try:
        with pytest.raises(OSError):
            dirs.get("link")
    finally:
        dirs.close()
        os.close(root)


def repeated_layer_image(count: int, opened: list[int]) -> object:
    base = S.layer([S.File("etc/hostname", b"host\n")])
    real_opener = base.opener

    def opener() -> object:
        opened[0] += 1
        return real_opener()

    layer = type(base)(base.diff_id, base.blob, opener, seekable=True)  # type: ignore[arg-type]
    return S.image([S.Step(f"RUN step {i}", layer) for i in range(count)])


def test_a_layer_named_many_times_is_read_once(tmp_path: Path) -> None:
    opened = [0]
    image = repeated_layer_image(5_000, opened)
    store = LayerStore(tmp_path / "layers.sqlite")
    try:
        deltas = read_deltas(image, capture=pkgs.capture, store=store)  # type: ignore[arg-type]
        assert len(deltas) == 5_000 and opened == [1]
        opened[0] = 0
        assert len(read_deltas(image, capture=capture, store=store)) == 5_000  # type: ignore[arg-type]
        assert opened == [1]
    finally:
        store.close()


def test_the_layers_table_shows_the_first_and_last_rows() -> None:
    opened = [0]
    image = repeated_layer_image(SHOWN_LAYERS * 3, opened)
    text = render_text(analyze(image))  # type: ignore[arg-type]
    assert f"{SHOWN_LAYERS * 2} more layers (--format json lists all)" in text
    assert "RUN step 0 " in text + " " and f"RUN step {SHOWN_LAYERS * 3 - 1}" in text
    assert f"RUN step {SHOWN_LAYERS}\n" not in text
    assert sum(1 for line in text.splitlines() if "RUN step" in line) < SHOWN_LAYERS * 2


def test_many_layers_and_rows_archive_round_trip(cache: Path) -> None:
    path = shapes.docker_archive(cache / "many.tar", [shapes.small_layer()] * 3_000, history=6_000)
    image = archive.read(path)
    assert len(image.layers) == 3_000 and len(image.history or ()) == 6_000


@pytest.mark.parametrize(
    ("path", "target", "expected"),
    [
        ("etc/motd", "/etc/issue", "../etc/issue"),
        ("usr/bin/awk", "/etc/alternatives/awk", "../../etc/alternatives/awk"),
        ("a/b", "../../../../etc/passwd", "../etc/passwd"),
        ("p/q/x", "l/../../..", "../.."),
        ("x", "/", "."),
        ("a/b", "../c", None),
        ("a/b", "c/d", None),
        ("a/b/c", "../../d", None),
    ],
)
def test_symlinks_leading_out_are_rewritten_inside(path: str, target: str, expected: str) -> None:
    assert inside(path, target) == expected


def test_export_keeps_sticky_dirs_and_rewrites_escaping_links(cache: Path) -> None:
    layer = S.layer(
        [
            S.Dir("tmp", mode=0o1777),
            S.Dir("srv", mode=0o2775),  # set-gid: dropped
            S.Symlink("etc/shadow-link", "/etc/shadow"),
            S.Symlink("up", "../../../../../../home/user/.ssh"),
            S.Symlink("tmp/rel", "../srv"),
        ]
    )
    path = cache / "img.tar"
    archive.write([S.image([S.Step("RUN x", layer)])], path)
    result = CliRunner().invoke(export, [str(path), "-o", str(cache / "out")])
    assert result.exit_code == 0, result.output
    out = cache / "out"
    assert stat.S_IMODE((out / "tmp").stat().st_mode) == 0o1777
    assert stat.S_IMODE((out / "srv").stat().st_mode) == 0o775
    assert os.readlink(out / "etc/shadow-link") == "../etc/shadow"
    assert os.readlink(out / "up") == "home/user/.ssh"
    assert os.readlink(out / "tmp/rel") == "../srv"
    assert "2 symlinks that pointed outside" in result.output
    for link in (out / "etc/shadow-link", out / "up"):
        resolved = os.path.normpath(os.path.join(link.parent, os.readlink(link)))
        assert resolved.startswith(str(out) + os.sep)
