"""The parsed shape of a Dockerfile: frozen values, with exact line ranges and offsets.

Line numbers are 1-based and inclusive; offsets index the source text, so a fix can
replace exactly the characters of one instruction.
"""

from __future__ import annotations

from deadweight.dockerfile.record import record

KEYWORDS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)


@record
class Directive:
    """A parser directive (``# syntax=``, ``# escape=``, ``# check=``) at the top of the file."""

    name: str
    value: str
    line: int


@record
class Comment:
    """A ``#`` comment line that is not a directive (pragmas live here)."""

    text: str
    line: int


@record
class Flag:
    """``--name=value`` (or bare ``--name``) before an instruction's arguments."""

    name: str
    value: str | None


@record
class Heredoc:
    """``<<EOF`` ... ``EOF``; ``body`` has the tab stripping of ``<<-`` applied."""

    delimiter: str
    body: str
    strip_tabs: bool
    quoted: bool
    start_line: int
    end_line: int


@record
class Instruction:
    """One instruction; for ONBUILD, ``trigger`` is the instruction it wraps.

    ``arguments`` is the text after the keyword with continuations joined and the
    comment lines inside them removed; ``value`` is the same without leading flags.
    ``exec_form`` holds the JSON array of CMD/ENTRYPOINT/RUN/SHELL/... when one was given.
    """

    keyword: str
    arguments: str
    value: str
    flags: tuple[Flag, ...]
    exec_form: tuple[str, ...] | None
    heredocs: tuple[Heredoc, ...]
    start_line: int
    end_line: int
    start: int
    end: int
    trigger: Instruction | None = None
    # a RUN spread over lines: its text (``value``) as hadolint reads it, where each
    # continuation and the blanks that start the next line are one space (None: the same)
    script: str | None = None

    def flag(self, name: str) -> str | None:
        """The value of the last ``--name`` flag ('' for a bare flag), or None."""
        found: str | None = None
        for f in self.flags:
            if f.name == name:
                found = "" if f.value is None else f.value
        return found

    def flag_values(self, name: str) -> tuple[str, ...]:
        return tuple(f.value or "" for f in self.flags if f.name == name)


@record
class SyntaxProblem:
    """Something BuildKit would refuse; becomes a DL1000 finding."""

    message: str
    line: int
    column: int


@record
class Dockerfile:
    """A whole file: directives, comments, instructions and the problems met on the way."""

    source: str
    escape: str
    directives: tuple[Directive, ...]
    comments: tuple[Comment, ...]
    instructions: tuple[Instruction, ...]
    problems: tuple[SyntaxProblem, ...]
