from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from deadweight.cli.lint import find_dockerfiles, lint

CORPUS = Path(__file__).parents[1] / "dockerfile" / "corpus"


def invoke(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    if cwd is None:
        r = runner.invoke(lint, list(args))
    else:
        with runner.isolated_filesystem(temp_dir=cwd):
            r = runner.invoke(lint, list(args))
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nCMD run it\nUSER 1\n")
    (tmp_path / ".dockerignore").write_text(".git\nnode_modules\n")
    return tmp_path


def test_findings_and_exit_code(project: Path) -> None:
    code, out, _ = invoke(str(project / "Dockerfile"), "--format", "json")
    assert code == 1
    assert [(d["code"], d["line"]) for d in json.loads(out)] == [("DW015", 1), ("DL3025", 2)]


def test_threshold_and_ignore(project: Path) -> None:
    f = str(project / "Dockerfile")
    assert invoke(f, "--failure-threshold", "error")[0] == 0
    assert invoke(f, "--ignore", "DL3025", "--failure-threshold", "warning")[0] == 0
    assert invoke(f, "--failure-threshold", "warning")[0] == 1
    code, out, _ = invoke(f, "--ignore", "DL3025", "--ignore", "dw015")
    assert (code, out) == (0, "")


def test_config_file_next_to_dockerfile(project: Path) -> None:
    (project / ".hadolint.yaml").write_text("ignored: [DL3025, DW015]\n")
    assert invoke(str(project / "Dockerfile")) == (0, "", "")


def test_diff_never_writes_and_fix_does(project: Path) -> None:
    f = project / "Dockerfile"
    code, out, _ = invoke(str(f), "--diff")
    assert code == 1
    assert '+CMD ["run", "it"]\n' in out and "-CMD run it\n" in out
    assert f.read_text() == "FROM debian:12\nCMD run it\nUSER 1\n"
    code, out, err = invoke(str(f), "--fix", "--format", "json")
    assert f.read_text() == 'FROM debian:12\nCMD ["run", "it"]\nUSER 1\n'
    assert err == f"deadweight: fixed {f}\n"
    assert [d["code"] for d in json.loads(out)] == ["DW015"]


def test_explain() -> None:
    code, out, _ = invoke("--explain", "dw009")
    assert code == 0
    assert out.startswith("DW009 (warning): A remote script is piped into a shell")
    assert "Bad:\n  RUN curl -fsSL https://get.example.com | sh\n" in out
    assert invoke("--explain", "DL1000")[1].startswith("DL1000 (error)")


def test_directory_search(tmp_path: Path) -> None:
    for name in (
        "Dockerfile",
        "api.Dockerfile",
        "Dockerfile.dev",
        "Dockerfile.dockerignore",
        "notes.txt",
        "node_modules/Dockerfile",
        "sub/Containerfile",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("FROM a:1\n")
    assert [p.relative_to(tmp_path).as_posix() for p in find_dockerfiles(tmp_path)] == [
        "Dockerfile",
        "Dockerfile.dev",
        "api.Dockerfile",
        "sub/Containerfile",
    ]


def test_corpus_folder_in_checkstyle(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "static-nginx-simple.Dockerfile", tmp_path)
    code, out, _ = invoke(str(tmp_path), "--format", "checkstyle")
    assert code == 1
    assert out.count("<file ") == 1 and 'source="DW015"' in out


def test_missing_path_is_not_found(tmp_path: Path) -> None:
    from deadweight.errors import NotFound

    r = CliRunner().invoke(lint, [str(tmp_path / "nope")])
    assert isinstance(r.exception, NotFound)
    assert r.exception.exit_code == 3


def test_no_path_is_usage_error() -> None:
    r = CliRunner().invoke(lint, [])
    assert r.exit_code == 2
