"""``deadweight cat`` and ``deadweight export``: bytes out, safe and atomic extraction."""

from __future__ import annotations

import io
import os
import stat
import sys
import tarfile
from pathlib import Path

import click
import pytest

from deadweight import static
from deadweight.cli._errors import run
from deadweight.cli.files import cat, export
from deadweight.compare import content
from deadweight.digest import sha256_bytes
from deadweight.extraction import files as extraction_files
from deadweight.extraction import stream
from deadweight.image import Layer
from deadweight.sources import archive
from deadweight.spec.manifest import Descriptor


def raw_layer(members: list[tuple[str, bytes, str]]) -> Layer:
    """A layer tar with names static cannot write: (name, data, symlink target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data, link in members:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    blob = buf.getvalue()
    desc = Descriptor("application/vnd.oci.image.layer.v1.tar", sha256_bytes(blob), len(blob))
    return Layer(sha256_bytes(blob), desc, lambda: io.BytesIO(blob), seekable=True)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    steps = [
        static.Step(
            "ADD base",
            static.layer(
                [
                    static.Dir("etc"),
                    static.File("etc/motd", b"old motd\n"),
                    static.File("bin/tool", b"T" * 100, mode=0o4755),
                    static.Symlink("bin/alias", "tool"),
                    static.Symlink("etc/escape", "../../../../outside"),
                    static.Symlink("abs", "/etc/motd"),
                    static.Fifo("run/fifo"),
                ]
            ),
        ),
        static.Step(
            "RUN edit",
            static.layer(
                [
                    static.File("etc/motd", b"new motd\n"),
                    static.Hardlink("bin/hard", "bin/tool"),
                    static.Dir("srv", 0o750),
                    static.File("srv/data", b"d" * 10),
                ]
            ),
        ),
        static.Step(
            "ADD hostile",
            raw_layer(
                [("../../evil", b"E", ""), ("/abs-name", b"A", ""), ("etc/escape/x", b"X", "")]
            ),
        ),
    ]
    archive.write([static.image(steps)], tmp_path / "img.tar")
    (tmp_path / "outside").mkdir()
    return tmp_path


def dw(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, str]:
    group = click.Group("deadweight", commands={"cat": cat, "export": export})
    argv = sys.argv
    sys.argv = ["deadweight", *args]
    try:
        with pytest.raises(SystemExit) as exit_:
            run(group)
    finally:
        sys.argv = argv
    out = capsysbinary.readouterr()
    code = exit_.value.code
    assert isinstance(code, int)
    return code, out.out, out.err.decode()


def test_cat(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert dw(capsysbinary, "cat", "img.tar", "/etc/motd") == (0, b"new motd\n", "")
    assert dw(capsysbinary, "cat", "img.tar", "/abs") == (0, b"new motd\n", "")
    assert dw(capsysbinary, "cat", "img.tar", "bin/hard") == (0, b"T" * 100, "")
    assert dw(capsysbinary, "cat", "img.tar", "/nope") == (
        3, b"", "deadweight: error: /nope: no such file in img.tar\n"
    )  # fmt: skip
    assert dw(capsysbinary, "cat", "img.tar", "/etc") == (
        2, b"", "deadweight: error: /etc: is a directory in img.tar\n"
    )  # fmt: skip


def tree(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            out[rel] = f"-> {os.readlink(p)}"
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = f"dir {stat.S_IMODE(st.st_mode):o}"
        else:
            out[rel] = f"{stat.S_IMODE(st.st_mode):o} {p.read_bytes()[:12]!r} x{st.st_nlink}"
    return out


def test_export_everything_safely(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = dw(capsysbinary, "export", "img.tar", "-o", "out")
    assert code == 0
    assert err == (
        "exported 6 files, 5 directories and 2 symlinks to out (1 devices or fifos skipped); "
        "1 symlinks that pointed outside out now point inside it\n"
    )
    assert tree(env / "out") == {
        "abs": "-> etc/motd",  # rewritten: "/etc/motd" on the host is not the image's
        "abs-name": "644 b'A' x1",
        "bin": "dir 755",
        "bin/alias": "-> tool",
        "bin/hard": "755 b'TTTTTTTTTTTT' x2",  # set-uid dropped; one inode, two names
        "bin/tool": "755 b'TTTTTTTTTTTT' x2",
        "etc": "dir 755",
        "etc/escape": "dir 755",  # the escaping link was replaced by a directory in the image
        "etc/escape/x": "644 b'X' x1",
        "etc/motd": "644 b'new motd\\n' x1",
        "run": "dir 755",
        "srv": "dir 750",
        "srv/data": "644 b'dddddddddd' x1",
    }
    assert list((env / "outside").iterdir()) == []
    assert not (env.parent / "evil").exists()
    assert [p.name for p in env.iterdir() if p.name.startswith(".out")] == []


def test_export_paths_and_refusals(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, _ = dw(capsysbinary, "export", "img.tar", "/srv", "bin/alias", "-o", "part")
    assert code == 0
    assert tree(env / "part") == {
        "bin": "dir 755",
        "bin/alias": "-> tool",
        "srv": "dir 750",
        "srv/data": "644 b'dddddddddd' x1",
    }
    code, _, err = dw(capsysbinary, "export", "img.tar", "-o", "part")
    assert (code, err) == (2, "deadweight: error: part: exists and is not an empty directory\n")
    code, _, err = dw(capsysbinary, "export", "img.tar", "/missing", "-o", "new")
    assert (code, err) == (3, "deadweight: error: /missing: no such file in img.tar\n")
    assert not (env / "new").exists()


def test_export_is_atomic(
    env: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = content.copy_members  # what extraction.files calls
    real_write = stream._write_all

    def failing(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(*args, **kwargs)  # type: ignore[arg-type]

    def failing_write(fd: int, chunk: memoryview | bytes) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_write(fd, chunk)

    # a selection goes through the stacked tree, a whole image layer by layer
    monkeypatch.setattr(extraction_files, "copy_members", failing)
    monkeypatch.setattr(stream, "_write_all", failing_write)
    for paths in ((), ("/srv", "/bin")):
        calls.clear()
        code, _, err = dw(capsysbinary, "export", "img.tar", *paths, "-o", "out")
        assert code == 3
        assert err.startswith("deadweight: error: No space left on device (writing the output")
        # nothing left beside the input but the layer store (a whole export needs none)
        assert sorted(p.name for p in env.iterdir() if p.name != "cache") == ["img.tar", "outside"]


@pytest.mark.parametrize(("size", "layer_by_layer"), [(1000, False), (3, True)])
def test_export_after_the_store_holds_the_deltas_stacks_them_only_when_few(
    env: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    size: int,
    layer_by_layer: bool,
) -> None:
    """With the image's deltas stored (``cat`` read them), ``export`` stacks them to read
    only the layers that hold what it writes, unless they hold more than
    ``partition.SIZE`` members: it then writes layer by layer, in memory that does not grow
    with the files (a million files: 607 MB before, issue 16). The same files either way."""
    from deadweight.cli import files as cli_files
    from deadweight.filetree import partition

    code, _, _ = dw(capsysbinary, "export", "img.tar", "-o", "cold")  # layer by layer
    assert code == 0
    assert dw(capsysbinary, "cat", "img.tar", "/etc/motd")[0] == 0  # the deltas now stored
    monkeypatch.setattr(partition, "SIZE", size)
    ran: list[str] = []
    for name in ("export_all", "export_files"):
        real = getattr(cli_files, name)

        def spy(*args: object, _real: object = real, _name: str = name, **kw: object) -> object:
            ran.append(_name)
            return _real(*args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(cli_files, name, spy)
    code, _, _ = dw(capsysbinary, "export", "img.tar", "-o", "warm")
    assert code == 0
    assert ran == (["export_all"] if layer_by_layer else ["export_files"])
    assert tree(env / "warm") == tree(env / "cold")


def test_cat_and_export_of_a_path_of_a_large_image_look_at_its_views_alone(
    env: Path, capsysbinary: pytest.CaptureFixture[bytes], request: pytest.FixtureRequest
) -> None:
    """Past ``partition.SIZE`` members, ``cat`` and ``export PATH`` stack only the range
    of the path looked up (and its ancestors and the hardlink world), made again when a
    symlink leads out of it: the same bytes, files and errors as the whole tree gives
    (a million files: 327 MB to ``cat`` one, issue 16)."""
    asks = ["/etc/motd", "/abs", "bin/hard", "/bin/alias", "/nope", "/etc", "/run/fifo"]
    small = [dw(capsysbinary, "cat", "img.tar", p) for p in asks]
    # one path; a file below a directory of mode 750; several, one below another, and
    # two names of one inode (bin/tool, bin/hard)
    exports = [["/srv"], ["bin/alias"], ["/etc/escape"], ["/srv/data"],
               ["/etc", "/etc/motd", "/bin/tool", "bin/hard"]]  # fmt: skip
    for i, paths in enumerate(exports):
        assert dw(capsysbinary, "export", "img.tar", *paths, "-o", f"whole{i}")[0] == 0
    made: list[str] = request.getfixturevalue("views_made")  # every image large from here
    assert [dw(capsysbinary, "cat", "img.tar", p) for p in asks] == small
    assert made == ["etc/motd", "abs", "etc/motd", "bin/hard", "bin/alias", "bin/tool", "nope",
                    "etc", "run/fifo"]  # fmt: skip
    for i, paths in enumerate(exports):
        del made[:]
        assert dw(capsysbinary, "export", "img.tar", *paths, "-o", f"views{i}")[0] == 0
        assert tree(env / f"views{i}") == tree(env / f"whole{i}")
        assert made == [p.strip("/") for p in paths if p != "/etc/motd"]  # in /etc's view
    assert tree(env / "views3")["srv"] == "dir 750"
    assert tree(env / "views4")["bin/hard"].endswith("x2")  # still one inode
