"""A newcomer's first commands, for real: the README's install command into a fresh
virtualenv, then ``deadweight --version`` from PATH; and ``scripts/demo`` in a copy of the
project, whose venv must hold deadweight's runtime and no dev tool.

Both install with pip for real (a wheel built from a copy of the project, with build
isolation). To stay quick, the dependencies already installed in this test run's venv are
lent to the new venv through a ``.pth`` file: the runtime closure only, so a dev tool the
demo asked for would have to be installed into the new venv, where the test looks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
DEV_TOOLS = ("pytest", "mypy", "ruff", "hypothesis", "import_linter", "xdist")


def runtime_closure() -> set[str]:
    """The distributions deadweight needs at run time (markers evaluated), transitively."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = ["deadweight"]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen - {"deadweight"}


def lend_runtime(dest: Path) -> Path:
    """A folder of links to the installed runtime dependencies (and pip, setuptools)."""
    dest.mkdir()
    purelib = Path(sysconfig.get_paths()["purelib"])
    for dist in metadata.distributions():
        key = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        if key not in runtime_closure() | {"pip", "setuptools"}:
            continue
        for file in dist.files or ():
            top = Path(str(file)).parts[0]
            if top == ".." or (dest / top).exists() or not (purelib / top).exists():
                continue
            (dest / top).symlink_to(purelib / top)
    return dest


def fresh_venv(path: Path, lent: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = Path(
        subprocess.run(
            [
                str(path / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "_lent_runtime.pth").write_text(f"{lent}\n")
    return site


def project_copy(dest: Path) -> Path:
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_readme_install_command_puts_deadweight_on_path(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    command = "~/.venvs/deadweight/bin/python3 -m pip install ."
    assert command in readme, "the README's install command changed: change this test too"
    project = project_copy(tmp_path / "clone")
    venv = tmp_path / "home" / ".venvs" / "deadweight"
    site = fresh_venv(venv, lend_runtime(tmp_path / "lent"))
    # the README's command; --no-deps: the dependencies are lent (module docstring)
    install = subprocess.run(
        [str(venv / "bin" / "python3"), "-m", "pip", "install", "-q", "--no-deps", "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    version = subprocess.run(
        ["deadweight", "--version"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"deadweight, version {metadata.version('deadweight')}\n"
    where = subprocess.run(
        ["python3", "-c", "import deadweight; print(deadweight.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert Path(where).is_relative_to(site), where


def test_demo_runs_with_the_runtime_only(tmp_path: Path) -> None:
    project = project_copy(tmp_path / "clone")
    site = fresh_venv(project / ".venv", lend_runtime(tmp_path / "lent"))
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "NO_COLOR")}
    env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"  # the demo needs no engine
    demo = subprocess.run(
        [str(project / "scripts" / "demo")], capture_output=True, text=True, env=env, timeout=900
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    installed = {p.name.lower() for p in site.iterdir()}
    assert not [
        t for t in DEV_TOOLS if t in installed or any(n.startswith(t + "-") for n in installed)
    ]
    assert any(n.startswith("__editable__") or n.startswith("deadweight") for n in installed)
    out = demo.stdout
    for shown in (
        "$ deadweight images examples/out/backend-node.tar",
        "$ deadweight analyze examples/out/backend-node.tar:backend-node",
        "Recommendations",
        "DW002 warning: `npm install -g npm@...` upgrades npm inside the image",
        "DW101 warning: The image runs as root",
        "Plan: backend-node:latest (level moderate, squash own)",
        "Wrote docker-archive:examples/out/optimized.tar:backend-node:latest-deadweight",
        "backend-node:latest -> backend-node-opt:latest     8.31MB -> 6.12MB",
    ):
        assert shown in out, shown
    assert (project / "examples" / "out" / "optimized.tar").is_file()
