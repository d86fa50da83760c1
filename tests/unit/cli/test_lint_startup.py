"""``deadweight lint FILE`` starts with what a Dockerfile lint needs (issue 14): editors
and pre-commit hooks run it once per file. Modules, not time: no timing asserts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_PROBE = """
import json, os, sys
os._exit = sys.exit  # the fast path exits with os._exit: the modules are listed after it
sys.argv = ["deadweight", *sys.argv[1:]]
from deadweight.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""

HEAVY = ("click", "yaml", "typing", "rich", "deadweight.imagelint", "deadweight.sources")
# dataclasses (with inspect) and subprocess were a third of the start-up: records and
# os.posix_spawnp instead; a file named on the command line needs no pathlib
COSTLY = ("dataclasses", "inspect", "subprocess", "pathlib")


def _modules(*args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=False
    )
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


@pytest.mark.parametrize(
    "options", [[], ["--format", "json"], ["--failure-threshold=error", "--ignore", "DL3006"]]
)
def test_linting_a_dockerfile_loads_no_heavy_module(tmp_path: Path, options: list[str]) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nRUN echo $X | cat\n")
    loaded = _modules("lint", *options, str(dockerfile))
    assert "deadweight.dockerfile.linting" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}
    assert not loaded & set(COSTLY)


def test_other_calls_still_go_through_click(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\n")
    assert "click" in _modules("lint", "--diff", str(dockerfile))
    assert "click" in _modules("lint", "--explain", "DL3006")


@pytest.mark.parametrize(
    "options",
    [
        ["--format", "json"],
        ["--format=sarif", "--ignore", "DW001", "--ignore=DW015"],
        ["--failure-threshold", "none"],
    ],
)
def test_the_fast_path_answers_as_the_click_command(tmp_path: Path, options: list[str]) -> None:
    from click.testing import CliRunner

    from deadweight.cli.lint import lint

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian\nRUN cd /x && echo $X | cat\nUSER app\n")
    env = {"DEADWEIGHT_SHELLCHECK": "off", "NO_COLOR": "1"}
    fast = subprocess.run(
        [sys.executable, "-c", "from deadweight.cli import main; main()", "lint"]
        + [*options, str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )
    slow = CliRunner().invoke(lint, [*options, str(dockerfile)], env=env)
    assert (fast.returncode, fast.stdout) == (slow.exit_code, slow.output)
