"""Hostile Dockerfiles (issues 14 and 16): findings, never an internal error, and work
linear in the size of the input.

The scaling tests count the lines of Python the linter runs (``sys.settrace``), not time:
a quadratic rule runs sixteen times the lines when the input is four times larger, a
linear one four.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight.dockerfile.findings import LintResult
from deadweight.dockerfile.linting import lint
from deadweight.dockerfile.parser import parse
from deadweight.dockerfile.shell import read_script
from deadweight.render.lint import render_tty


@pytest.mark.parametrize(
    "first",
    ["\\", "\f", "\v", "\u00a0", "\u0085", "\u2028", "\x1c", "\x1d", "\x1e", "\r"],
    ids=repr,
)
def test_odd_first_characters_are_findings(first: str) -> None:
    result = lint(first + "FROM debian:12\n" if first != "\\" else first)
    assert all(f.code.startswith(("DL", "DW")) for f in result.findings)
    if first not in ("\\", "\r"):
        # BuildKit reads these as part of the instruction word, as hadolint does; its
        # message (kept whole for the machine formats) is one printable line on a tty
        assert [f.code for f in result.findings][:1] == ["DL1000"]
        assert result.findings[0].message.startswith("unexpected ")
        shown = render_tty([result]).splitlines()
        assert shown[0].startswith("Dockerfile:1 DL1000 error: unexpected ")
        assert all(line.isprintable() for line in shown)


def test_binary_file_is_one_finding() -> None:
    result = lint(b"\x7fELF\x02\x01\x00\x00\nFROM x\n\x00\xff".decode("latin-1"))
    assert [f.code for f in result.findings] == ["DL1000"]
    assert "not a text file" in result.findings[0].message


def test_deep_exec_form_is_shell_form() -> None:
    ins = parse("CMD " + "[" * 5000 + "\n").instructions[0]
    assert ins.exec_form is None


def test_onbuild_chain_is_one_level_deep() -> None:
    df = parse("FROM a:1\n" + "ONBUILD " * 5000 + "RUN x\n")
    onbuild = df.instructions[1]
    assert onbuild.trigger is not None and onbuild.trigger.keyword == "ONBUILD"
    assert onbuild.trigger.trigger is None
    assert "DL3043@2" in [f"{f.code}@{f.line}" for f in lint(df.source).findings]


def test_nested_command_substitution_is_bounded() -> None:
    script = read_script("echo " + "$(" * 2000 + "apt-get install x" + ")" * 2000)
    names = [c.name for c in script.commands]
    assert names[-1] == "echo" and "apt-get" not in names  # past the bound: one word
    # inside the bound the commands are still read
    shallow = read_script("echo $(echo $(apt-get install x))")
    assert sorted(c.name for c in shallow.commands) == ["apt-get", "echo", "echo"]
    lint("FROM a:1\nRUN " + '"$(' * 3000 + "\n")


def _steps(fn: Callable[[], object]) -> int:
    """Lines of Python executed by ``fn``, loop iterations in generators included."""
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:  # sys.settrace's type
        nonlocal count
        count += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


SCALING: dict[str, Callable[[int], str]] = {
    "ENV with many words": lambda n: "FROM a:1\nENV A=a " + "a " * n + "\n",
    "ENV with many keys": lambda n: (
        "FROM a:1\nENV " + " ".join(f"K{i}=$K{i - 1}" for i in range(1, n)) + "\n"
    ),
    "many RUN lines": lambda n: "FROM a:1\n" + "RUN pip install x==1\n" * n,
    "long COPY line": lambda n: "FROM a:1\nCOPY " + "a.tar " * n + "/dst/\n",
    "many stages": lambda n: (
        "FROM a:1 AS s0\n"
        + "".join(f"FROM s{i - 1} AS s{i}\nCOPY --from=s{i - 1} / /\n" for i in range(1, n))
    ),
    "many pragmas": lambda n: "FROM a:1\n" + "# hadolint ignore=DL3059\nRUN a\n" * n,
    # rules asking per RUN about the stages below it, or whether a later FROM uses it
    "RUNs in chained stages": lambda n: (
        "FROM a:1 AS s0\n"
        + "".join(
            f"FROM s{i - 1} AS s{i}\nRUN npm ci && npm install -g npm@8 && pip install x\n"
            f"RUN apt-get update && yarn install\n"
            for i in range(1, n)
        )
    ),
    "RUNs after NODE_ENV": lambda n: "FROM a:1\nENV NODE_ENV=dev\n" + "RUN npm ci\n" * n,
    "downloads removed later": lambda n: (
        "FROM a:1\n"
        + "".join(f"RUN wget https://x/f{i}.tgz\n" for i in range(n))
        + "".join(f"RUN rm /g{i} /f{i}.tgz\n" for i in range(n))
    ),
    "archives copied and extracted": lambda n: (
        "FROM a:1\n" + "".join(f"COPY a{i}.tgz /\nRUN tar -xf b{i}.tgz\n" for i in range(n))
    ),
    "stage pragmas": lambda n: "".join(
        f"# hadolint stage ignore=DL3006\nFROM a AS s{i}\nRUN a\nRUN b\n" for i in range(n)
    ),
}


@pytest.mark.parametrize("name", SCALING)
def test_work_is_linear_in_the_input(name: str) -> None:
    make = SCALING[name]
    small = _steps(lambda: lint(make(100)))
    large = _steps(lambda: lint(make(400)))
    # linear: 4x the calls for 4x the input (quadratic would be 16x); slack for set-up
    assert large < 6 * small, (small, large)


@settings(max_examples=150, deadline=None, database=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_lint_to_findings(data: bytes) -> None:
    source = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    assert isinstance(lint(source), LintResult)


_ALPHABET = st.sampled_from(
    [
        "FROM a:1 AS b\n",
        "RUN ",
        "ONBUILD ",
        "COPY ",
        "ENV ",
        "ARG ",
        "SHELL ",
        "CMD ",
        "USER ",
        "HEALTHCHECK ",
        "<<EOF\n",
        "EOF\n",
        "<<-'E'\n",
        "\\\n",
        "[",
        "]",
        '"',
        "'",
        "$(",
        ")",
        "`",
        "${",
        "}",
        "=",
        " ",
        "\t",
        "\n",
        "# hadolint ignore=DL3008\n",
        "# escape=`\n",
        "apt-get install -y x",
        "&&",
        "|",
        ";",
        "if true; then ",
        "fi",
        "--mount=type=cache,target=/var/lib/apt ",
        "\f",
        "\u2028",
        "\x00",
        "\r",
    ]
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_dockerfile_like_text_lints_to_findings(source: str) -> None:
    result = lint(source)
    assert isinstance(result, LintResult)
    for f in result.findings:
        assert f.line >= 1 and "\n" not in f.code


def test_cli_never_reports_an_internal_error(tmp_path: Path) -> None:
    files = []
    for i, data in enumerate(
        [b"\\", b"\x0cFROM x\n", b"\xc2\xa0FROM x", b"\xe2\x80\xa8FROM x", b"\x00\x01\xff\xfe"]
    ):
        path = tmp_path / f"{i}.Dockerfile"
        path.write_bytes(data)
        files.append(str(path))
    # the real entry point, with its one error handler
    out = subprocess.run(
        [sys.executable, "-c", "from deadweight.cli import main; main()", "lint", "--format"]
        + ["json", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1, out.stderr  # DL1000 findings fail at the default threshold
    assert out.stderr == ""
    assert json.loads(out.stdout)
