"""Classes of difference with hadolint 2.15.1 found by ``bench/lint_differential.py`` on
real-world Dockerfiles, each reproduced by a small file of ours in ``differential/``.

Each ``NAME.Dockerfile`` sits beside ``NAME.hadolint.json``, hadolint 2.15.1's output
made as ``corpus/README.md`` describes (no configuration, ``hadolint --format json
NAME.Dockerfile`` in this folder). Ours must give the same sorted ``(code, line, level,
message)`` rows, ShellCheck's SC findings included; where hadolint is wrong,
``HADOLINT_WRONG`` says what we report instead, and why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lint_tools import tool

from deadweight.dockerfile.linting import lint

CASES = Path(__file__).parent / "differential"
NAMES = sorted(p.name.removesuffix(".Dockerfile") for p in CASES.glob("*.Dockerfile"))

Row = tuple[str, int, str, str]

# name -> (why hadolint is wrong, the (code, line) pairs we report instead)
# BuildKit builds them all; hadolint 2.15.1's parser refuses them with a DL1000 and then
# runs no rule. We read them as BuildKit does and report what the rules find.
HADOLINT_WRONG: dict[str, tuple[str, list[tuple[str, int]]]] = {
    # upstream issue 1137: its heredoc parser wants a blank line after the terminator (the
    # corpus's python-uv-cache-heredoc is the same with an instruction after it)
    "wrong-heredoc-then-comment": ("a comment right after a heredoc's terminator", []),
    # BuildKit's parser (commands_runmount.go) asks no target of a bind or cache mount,
    # and moby/buildkit's and docker/buildx's own Dockerfiles use such mounts
    "wrong-mount-without-target": ("--mount=type=bind without target", []),
    # BuildKit skips a line of blanks inside a continuation (with a warning); hadolint
    # ends the instruction there and fails on the next line
    "wrong-blank-continuation-line": ("a line of blanks inside a continuation", []),
    # BuildKit (dockerfile 1.4) reads a heredoc after ADD as after COPY; hadolint 2.15.1's
    # parser only after RUN and COPY, so the body's first line is its DL1000
    "wrong-add-heredoc": ("a heredoc after ADD", [("DL3066", 10)]),
    # BuildKit's continuation (parser.go) is an escape at the end of a line that no other
    # escape precedes; hadolint's RUN reader takes ``\\`` then the line break apart,
    # reads the next line into the RUN and fails at its end (its COPY reader fails at the
    # line break: docker-library's mongo nanoserver COPY ending in ``System32\\``)
    "wrong-escaped-escape-ends-run": ("a RUN line ending in an escaped escape", [("DL3059", 4)]),
    # BuildKit reads the array as JSON (``\\`` a backslash, ``\"`` a quote); hadolint's
    # string reader fails on a run of escapes before a quote and reads the shell form
    "wrong-json-escaped-quote": ('an exec form with \\ then " in a string', []),
    # the other way round: ``"C:\ServiceMonitor.exe"`` is no JSON (``\S``), so BuildKit
    # runs a shell form (docker/labs' Windows images); hadolint keeps the backslash
    "wrong-json-invalid-escape": ("an exec form with an escape JSON lacks", [("DL3025", 4)]),
}

# BuildKit refuses these; hadolint 2.15.1 reads them. We report the DL1000 BuildKit's
# error deserves, in hadolint's words for what it expected there.
BUILDKIT_REFUSES: dict[str, tuple[str, list[tuple[str, int]]]] = {
    # ``FROM IMAGE WORD...`` that is no ``AS NAME``: BuildKit wants one or three
    # arguments; hadolint reads an instruction that starts at the keyword
    "wrong-from-then-instruction": ("FROM with an instruction after the image", [("DL1000", 3)]),
}


def _rows(data: list[dict[str, object]]) -> list[Row]:
    out = []
    for d in data:
        line = d["line"]
        assert isinstance(line, int)
        out.append((str(d["code"]), line, str(d["level"]), str(d["message"])))
    return sorted(out)


def _ours(name: str, shellcheck: str) -> list[Row]:
    result = lint((CASES / f"{name}.Dockerfile").read_text(), shellcheck=shellcheck)
    return sorted(
        (f.code, f.line, f.severity.label, f.message)
        for f in result.findings
        if not f.code.startswith("DW")
    )


def test_there_are_cases() -> None:
    assert len(NAMES) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_case_matches_hadolint(name: str) -> None:
    ours = _ours(name, tool("shellcheck"))
    theirs = _rows(json.loads((CASES / f"{name}.hadolint.json").read_text()))
    if name in HADOLINT_WRONG or name in BUILDKIT_REFUSES:
        _why, expected = {**HADOLINT_WRONG, **BUILDKIT_REFUSES}[name]
        assert [(c, ln) for c, ln, _, _ in ours] == expected
        assert ours != theirs
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", NAMES)
def test_recording_is_hadolints(name: str, tmp_path: Path) -> None:
    """The stored JSON is what hadolint 2.15.1 prints for the case today."""
    hadolint = tool("hadolint")
    version = subprocess.run([hadolint, "--version"], capture_output=True, text=True).stdout
    assert "2.15.1" in version
    shutil.copy(CASES / f"{name}.Dockerfile", tmp_path / f"{name}.Dockerfile")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    out = subprocess.run(
        [hadolint, "--format", "json", f"{name}.Dockerfile"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.stdout == (CASES / f"{name}.hadolint.json").read_text()
