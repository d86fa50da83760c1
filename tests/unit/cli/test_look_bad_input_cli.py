"""Bad input for the reports and the explorer (issue 15), through the real executable: an
image that cannot be read gives the one line every other command gives for it, and no
report; a report path that cannot be written is refused before the image is even looked
for. (A terminal too small is said in the explorer itself: ``tests/unit/tui``.)"""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest
from test_errors_cli import DEADWEIGHT, assert_one_error_line, run

from deadweight import static
from deadweight.sources import archive

READERS = {
    "analyze --html": ["analyze", "{img}", "--html", "r.html"],
    "diff --html": ["diff", "{img}", "{img}", "--html", "r.html"],
    "optimize --html": ["optimize", "{img}", "-o", "out.tar", "--html", "r.html"],
    "minify --html": ["minify", "{img}", "-o", "out.tar", "--static", "--html", "r.html"],
}


def broken_images(tmp_path: Path) -> dict[str, Path]:
    """Not an archive at all, and an archive whose one layer is cut short."""
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive\n" * 40)
    whole = tmp_path / "whole.tar"
    big = static.File("data.bin", os.urandom(200_000))
    archive.write([static.image([static.Step("ADD data.bin /", static.layer([big]))],
                                repo_tags=("cut:1",))], whole)  # fmt: skip
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    return {"junk": junk, "cut": cut}


def in_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run with stdin, stdout and stderr on a pseudo-terminal (the explorer wants one)."""
    main, side = pty.openpty()
    env = {**os.environ, "DEADWEIGHT_CACHE_DIR": str(cwd / "cache"), "TERM": "xterm"}
    try:
        proc = subprocess.run([str(DEADWEIGHT), *args], stdin=side, stdout=side, stderr=side,
                              cwd=cwd, env=env, timeout=120)  # fmt: skip
        os.close(side)
        out = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the other side is closed and drained
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(main)
    return proc.returncode, out.decode(errors="replace").replace("\r\n", "\n")


def test_an_unreadable_image_is_the_same_one_line_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    images = broken_images(tmp_path)
    for which, commands in (
        ("cut", READERS),
        ("junk", {"analyze --html": READERS["analyze --html"]}),
    ):
        img = str(images[which])
        said = assert_one_error_line(run(["analyze", img], tmp_path), 3)
        assert img in said
        for name, args in commands.items():
            result = run([a.replace("{img}", img) for a in args], tmp_path)
            assert assert_one_error_line(result, 3) == said, name
            assert not (tmp_path / "r.html").exists() and not (tmp_path / "out.tar").exists()
        code, screen = in_a_terminal(["explore", img], tmp_path)
        assert code == 3 and screen.strip().splitlines() == [f"deadweight: error: {said}"], screen


def test_an_unwritable_report_path_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = str(tmp_path / "no-such.tar")
    for name, command in READERS.items():
        args = [a.replace("{img}", missing) for a in command]
        args[args.index("r.html")] = str(tmp_path / "nodir" / "r.html")
        said = assert_one_error_line(run(args, tmp_path), 2)
        assert "nodir" in said and "no-such.tar" not in said, (name, said)
    said = assert_one_error_line(
        run(["scan", missing, "--html", str(tmp_path / "nodir" / "s.html")], tmp_path), 2
    )
    assert "nodir" in said and "no-such.tar" not in said, said
