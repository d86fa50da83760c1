"""The parser on the BuildKit syntax it must accept, and on what it must refuse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deadweight.dockerfile.parser import parse
from deadweight.dockerfile.stages import ImageRef, analyze, substitute
from deadweight.dockerfile.syntax import Flag

CORPUS = Path(__file__).parent / "corpus"


def test_directives_only_at_the_top() -> None:
    df = parse(
        "# syntax=docker/dockerfile:1.7\n# escape=`\n# check=skip=all\n\n# syntax=x\nFROM a\n"
    )
    assert [(d.name, d.value, d.line) for d in df.directives] == [
        ("syntax", "docker/dockerfile:1.7", 1),
        ("escape", "`", 2),
        ("check", "skip=all", 3),
    ]
    assert df.escape == "`"
    assert [c.text for c in df.comments] == ["# syntax=x"]


def test_continuation_skips_comment_and_blank_lines() -> None:
    src = "FROM a\nRUN echo 1 \\\n  # note\n\n  && echo 2 \\\n   \n  && echo 3\nUSER 1\n"
    df = parse(src)
    run = df.instructions[1]
    assert (run.keyword, run.start_line, run.end_line) == ("RUN", 2, 7)
    assert run.value == "echo 1   && echo 2   && echo 3"
    assert src[run.start : run.end].endswith("&& echo 3")
    assert df.instructions[2].start_line == 8


def test_backtick_escape() -> None:
    df = parse("# escape=`\nFROM a\nRUN dir C:\\ `\n    && echo x\n")
    assert df.instructions[1].value == "dir C:\\     && echo x"
    assert df.instructions[1].end_line == 4


def test_heredocs_several_on_one_line_and_dash_and_quotes() -> None:
    src = (
        "FROM a\n"
        "RUN <<A cat <<-'B' > /x\n"
        "one\n"
        "A\n"
        "\ttwo $HOME\n"
        "\tB\n"
        'COPY <<"EOT" /etc/x\n'
        "body\n"
        "EOT\n"
        'CMD ["x"]\n'
    )
    df = parse(src)
    run, copy, cmd = df.instructions[1:]
    assert [(h.delimiter, h.body, h.strip_tabs, h.quoted) for h in run.heredocs] == [
        ("A", "one\n", False, False),
        ("B", "two $HOME\n", True, True),
    ]
    assert (run.start_line, run.end_line) == (2, 6)
    assert [(h.delimiter, h.body, h.quoted) for h in copy.heredocs] == [("EOT", "body\n", True)]
    assert (copy.start_line, copy.end_line, cmd.start_line) == (7, 9, 10)
    assert df.problems == ()


def test_unterminated_heredoc_is_a_problem() -> None:
    # as hadolint reads it: no heredoc, so the body's first line is the broken instruction
    df = parse("FROM a\nRUN <<EOF\necho\n")
    assert [(p.message.split("\n")[0], p.line) for p in df.problems] == [("unexpected 'e'", 3)]
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN"]
    assert not df.instructions[1].heredocs


def test_json_and_shell_forms_and_flags() -> None:
    df = parse(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "RUN --mount=type=cache,target=/root/.cache --network=none go build\n"
        'COPY --from=build --chown=1:1 --chmod=755 --link ["/a b", "/c/"]\n'
        "ADD --checksum=sha256:abc https://x/y /y\n"
        'CMD ["a", "b"]\n'
        "ENTRYPOINT [not json\n"
        'HEALTHCHECK --interval=5s CMD ["true"]\n'
    )
    frm, run, copy, add, cmd, entry, hc = df.instructions
    assert frm.flags == (Flag("platform", "$BUILDPLATFORM"),)
    assert run.flag_values("mount") == ("type=cache,target=/root/.cache",)
    assert run.flag("network") == "none" and run.value == "go build"
    assert [f.name for f in copy.flags] == ["from", "chown", "chmod", "link"]
    assert copy.flag("link") == "" and copy.exec_form == ("/a b", "/c/")
    assert add.flag("checksum") == "sha256:abc"
    assert cmd.exec_form == ("a", "b")
    assert entry.exec_form is None and entry.value == "[not json"
    assert hc.flag("interval") == "5s" and hc.exec_form == ("true",)


def test_onbuild_wraps_an_instruction() -> None:
    df = parse("FROM a\nONBUILD RUN --mount=type=cache,target=/x make\n")
    ob = df.instructions[1]
    assert ob.trigger is not None
    assert (ob.trigger.keyword, ob.trigger.value, ob.trigger.flag("mount")) == (
        "RUN",
        "make",
        "type=cache,target=/x",
    )


AFTER = (
    "'#', '\\', ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, "
    "MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR, a pragma, "
    "at least one space, or end of input"
)


def test_errors_do_not_stop_parsing() -> None:
    """The parser reads on (the library sees every bad line; ``lint`` reports the first)."""
    df = parse("FROM a\nRUNN x\nFOO bar\nRUN\nUSER 1\n")
    assert [(p.line, p.column, p.message) for p in df.problems] == [
        (2, 4, "missing whitespace"),
        (3, 1, "unexpected 'F'\nexpecting " + AFTER),
        (4, 4, "missing whitespace"),
    ]
    assert [i.keyword for i in df.instructions] == ["FROM", "USER"]


def test_arg_before_from_and_stage_names() -> None:
    build = analyze(
        parse(
            "ARG BASE=python:3.12-slim\nARG TAG\n"
            "FROM ${BASE} AS Build\nFROM build\nFROM ${REG:-docker.io}/x:${TAG:+t}\n"
        )
    )
    assert [(s.name, s.image, s.parent) for s in build.stages] == [
        ("build", "python:3.12-slim", None),
        (None, "build", 0),
        (None, "docker.io/x:", None),
    ]
    assert build.global_args == (("BASE", "python:3.12-slim"), ("TAG", None))


def test_substitute_forms() -> None:
    env = {"A": "1", "E": ""}
    assert substitute("$A-${A}-${E:-d}-${E-d}-${N:+x}-${A:+y}-$N.", env) == "1-1-d---y-."


def test_image_ref_split() -> None:
    assert ImageRef.parse("localhost:5000/a/b:1@sha256:x") == ImageRef(
        "localhost:5000/a/b", "1", "sha256:x"
    )
    assert ImageRef.parse("localhost:5000/a") == ImageRef("localhost:5000/a", None, None)


# The official BuildKit parser (PyPI `dockerfile`, a Go binding, x86_64 wheels) as oracle.
try:
    import dockerfile as oracle  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the platform
    oracle = None

SNIPPETS = [
    "FROM a\nRUN <<A cat <<-'B'\none\nA\n\ttwo\n\tB\nCMD x\n",
    "FROM a\nRUN a \\\n # c\n\n b\nENV A=1 \\\n  B=2\n",
    "FROM a\nONBUILD RUN x\nHEALTHCHECK NONE\n",
]


def _oracle_rows(src: str) -> list[tuple[str, int, int]]:
    assert oracle is not None
    return [(c.cmd.upper(), c.start_line, c.end_line) for c in oracle.parse_string(src)]


@pytest.mark.skipif(
    oracle is None and not os.environ.get("CI"), reason="PyPI `dockerfile` not installed"
)
@pytest.mark.parametrize(
    "src",
    [
        p.read_text()
        for p in sorted(CORPUS.glob("*.Dockerfile"))
        if "unknown" not in p.name and p.stat().st_size
    ]
    + SNIPPETS,
)
def test_line_ranges_match_buildkit(src: str) -> None:
    ours = [(i.keyword, i.start_line, i.end_line) for i in parse(src).instructions]
    assert ours == _oracle_rows(src)
