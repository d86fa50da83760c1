"""scripts/bootstrap and scripts/test, run by bash against stand-ins for the commands they
call (id, sudo, apt-get, python3, pytest): which packages and pip extras they ask for, as
root, through sudo or neither, and that a test run leaves no temp directory behind."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
TOOLS = ("dirname", "env", "cat", "mkdir", "chmod", "rm", "mktemp", "touch", "ls")


def stub(path: Path, body: str) -> None:
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the scripts in an empty project, and a bin/ of stand-ins only."""
    (tmp_path / "scripts").mkdir()
    for name in ("bootstrap", "test"):
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in TOOLS:
        real = shutil.which(tool)
        assert real, tool
        (bin_ / tool).symlink_to(real)
    log = tmp_path / "log"
    stub(bin_ / "id", 'echo "$FAKE_UID"\n')
    stub(bin_ / "apt-get", f'echo "apt-get $*" >> {log}\n')
    # python3: no ensurepip (a stock Debian without python3-venv); `-m venv DIR` makes a
    # DIR/bin/python that logs what pip is asked to install
    stub(
        bin_ / "python3",
        f"""if [ "$1" = -c ]; then exit 1; fi
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/bash\\necho "pip $*" >> {log}\\n' > "$3/bin/python"
  chmod +x "$3/bin/python"
fi
""",
    )
    return tmp_path


def bootstrap(repo: Path, *args: str, uid: str, sudo: bool) -> subprocess.CompletedProcess[str]:
    if sudo:
        stub(repo / "bin" / "sudo", f'echo "sudo $*" >> {repo / "log"}\n"$@"\n')
    env = {"PATH": str(repo / "bin"), "FAKE_UID": uid, "HOME": str(repo)}
    return subprocess.run(
        ["/bin/bash", str(repo / "scripts" / "bootstrap"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def log(repo: Path) -> list[str]:
    path = repo / "log"
    return path.read_text().splitlines() if path.exists() else []


def test_root_installs_python3_venv_without_sudo(repo: Path) -> None:
    r = bootstrap(repo, "--runtime", uid="0", sudo=True)
    assert r.returncode == 0, r.stderr
    lines = log(repo)
    assert not [x for x in lines if x.startswith("sudo")]
    assert "apt-get update -qq" in lines
    install = next(x for x in lines if x.startswith("apt-get") and " install " in x)
    assert install.endswith(" python3-venv")
    assert lines[-1] == "pip -m pip install -q --disable-pip-version-check -e ."


def test_a_user_goes_through_sudo(repo: Path) -> None:
    r = bootstrap(repo, "--python-only", uid="1000", sudo=True)
    assert r.returncode == 0, r.stderr
    lines = log(repo)
    assert "sudo apt-get update -qq" in lines
    assert lines[-1] == "pip -m pip install -q --disable-pip-version-check -e .[dev]"


def test_a_user_without_sudo_is_told_what_to_do(repo: Path) -> None:
    r = bootstrap(repo, "--runtime", uid="1000", sudo=False)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "bootstrap: installing python3-venv\n"
        "bootstrap: root is needed for: apt-get update -qq (run as root, or install sudo)"
    )
    assert not (repo / ".venv").exists()


def test_runtime_mode_asks_pip_for_no_dev_tools(repo: Path) -> None:
    assert bootstrap(repo, "--runtime", uid="0", sudo=False).returncode == 0
    pip = [x for x in log(repo) if x.startswith("pip")]
    assert pip == ["pip -m pip install -q --disable-pip-version-check -e ."]


def test_an_existing_venv_needs_no_system_package(repo: Path) -> None:
    assert bootstrap(repo, "--runtime", uid="0", sudo=False).returncode == 0
    (repo / "log").unlink()
    assert bootstrap(repo, "--runtime", uid="1000", sudo=False).returncode == 0
    assert [x for x in log(repo) if x.startswith("apt-get")] == []


def test_unknown_option_is_a_usage_error(repo: Path) -> None:
    r = bootstrap(repo, "--everything", uid="0", sudo=False)
    assert r.returncode == 2
    assert r.stderr == "usage: scripts/bootstrap [--python-only | --runtime]\n"


@pytest.fixture
def test_repo(repo: Path) -> Path:
    """scripts/test with bootstrap and check stood in for, and a pytest that records its
    cache directory and writes into it."""
    stub(repo / "scripts" / "bootstrap", "true\n")
    stub(repo / "scripts" / "check", "true\n")
    (repo / ".venv" / "bin").mkdir(parents=True)
    stub(
        repo / ".venv" / "bin" / "python",
        f'echo "$DEADWEIGHT_CACHE_DIR" > {repo / "cache-dir"}\n'
        'touch "$DEADWEIGHT_CACHE_DIR/layers.sqlite"\n'
        'exit "${FAKE_PYTEST_EXIT:-0}"\n',
    )
    return repo


def run_tests(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": str(repo / "bin"), "TMPDIR": str(repo / "tmp"), **env}
    (repo / "tmp").mkdir(exist_ok=True)
    return subprocess.run(
        ["/bin/bash", str(repo / "scripts" / "test")],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
    )


@pytest.mark.parametrize("pytest_exit", ["0", "1"])
def test_a_test_run_leaves_no_temp_directory(test_repo: Path, pytest_exit: str) -> None:
    r = run_tests(test_repo, FAKE_PYTEST_EXIT=pytest_exit)
    assert r.returncode == int(pytest_exit), r.stderr
    used = Path((test_repo / "cache-dir").read_text().strip())
    assert used.parent == test_repo / "tmp"
    assert not used.exists()
    assert os.listdir(test_repo / "tmp") == []


def test_a_cache_dir_given_is_kept(test_repo: Path) -> None:
    mine = test_repo / "mine"
    mine.mkdir()
    assert run_tests(test_repo, DEADWEIGHT_CACHE_DIR=str(mine)).returncode == 0
    assert (mine / "layers.sqlite").exists()
