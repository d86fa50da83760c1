"""The README shows real output and every option: the example archive ``scripts/demo``
builds is built again here and each ``$ deadweight ...`` block the README shows on it is
run and compared line by line (``...`` marks lines left out); every option of every
command is named in the README's section for it (or the page that section links)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from deadweight.cli import COMMANDS
from deadweight.cli._group import cli

ROOT = Path(__file__).parents[3]
README = (ROOT / "README.md").read_text()
# the CREATED column counts from now; the images' dates are fixed
AGO = re.compile(r"\b\d+ days ago")
COMMON = ("--platform", "--insecure", "--no-cache")


def _blocks(text: str) -> list[list[str]]:
    """The fenced blocks of ``text`` (their lines), whatever their language."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def _examples() -> list[tuple[str, list[str]]]:
    """Each README command run on the bundled examples, with the lines shown for it."""
    found: list[tuple[str, list[str]]] = []
    for block in _blocks(README):
        starts = [i for i, line in enumerate(block) if line.startswith("$ deadweight ")]
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(block)
            command = block[start].removeprefix("$ deadweight ")
            if "examples/" in command:
                lines = block[start + 1 : end]
                while lines and not lines[-1]:
                    lines.pop()
                found.append((command, lines))
    return found


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as the repository after ``scripts/demo``: ``examples/out`` holds
    the archive built afresh, ``examples/backend-node`` is the repository's own."""
    work = tmp_path_factory.mktemp("readme")
    (work / "examples").mkdir()
    (work / "examples" / "backend-node").symlink_to(ROOT / "examples" / "backend-node")
    archive = work / "examples" / "out" / "backend-node.tar"
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "build_example.py"), str(archive)], check=True
    )
    return work


def _normal(lines: list[str]) -> list[str]:
    return [AGO.sub("N days ago", line.rstrip()) for line in lines]


def _shows(shown: list[str], real: list[str]) -> str | None:
    """Why ``shown`` (with ``...`` for lines left out) is not ``real``, or None."""
    segments: list[list[str]] = [[]]
    for line in shown:
        if line == "...":
            segments.append([])
        else:
            segments[-1].append(line)
    at = 0
    for n, segment in enumerate(segments):
        if not segment:
            continue
        anywhere = n > 0  # after a `...`: further down
        starts = range(at, len(real) - len(segment) + 1) if anywhere else [at]
        match = next((i for i in starts if real[i : i + len(segment)] == segment), None)
        if match is None:
            return f"not in the output (from line {at + 1}): {segment[0]!r}"
        at = match + len(segment)
    if segments[-1] and at != len(real):
        return f"the output goes on (end the block with `...`): {real[at]!r}"
    return None


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_output_is_real(workdir: Path, command: str, shown: list[str]) -> None:
    env = dict(os.environ, DEADWEIGHT_CACHE_DIR=str(workdir / "cache"), NO_COLOR="1")
    env.pop("CI", None)
    done = subprocess.run(
        [sys.executable, "-c", "from deadweight.cli import main; main()", *shlex.split(command)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    real = _normal((done.stdout + done.stderr).rstrip("\n").split("\n"))
    assert _shows(_normal(shown), real) is None, _shows(_normal(shown), real)


def test_the_examples_cover_the_demo() -> None:
    shown = {command.split()[0] for command, _ in EXAMPLES}
    assert {"images", "history", "diff", "lint", "optimize", "export"} <= shown


def _sections() -> dict[str, str]:
    """Each command's README text: its sections and the pages they link."""
    text: dict[str, str] = {}
    parts = re.split(r"^(?=#{2,3} )", README, flags=re.M)
    for part in parts:
        heading = part.split("\n", 1)[0]
        if not heading.startswith("### `deadweight "):
            continue
        body = part
        for page in re.findall(r"\]\((docs/[\w.-]+\.md)\)", part):
            body += (ROOT / page).read_text()
        for name in re.findall(r"`deadweight (\w+)", heading):
            text[name] = text.get(name, "") + body
    return text


def _named(option: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_every_option_is_documented() -> None:
    sections = _sections()
    common = next(p for p in re.split(r"^(?=#{2,3} )", README, flags=re.M) if "Common options" in p)
    assert all(_named(option, common) for option in COMMON)
    ctx = click.Context(cli)
    missing = []
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        assert command is not None
        section = sections.get(name, "")
        assert section, f"no README section for `deadweight {name}`"
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            for option in [*param.opts, *param.secondary_opts]:
                if option in ("-h", "--help") or _named(option, section):
                    continue
                if option in COMMON and "common options" in section.lower():
                    continue
                missing.append(f"{name} {option}")
    assert not missing, f"options the README does not name: {missing}"
