"""``export_all`` (one layer at a time onto disk, memory flat in the file count) writes
exactly what ``export`` over the stacked tree writes, on layers that test every stacking
rule: whiteouts and opaque markers before or after their layer's own entries, a file over
a directory and the reverse, parents the tar omits and parents that were links, hardlinks
in and across layers, symlinks leading outside, devices, set-id and sticky bits."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from deadweight import static as S
from deadweight.errors import UsageError
from deadweight.extraction import export
from deadweight.extraction.stream import export_all, process_umask
from deadweight.image import Image
from deadweight.reading import read_deltas

F, D, L, H = S.File, S.Dir, S.Symlink, S.Hardlink

CASES: dict[str, list[list[S.Entry]]] = {
    "plain": [[D("etc"), F("etc/os-release", b"x\n"), F("bin/sh", b"sh", mode=0o755)]],
    "modes": [[D("tmp", mode=0o1777), F("usr/bin/su", b"su", mode=0o4755), D("srv", 0o700)]],
    "overwrite": [[F("a", b"1"), F("b/c", b"2")], [F("a", b"one"), F("b/c", b"two")]],
    "file over dir": [[D("x"), F("x/y", b"y"), F("x/z/w", b"w")], [F("x", b"now a file")]],
    "dir over file": [[F("x", b"file")], [D("x"), F("x/y", b"y")]],
    "implicit parent over file": [[F("x", b"file")], [F("x/y/z", b"z")]],
    "parent was a link": [[D("real"), L("x", "real"), F("real/f", b"f")], [F("x/g", b"g")]],
    "whiteout": [[F("a/b", b"b"), F("a/c", b"c"), F("d", b"d")], [S.Whiteout("a/b")]],
    "whiteout of a dir": [[F("a/b/c", b"c"), F("a/d", b"d")], [S.Whiteout("a/b")]],
    "whiteout after same-layer entry": [[F("a", b"old")], [F("a", b"new"), S.Whiteout("a")]],
    "opaque first": [[F("a/b", b"b"), F("a/c/d", b"d")], [S.Opaque("a"), F("a/e", b"e")]],
    "opaque last": [[F("a/b", b"b"), F("a/c/d", b"d")], [F("a/e", b"e"), S.Opaque("a")]],
    "opaque of nothing": [[F("z", b"z")], [S.Opaque("a"), F("a/e", b"e")]],
    "hardlinks": [[F("a", b"data", mode=0o640), H("b", "a")], [H("c", "a"), H("d", "nope")]],
    "hardlink after its file went": [[F("a", b"data"), H("b", "a")], [S.Whiteout("a")]],
    "hardlink to a dir": [[D("d"), H("e", "d")]],
    "symlinks": [[L("abs", "/etc/passwd"), L("up", "../../x"), L("in", "a/b"), F("a/b")]],
    "symlink over dir": [[F("x/y", b"y")], [L("x", "/elsewhere")]],
    "fifo": [[S.Fifo("p"), F("q", b"q")], [F("p", b"now a file")]],
    "fifo replaced then hidden": [[S.Fifo("d/p")], [S.Whiteout("d")]],
    "fifo as parent": [[S.Fifo("p")], [F("p/q", b"q")]],
    "duplicates": [[F("a", b"first"), F("a", b"second"), D("d", 0o700), D("d", 0o750)]],
    "deep": [[F("/".join(["d"] * 60) + "/f", b"deep")]],
    # the stage (this layer's entries) joining what lower layers wrote
    "into existing dirs": [
        [F("a/b/c", b"c"), F("a/x", b"x"), D("a/b", 0o700)],
        [F("a/b/d", b"d"), D("a/b", 0o750), F("a/y", b"y"), F("a/b/e/f", b"f")],
    ],
    "many into one dir": [[F("d/keep", b"k")], [F(f"d/f{i:03}", b"%d" % i) for i in range(300)]],
    "fifo over file": [[F("p", b"p"), F("d/q", b"q")], [S.Fifo("p"), S.Fifo("d/q")]],
    "whiteout after same-layer entry below": [
        [F("d/a", b"old"), F("d/b", b"b")],
        [F("d/a", b"new"), S.Whiteout("d/a"), S.Whiteout("d/b")],
    ],
    "hardlink to a lower file its layer hid": [[F("a/b", b"b")], [S.Opaque("a"), H("c", "a/b")]],
    "hardlink below a parent its layer replaced": [[F("d/a", b"a")], [F("d", b"x"), H("e", "d/a")]],
    "hardlink to what its layer made a dir": [[F("a", b"a")], [D("a"), H("b", "a")]],
    "hardlink to its own layer's file in a lower dir": [
        [D("d"), F("d/old", b"o")],
        [F("d/new", b"n", mode=0o600), H("top", "d/new"), H("d/again", "d/old")],
    ],
    # files made without a look-up first: empty ones by mknod, modes the umask would strip
    "empty files": [
        [F("e", b""), F("x", b"", mode=0o755), F("w", b"", mode=0o666), F("n", b"", 0)]
    ],
    "empty file over a symlink": [
        [F("t", b"t"), L("s", "t"), L("u", "/t")],
        [F("s", b""), F("u", b"")],
    ],
    "empty file over its layer's": [
        [L("s", "t"), D("d"), F("d/f", b"f"), F("s", b""), F("d", b"")]
    ],
    "modes the umask strips": [[F("a", b"a", mode=0o666), F("b", b"b", mode=0o777), D("c", 0o777)]],
}


def listing(root: Path) -> list[tuple[str, str, int, str, bytes]]:
    out = []
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        link = os.readlink(path) if path.is_symlink() else ""
        data = path.read_bytes() if stat.S_ISREG(info.st_mode) else b""
        nlink = info.st_nlink if stat.S_ISREG(info.st_mode) else 0
        out.append((str(path.relative_to(root)), stat.filemode(info.st_mode), nlink, link, data))
    return out


def image_of(layers: list[list[S.Entry]]) -> Image:
    return S.image([S.Step(f"RUN step {i}", S.layer(entries)) for i, entries in enumerate(layers)])


@pytest.mark.parametrize("case", sorted(CASES))
def test_export_all_writes_what_the_stacked_tree_export_writes(tmp_path: Path, case: str) -> None:
    image = image_of(CASES[case])
    deltas = read_deltas(image, capture=None)
    by_tree = export(image, deltas, tmp_path / "tree")
    streamed = export_all(image, tmp_path / "stream")
    assert listing(tmp_path / "stream") == listing(tmp_path / "tree")
    assert streamed == by_tree
    assert stat.S_IMODE((tmp_path / "stream").stat().st_mode) == 0o755


def test_a_destination_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    with pytest.raises(UsageError, match="not an empty directory"):
        export_all(image_of(CASES["plain"]), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_modes_are_the_entries_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    image = image_of(CASES["empty files"] + CASES["modes the umask strips"])
    old = os.umask(umask)
    try:
        assert process_umask() == umask
        export_all(image, tmp_path / "out")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.lstat().st_mode) for p in (tmp_path / "out").iterdir()}
    assert modes == {"e": 0o644, "x": 0o755, "w": 0o666, "n": 0, "a": 0o666, "b": 0o777, "c": 0o777}


def test_a_file_system_without_mknod_gets_its_empty_files_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise PermissionError(errno.EPERM, "mknod")

    monkeypatch.setattr(os, "mknod", refuse)
    image = image_of(CASES["empty file over a symlink"])
    deltas = read_deltas(image, capture=None)
    by_tree = export(image, deltas, tmp_path / "tree")
    assert export_all(image, tmp_path / "stream") == by_tree
    assert listing(tmp_path / "stream") == listing(tmp_path / "tree")
