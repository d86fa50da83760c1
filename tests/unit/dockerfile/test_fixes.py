from __future__ import annotations

from pathlib import Path

import pytest

from deadweight.dockerfile.fixes import fixed_source, unified_diff, write_atomically
from deadweight.dockerfile.linting import lint


def fixed(src: str) -> str:
    return fixed_source(src, lint(src))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("CMD npm start", 'CMD ["npm", "start"]'),
        ('CMD echo "$HOME"', 'CMD echo "$HOME"'),
        (
            "HEALTHCHECK --interval=5s CMD curl -f http://x/",
            'HEALTHCHECK --interval=5s CMD ["curl", "-f", "http://x/"]',
        ),
        (
            "RUN apt-get update && apt-get install \\\n    -y curl=1",
            "RUN apt-get update && apt-get install --no-install-recommends \\\n    -y curl=1"
            " && rm -rf /var/lib/apt/lists/*",
        ),
        ("RUN apt-get update", "RUN apt-get update"),
        ("RUN apk add --update curl=1", "RUN apk add --no-cache --update curl=1"),
        ("RUN pip3 install -r r.txt", "RUN pip3 install --no-cache-dir -r r.txt"),
        ("RUN yum install httpd-2 && yum clean all", "RUN yum install -y httpd-2 && yum clean all"),
        ("MAINTAINER me <m@x>", 'LABEL maintainer="me <m@x>"'),
        ("ADD src /src", "COPY src /src"),
        ("ADD app.tar.gz /src/", "ADD app.tar.gz /src/"),
    ],
)
def test_single_fixes(before: str, after: str) -> None:
    src = f"FROM debian:12\n{before}\nUSER 1\n"
    assert fixed(src) == f"FROM debian:12\n{after}\nUSER 1\n"


def test_cleanup_moves_into_the_creating_run() -> None:
    src = "FROM d:1\nRUN wget -q https://x/a.tgz && tar -xzf a.tgz\nRUN rm a.tgz\nUSER 1\n"
    assert fixed(src) == (
        "FROM d:1\nRUN wget -q https://x/a.tgz && tar -xzf a.tgz && rm a.tgz\nUSER 1\n"
    )


def test_user_is_added_before_cmd_when_one_was_created() -> None:
    src = 'FROM debian:12\nRUN useradd --uid 10001 app\nCMD ["app"]\n'
    assert fixed(src) == ('FROM debian:12\nRUN useradd --uid 10001 app\nUSER 10001\nCMD ["app"]\n')
    assert fixed('FROM debian:12\nCMD ["x"]\n') == 'FROM debian:12\nCMD ["x"]\n'


def test_user_fix_writes_only_the_user_line() -> None:
    """The added ``USER`` comes alone: no stray ``# node`` comment line above it."""
    src = 'FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n'
    after = fixed(src)
    assert after == ('FROM node:20\nWORKDIR /app\nCOPY . .\nUSER 1000\nCMD ["node", "server.js"]\n')
    assert not [line for line in after.splitlines() if line.startswith("#")]
    no_cmd = fixed("FROM node:20\nCOPY . .\n")
    assert no_cmd == "FROM node:20\nCOPY . .\nUSER 1000\n"


def test_fixed_file_lints_clean_of_fixed_rules() -> None:
    src = "FROM debian:12\nRUN apt-get update && apt-get install curl=1\nCMD run it\nUSER 1\n"
    after = fixed(src)
    assert {f.code for f in lint(after).findings} & {
        "DL3009",
        "DL3014",
        "DL3015",
        "DL3025",
    } == set()


def test_diff_and_atomic_write(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a:1\nCMD go\n")
    path.chmod(0o640)
    assert unified_diff("Dockerfile", "CMD go\n", 'CMD ["go"]\n') == (
        '--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1 +1 @@\n-CMD go\n+CMD ["go"]\n'
    )
    write_atomically(path, "FROM a:1\n")
    assert path.read_text() == "FROM a:1\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


_HERE = Path(__file__).parent
_EVERY_FILE = sorted(_HERE.glob("corpus/*.Dockerfile")) + sorted(
    _HERE.glob("shellcheck/*.Dockerfile")
)


@pytest.mark.parametrize("path", _EVERY_FILE, ids=lambda p: p.stem)
def test_fix_is_idempotent_and_adds_no_finding(path: Path) -> None:
    """Issue 14: a fixed file gains no finding, keeps none of the fixable ones, and fixing
    it again changes nothing (ShellCheck on, when it is installed)."""
    from collections import Counter

    from deadweight.dockerfile.shellcheck import find_shellcheck

    shellcheck = find_shellcheck()
    source = path.read_text()
    before = lint(source, shellcheck=shellcheck)
    after = fixed_source(source, before)
    relinted = lint(after, shellcheck=shellcheck)
    gained = Counter(f.code for f in relinted.findings) - Counter(f.code for f in before.findings)
    assert not gained, gained
    assert [f.code for f in relinted.findings if f.fix is not None] == []
    assert fixed_source(after, relinted) == after
