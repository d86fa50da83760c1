"""The CLI's one error handler, through the real ``deadweight`` executable.

Every failure is exactly one stderr line ``deadweight: error: ...``, no traceback, and the
exit code of its class: 2 usage, 3 runtime (docker-formats.md aside, ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deadweight import static
from deadweight.sources import archive

DEADWEIGHT = Path(sys.executable).with_name("deadweight")


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert DEADWEIGHT.is_file(), f"{DEADWEIGHT} missing: pip install -e . in this venv"
    env = {
        **os.environ,
        "DEADWEIGHT_CACHE_DIR": str(tmp_path / "cache"),
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",  # never reach a real engine
    }
    env.pop("DEADWEIGHT_DEBUG", None)
    return subprocess.run(
        [str(DEADWEIGHT), *args], capture_output=True, text=True, env=env, timeout=120
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n")
    assert lines[0].startswith("deadweight: error: ")
    return lines[0].removeprefix("deadweight: error: ")


def files_of(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and "cache" not in p.parts
    }


@pytest.mark.parametrize("command", ["history", "inspect", "images"])
def test_missing_file_exits_3(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "missing.tar"
    message = assert_one_error_line(run([command, str(missing)], tmp_path), 3)
    assert message == f"{missing}: no such file or directory"


def test_missing_file_with_transport_exits_3(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar"
    message = assert_one_error_line(run(["history", f"docker-archive:{missing}"], tmp_path), 3)
    assert message == f"{missing}: no such file or directory"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("Not/Valid", "invalid reference format: repository name must be lowercase: 'Not/Valid'"),
        ("docker-daemon:UP", "invalid reference format: repository name must be lowercase: 'UP'"),
        ("docker://a@sha256:zz", "invalid reference format: bad digest in 'a@sha256:zz'"),
    ],
)
def test_invalid_reference_exits_2(tmp_path: Path, ref: str, message: str) -> None:
    assert assert_one_error_line(run(["history", ref], tmp_path), 2) == message


def test_corrupt_archive_exits_3_and_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "noise.tar"
    path.write_bytes(b"NOISE!" + random.Random(42).randbytes(30000))
    before = files_of(tmp_path)
    message = assert_one_error_line(run(["history", str(path)], tmp_path), 3)
    assert message.startswith(f"{path}: not an image archive (")
    assert files_of(tmp_path) == before


def test_truncated_archive_exits_3_and_is_untouched(tmp_path: Path) -> None:
    full = tmp_path / "full.tar"
    layer = static.layer([static.File("a", b"a" * 5000)])
    archive.write([static.image([static.Step("RUN", layer)], repo_tags=("t:1",))], full)
    data = full.read_bytes()
    full.unlink()
    path = tmp_path / "half.tar"
    path.write_bytes(data[: len(data) // 2])
    before = files_of(tmp_path)
    message = assert_one_error_line(run(["history", f"docker-archive:{path}"], tmp_path), 3)
    assert message.startswith(f"{path}: truncated archive (member ")
    assert files_of(tmp_path) == before


def test_several_images_without_ref_exits_3(tmp_path: Path) -> None:
    a = static.image([static.Step("RUN a", static.layer([]))], repo_tags=("a:1",))
    b = static.image([static.Step("RUN b", static.layer([static.File("b")]))], repo_tags=("b:1",))
    path = tmp_path / "two.tar"
    archive.write([a, b], path)
    message = assert_one_error_line(run(["history", str(path)], tmp_path), 3)
    assert message == f"docker-archive:{path}: holds 2 images (a:1, b:1); name one with :REF"


def test_bad_platform_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "one.tar"
    archive.write([static.image([static.Step("RUN", static.layer([]))])], path)
    message = assert_one_error_line(run(["history", "--platform", "linux", str(path)], tmp_path), 2)
    assert message == "invalid platform 'linux': expected os/arch[/variant]"


def test_bad_bool_flag_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "one.tar"
    archive.write([static.image([static.Step("RUN", static.layer([]))])], path)
    message = assert_one_error_line(run(["history", "-H=maybe", str(path)], tmp_path), 2)
    assert message == 'invalid argument "maybe" for "human" flag: parse error'


def test_unknown_option_exits_2(tmp_path: Path) -> None:
    message = assert_one_error_line(run(["history", "--bogus", "x"], tmp_path), 2)
    assert message.startswith("No such option")  # click's wording varies by version
    assert "--bogus" in message


def test_missing_argument_exits_2(tmp_path: Path) -> None:
    message = assert_one_error_line(run(["history"], tmp_path), 2)
    assert message == "Missing argument 'IMAGE'."


def test_success_exits_0_with_nothing_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "ok.tar"
    archive.write(
        [static.image([static.Step("RUN ok", static.layer([static.File("f", b"12")]))])], path
    )
    result = run(["history", "--no-cache", str(path)], tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert "RUN ok" in result.stdout


# --- the handler itself, with a tiny command (exit codes by error class) ----------------

HANDLER = textwrap.dedent(
    """
    import sys
    import click
    from deadweight import errors
    from deadweight.cli._errors import run

    @click.command()
    @click.argument("expr")
    def cmd(expr):
        exc = eval(expr, {"errors": errors})
        if exc is not None:
            raise exc
        click.echo("fine")

    run(cmd)
    """
)


@pytest.mark.parametrize(
    ("expr", "code", "message"),
    [
        (
            "errors.NotFound('x.tar: no such file or directory')",
            3,
            "x.tar: no such file or directory",
        ),
        (
            "errors.InvalidReference('invalid reference format: X')",
            2,
            "invalid reference format: X",
        ),
        ("errors.UsageError('bad usage')", 2, "bad usage"),
        ("errors.DigestMismatch('a\\n  second line')", 3, "a"),
        ("errors.CorruptImage('tabs\\tand   spaces')", 3, "tabs and spaces"),
        ("errors.AuthError('denied', 401)", 3, "denied"),
        (
            "FileNotFoundError(2, 'No such file or directory', 'f.txt')",
            3,
            "f.txt: No such file or directory",
        ),
        (
            "ValueError('boom')",
            3,
            "internal error: ValueError: boom (DEADWEIGHT_DEBUG=1 shows more)",
        ),
    ],
)
def test_handler_maps_errors(tmp_path: Path, expr: str, code: int, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HANDLER, expr], capture_output=True, text=True, timeout=120
    )
    assert assert_one_error_line(result, code) == message


def test_a_full_disk_says_where_temp_files_go(tmp_path: Path) -> None:
    """A full disk met by an unnamed file (a spool, a spill of a large image's entries)
    names no file: the message says where temp files go and how to move them."""
    env = {**os.environ, "DEADWEIGHT_TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", HANDLER, "OSError(28, 'No space left on device')"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert assert_one_error_line(result, 3) == (
        f"No space left on device (writing the output, or temp files in {tmp_path}: "
        "DEADWEIGHT_TMPDIR chooses another folder for them)"
    )
    named = "OSError(28, 'No space left on device', 'out/x')"
    result = subprocess.run(
        [sys.executable, "-c", HANDLER, named], capture_output=True, text=True, timeout=120
    )
    assert assert_one_error_line(result, 3) == "out/x: No space left on device"


def test_handler_success(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HANDLER, "None"], capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "fine\n", "")


def test_handler_interrupt_exits_130(tmp_path: Path) -> None:
    # click turns KeyboardInterrupt into Abort after printing a newline (after the ^C).
    result = subprocess.run(
        [sys.executable, "-c", HANDLER, "KeyboardInterrupt()"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 130
    assert result.stderr.strip().splitlines() == ["deadweight: error: interrupted"]


def test_images_filter_on_an_archive(tmp_path: Path) -> None:
    a = static.image([static.Step("RUN a", static.layer([]))], repo_tags=("a:1", "b:1"))
    old = static.image(
        [static.Step("RUN o", static.layer([static.File("o")]), created="2020-01-01T00:00:00Z")]
    )
    path = tmp_path / "two.tar"
    archive.write([a, old], path)
    fmt = ["--format", "{{.Repository}}:{{.Tag}}"]
    result = run(["images", "-f", "reference=b", *fmt, str(path)], tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "b:1\n", "")
    result = run(["images", "--filter", "dangling=true", *fmt, str(path)], tmp_path)
    assert (result.returncode, result.stdout) == (0, "<none>:<none>\n")
    result = run(["images", "--filter", "before=a:1", *fmt, str(path)], tmp_path)
    assert (result.returncode, result.stdout) == (0, "<none>:<none>\n")
    message = assert_one_error_line(run(["images", "-f", "since=c", str(path)], tmp_path), 3)
    assert message == "No such image: c:latest"
    message = assert_one_error_line(run(["images", "-f", "size=1", str(path)], tmp_path), 2)
    assert message == "Invalid filter 'size'"
