"""What a newcomer meets first, through the real ``deadweight`` executable: the bare
command, a typo, a missing file, a lint target holding nothing, and NO_COLOR."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

DEADWEIGHT = Path(sys.executable).with_name("deadweight")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DEADWEIGHT_CACHE_DIR": str(cwd / ".cache"),
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    }
    return subprocess.run(
        [str(DEADWEIGHT), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix("deadweight: error: ")


def test_bare_command_prints_the_help(tmp_path: Path) -> None:
    result = run([], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("Usage: deadweight")
    assert "analyze" in result.stdout and "optimize" in result.stdout


@pytest.mark.parametrize(
    ("typed", "meant"), [("analyse", "analyze"), ("histroy", "history"), ("optimise", "optimize")]
)
def test_mistyped_command_suggests_the_closest(tmp_path: Path, typed: str, meant: str) -> None:
    message = error_line(run([typed, "x"], tmp_path), 2)
    assert message == f"no such command '{typed}'; did you mean '{meant}'? (see deadweight --help)"


def test_unknown_command_without_a_close_one(tmp_path: Path) -> None:
    message = error_line(run(["frobnicate"], tmp_path), 2)
    assert message == "no such command 'frobnicate' (see deadweight --help)"


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["history", "nosuch.tar"], "nosuch.tar"),
        (["analyze", "build/app.tgz"], "build/app.tgz"),
        (["inspect", "layers.zst"], "layers.zst"),
        (["lint", "app/dockerfile"], "app/dockerfile"),
        (["lint", "Dockerfile"], "Dockerfile"),
        (["optimize", "nosuch.tar.gz", "--dry-run"], "nosuch.tar.gz"),
    ],
)
def test_missing_path_is_no_such_file(tmp_path: Path, args: list[str], missing: str) -> None:
    assert error_line(run(args, tmp_path), 3) == f"{missing}: no such file or directory"


def test_lint_empty_dockerfile_is_an_error_finding(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("")
    (tmp_path / "Comments.Dockerfile").write_text("# nothing yet\n\n")
    result = run(["lint", "Dockerfile", "Comments.Dockerfile"], tmp_path)
    assert result.returncode == 1
    message = "DW000 error: The Dockerfile has no instructions: docker refuses to build it"
    assert result.stdout.splitlines() == [
        f"Dockerfile:1 {message}",
        f"Comments.Dockerfile:1 {message}",
    ]


def test_lint_folder_without_dockerfile_exits_2(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print(1)\n")
    message = error_line(run(["lint", "src"], tmp_path), 2)
    assert message == "src: no Dockerfile here (Dockerfile, *.Dockerfile, Dockerfile.*)"


def test_lint_directory_named_dockerfile_exits_2(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").mkdir()
    message = error_line(run(["lint", "Dockerfile"], tmp_path), 2)
    assert message == "Dockerfile: is a directory, not a Dockerfile"


def on_a_terminal(args: list[str], cwd: Path, no_color: bool, stream: str = "stdout") -> str:
    """What the command writes to ``stream`` when that is a terminal (a pty)."""
    env = {**os.environ, "DEADWEIGHT_CACHE_DIR": str(cwd / ".cache"), "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    if no_color:
        env["NO_COLOR"] = "1"
    main, child = pty.openpty()
    other = subprocess.DEVNULL
    proc = subprocess.Popen(
        [str(DEADWEIGHT), *args],
        stdout=child if stream == "stdout" else other,
        stderr=child if stream == "stderr" else other,
        cwd=cwd,
        env=env,
    )
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode()


@pytest.mark.parametrize("no_color", [False, True])
def test_lint_honours_no_color(tmp_path: Path, no_color: bool) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nCMD run it\n")
    out = on_a_terminal(["lint", "Dockerfile"], tmp_path, no_color)
    assert "DL3025" in out
    assert ("\x1b[" in out) is not no_color


@pytest.mark.parametrize("no_color", [False, True])
def test_analyze_honours_no_color(tmp_path: Path, no_color: bool) -> None:
    from deadweight import static
    from deadweight.sources import archive

    img = static.image(
        [static.Step("RUN x", static.layer([static.File("app/a", b"1" * 4096)]))],
        repo_tags=("app:1",),
    )
    archive.write([img], tmp_path / "app.tar")
    out = on_a_terminal(["analyze", "app.tar"], tmp_path, no_color)
    assert "app" in out
    assert ("\x1b[" in out) is not no_color


def test_optimize_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    from deadweight import static
    from deadweight.sources import archive

    img = static.image(
        [static.Step("RUN x", static.layer([static.File("app/a", b"1" * 4096)]))],
        repo_tags=("app:1",),
    )
    archive.write([img], tmp_path / "app.tar")
    err = on_a_terminal(
        ["optimize", "app.tar", "--dry-run", "--no-cache"], tmp_path, True, "stderr"
    )
    assert "reading layers" in err


DEEP = "usr/local/lib/node_modules/npm/node_modules/@npmcli/arborist/lib/arborist/reify-tree.js"


@pytest.fixture
def deep_waste(tmp_path: Path) -> Path:
    from deadweight import static
    from deadweight.sources import archive

    img = static.image(
        [
            static.Step("ADD x /", static.layer([static.File("etc/os-release", b"x\n")])),
            static.Step("RUN npm i -g npm", static.layer([static.File(DEEP, b"x" * 300_000)])),
            static.Step("RUN rm -rf /usr/local", static.layer([static.Whiteout("usr/local")])),
        ],
        repo_tags=("app:1",),
    )
    archive.write([img], tmp_path / "app.tar")
    return tmp_path


def analyze_with(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DEADWEIGHT_CACHE_DIR": str(cwd / ".cache"), **env}
    for key in ("CI", "COLUMNS"):
        if key not in env:
            full.pop(key, None)
    return subprocess.run(
        [str(DEADWEIGHT), "analyze", "app.tar", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=60,
    )


def test_analyze_uses_columns(deep_waste: Path) -> None:
    wide = analyze_with({"COLUMNS": "200"}, deep_waste)
    assert "/" + DEEP in wide.stdout
    narrow = analyze_with({"COLUMNS": "90"}, deep_waste)
    row = next(x for x in narrow.stdout.splitlines() if "reify-tree.js" in x)
    assert "…" in row
    assert max(len(x) for x in narrow.stdout.splitlines() if "│" in x) <= 90


def test_ci_env_makes_analyze_a_gate_and_says_so(deep_waste: Path) -> None:
    gated = analyze_with({"CI": "true"}, deep_waste)
    assert gated.returncode == 1  # dive's behaviour: CI=true evaluates the rules
    assert gated.stderr == "deadweight: CI is set: evaluating the CI rules (as --ci)\n"
    assert "Result: FAIL" in gated.stdout
    asked = analyze_with({"CI": "true"}, deep_waste, "--ci")
    assert asked.returncode == 1 and asked.stderr == ""
    plain = analyze_with({}, deep_waste)
    assert plain.returncode == 0 and plain.stderr == "" and "CI rules" not in plain.stdout
