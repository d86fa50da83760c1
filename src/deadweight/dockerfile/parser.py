"""A Dockerfile parser that accepts what BuildKit's Dockerfile frontend accepts.

It follows moby/buildkit ``frontend/dockerfile/parser``: directives only before the
first other line; a line ending in the escape character continues, and comment or
blank lines inside a continuation are dropped; heredocs (``<<EOF``, ``<<-EOF``,
quoted delimiters, several per line) take their bodies from the lines after the
instruction. A line it cannot read becomes a :class:`SyntaxProblem` and parsing goes
on with the next line, so the rest of the file can still be linted.
"""

from __future__ import annotations

import re

from deadweight.dockerfile import argument_errors, parse_errors
from deadweight.dockerfile.record import record
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.syntax import (
    KEYWORDS,
    Comment,
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    SyntaxProblem,
)

_DIRECTIVE = lazy(r"^#[ \t]*([A-Za-z][A-Za-z0-9]*)[ \t]*=[ \t]*(.*?)[ \t]*$")
_DIRECTIVE_NAMES = frozenset({"syntax", "escape", "check"})
_FLAG = lazy(r"[ \t]*--([A-Za-z][A-Za-z0-9_-]*)(?:=(\S*))?(?=\s|$)")
_HEREDOC = lazy(r"(?<![<\w])<<(-?)(?:([\"'])([^\"'\s]+)\2|([A-Za-z0-9_][A-Za-z0-9_.\-]*))")
_FLAGGED = frozenset({"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"})
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_EXEC_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD"})
# an exec form must end its line (hadolint); VOLUME's may be followed by more
_ARRAY_ONLY = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL"})
_MAY_BE_EMPTY = frozenset({"HEALTHCHECK"})
_BLANKS = " \t\r"
_NESTED_ARRAY = lazy(r"\[\s*\[")
_WORD = lazy(r"([ \t\r]*)([^ \t\r]+)(.*)", re.S)


@record
class _Line:
    text: str  # without the newline
    number: int
    start: int


def _split_lines(source: str) -> list[_Line]:
    lines: list[_Line] = []
    offset = 0
    for number, chunk in enumerate(source.split("\n"), start=1):
        text = chunk[:-1] if chunk.endswith("\r") else chunk
        lines.append(_Line(text, number, offset))
        offset += len(chunk) + 1
    if lines and lines[-1].text == "" and source.endswith("\n"):
        lines.pop()
    if source.startswith("\ufeff"):
        # a byte order mark is no character of the first line (hadolint and BuildKit
        # skip it); offsets stay those of the source
        lines[0] = _Line(lines[0].text[1:], 1, 1)
    return lines


def _is_blank(text: str) -> bool:
    # BuildKit's own whitespace, not Python's: a form feed, U+00A0 or U+2028 at the start
    # of a line is a character of the instruction word (hadolint: "unexpected form feed")
    return not text.strip(_BLANKS)


def _is_comment(text: str) -> bool:
    return text.lstrip(_BLANKS).startswith("#")


def _read_directives(lines: list[_Line]) -> tuple[list[Directive], int]:
    directives: list[Directive] = []
    seen: set[str] = set()
    i = 0
    while i < len(lines):
        text = lines[i].text
        # a directive is a comment with "=": other first lines skip the pattern (issue 14)
        m = _DIRECTIVE.match(text) if text.startswith("#") and "=" in text else None
        if not m or m.group(1).lower() not in _DIRECTIVE_NAMES or m.group(1).lower() in seen:
            break
        seen.add(m.group(1).lower())
        directives.append(Directive(m.group(1).lower(), m.group(2), lines[i].number))
        i += 1
    return directives, i


def _continues(text: str, escape: str) -> bool:
    """BuildKit's line continuation: the escape character ends the line (blanks aside),
    unless another escape comes right before it (``a\\\\`` ends with an escaped escape);
    a line that is the escape alone continues."""
    stripped = text.rstrip(" \t")
    if not stripped.endswith(escape):
        return False
    return len(stripped) == 1 or stripped[-2] != escape


def _strip_escape(text: str, escape: str) -> str:
    stripped = text.rstrip(" \t")
    return stripped[: -len(escape)]


def _parse_flags(text: str) -> tuple[tuple[Flag, ...], str]:
    flags: list[Flag] = []
    rest = text
    while True:
        m = _FLAG.match(rest)
        if not m:
            break
        flags.append(Flag(m.group(1), m.group(2)))
        rest = rest[m.end() :]
    return tuple(flags), rest.strip()


def _exec_form(value: str) -> tuple[str, ...] | None:
    if not value.startswith("[") or _NESTED_ARRAY.match(value):
        # an exec form is a flat array of strings; a nested one is shell form to BuildKit,
        # and json would recurse once per "[" (issue 16)
        return None
    import json  # here: a file without an exec form starts without it (issue 14)

    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
        return tuple(parsed)
    return None


def _shown(word: str) -> str:
    """A word as a one-line message can show it: control characters escaped, cut short."""
    short = word if len(word) <= 40 else word[:40] + "..."
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in short)


@record
class _Built:
    keyword: str
    arguments: str
    value: str
    flags: tuple[Flag, ...]
    exec_form: tuple[str, ...] | None
    trigger: _Built | None


def _build(keyword: str, arguments: str, *, trigger_of_onbuild: bool = False) -> _Built | str:
    """The parts of one instruction, or the message of why it is invalid.

    The trigger of an ONBUILD is read one level deep only: ``ONBUILD ONBUILD ...`` is
    refused by BuildKit (DL3043 reports it), so its own arguments stay text, and a long
    chain costs no recursion (issue 16).
    """
    flags: tuple[Flag, ...] = ()
    value = arguments.strip()
    if keyword in _FLAGGED:
        flags, value = _parse_flags(arguments)
    trigger: _Built | None = None
    if keyword == "ONBUILD" and not trigger_of_onbuild:
        m = _WORD.match(arguments)
        if not m:
            return "ONBUILD requires at least one argument"
        inner_kw = m.group(2).upper()
        if inner_kw not in KEYWORDS:
            return f"unknown instruction: {_shown(m.group(2))}"
        # ONBUILD FROM/MAINTAINER/ONBUILD: BuildKit refuses these; DL3043 reports them
        built = _build(inner_kw, m.group(3), trigger_of_onbuild=True)
        if isinstance(built, str):
            return built
        trigger = built
    elif not value and keyword not in _MAY_BE_EMPTY:
        return f"{keyword} requires at least one argument"
    exec_form = _exec_form(value) if keyword in _EXEC_KEYWORDS else None
    if keyword == "HEALTHCHECK":
        m = re.match(r"(?i)CMD\s+(.*)", value, re.S)
        if m:
            exec_form = _exec_form(m.group(1).strip())
    return _Built(keyword, arguments, value, flags, exec_form, trigger)


def _script(keyword: str, arguments: str) -> str | None:
    """A RUN's (or ONBUILD RUN's) text without its flags, read from these arguments."""
    built = _build(keyword, arguments)
    if isinstance(built, str):
        return None
    run = built.trigger if built.trigger is not None else built
    return run.value if run.keyword == "RUN" else None


def _freeze(
    b: _Built,
    heredocs: tuple[Heredoc, ...],
    first: _Line,
    last_line: int,
    end: int,
    script: str | None = None,
) -> Instruction:
    trigger = _freeze(b.trigger, heredocs, first, last_line, end, script) if b.trigger else None
    return Instruction(
        keyword=b.keyword,
        arguments=b.arguments,
        value=b.value,
        flags=b.flags,
        exec_form=b.exec_form,
        heredocs=heredocs if trigger is None else (),
        script=script if trigger is None and b.keyword == "RUN" else None,
        start_line=first.number,
        end_line=last_line,
        start=first.start,
        end=end,
        trigger=trigger,
    )


def _heredoc_markers(keyword: str, arguments: str) -> list[tuple[str, bool, bool]]:
    if keyword not in _HEREDOC_KEYWORDS or "<<" not in arguments:
        return []
    markers = []
    for m in _HEREDOC.finditer(arguments):
        name = m.group(3) or m.group(4)
        markers.append((name, m.group(1) == "-", m.group(2) is not None))
    return markers


def parse(source: str) -> Dockerfile:
    """Parse a whole Dockerfile. Never raises: problems are part of the result."""
    nul = source.find("\x00")
    if nul >= 0:
        # a binary file: one finding, not one per line of noise
        at = source.count("\n", 0, nul) + 1
        problem = SyntaxProblem("not a text file (NUL byte): not a Dockerfile", at, 1)
        return Dockerfile(source, "\\", (), (), (), (problem,))
    lines = _split_lines(source)
    directives, i = _read_directives(lines)
    escape = "\\"
    for d in directives:
        if d.name == "escape" and d.value in ("`", "\\"):
            escape = d.value
    comments: list[Comment] = []
    instructions: list[Instruction] = []
    problems: list[SyntaxProblem] = []
    for d in directives:
        if d.name == "escape" and d.value not in ("`", "\\"):
            problems.append(SyntaxProblem(f"invalid escape token '{d.value}'", d.line, 1))
    while i < len(lines):
        line = lines[i]
        if _is_blank(line.text):
            i += 1
            continue
        if _is_comment(line.text):
            comments.append(Comment(line.text.strip(), line.number))
            i += 1
            continue
        first = line
        parts: list[str] = []
        part_lines = [line]
        text = line.text
        last = line
        i += 1
        while _continues(text, escape):
            if i >= len(lines) and not source.endswith("\n"):
                break  # an escape that ends the file continues nothing: it is text
            parts.append(_strip_escape(text, escape))
            while i < len(lines) and (_is_blank(lines[i].text) or _is_comment(lines[i].text)):
                i += 1
            if i >= len(lines):
                text = ""
                break
            last = lines[i]
            part_lines.append(last)
            text = last.text
            i += 1
        parts.append(text)
        # lines of blanks and an escape before the keyword are blanks to hadolint, which
        # puts the instruction on its keyword's line (BuildKit reads the same instruction)
        while len(parts) > 1 and len(part_lines) > 1 and not parts[0].strip(" \t"):
            parts.pop(0)
            part_lines.pop(0)
        first = part_lines[0]
        joined = "".join(parts)
        # hadolint's text of the same lines: a continuation and the blanks that start the
        # next line read as one space (its RUN text for ShellCheck; BuildKit keeps them)
        hadolints = joined
        if len(parts) > 1 and any(p[:1] in (" ", "\t") for p in parts[1:]):
            hadolints = parts[0] + "".join(
                " " + p.lstrip(" \t") if p[:1] in (" ", "\t") else p for p in parts[1:]
            )
        m = _WORD.match(joined)
        if m is None:
            # only escape characters and blanks (a file that is one backslash): BuildKit
            # reads an empty instruction and ignores it
            continue
        indent, word, arguments = m.group(1), m.group(2), m.group(3)
        keyword = word.upper()
        if keyword not in KEYWORDS:
            seen = bool(directives or comments or instructions or problems)
            problems.append(parse_errors.unknown(word, indent, first.number, escape, not seen))
            continue
        if not arguments.strip(_BLANKS) and last is first:
            empty = parse_errors.no_arguments(keyword, first.text, first.number, escape)
            if empty is not None:
                problems.append(empty)
                continue
        if keyword in ("ENV", "LABEL") and last is first:
            unpaired = parse_errors.unpaired(arguments, first.text, first.number, escape)
            if unpaired is not None:
                problems.append(unpaired)
                continue
        inner = (
            arguments.split(None, 1)[0].upper()
            if keyword == "ONBUILD" and arguments.strip()
            else ""
        )
        if (keyword in _ARRAY_ONLY or inner in _ARRAY_ONLY) and "]" in arguments:
            raw = source[first.start : last.start + len(last.text)]
            trailing = argument_errors.after_array(raw, first.number, escape)
            if trailing is not None:
                problems.append(trailing)
                continue
        if keyword == "RUN" and "--" in first.text:
            flags = argument_errors.run_flags(first.text, first.number, source, first.start)
            if flags is not None:
                problems.append(flags)
                continue
        if (keyword in ("ADD", "COPY") or inner in ("ADD", "COPY")) and "--" in joined:
            raw = source[first.start : last.start + len(last.text)]
            flags = argument_errors.copy_flags(raw, first.number, escape)
            if flags is not None:
                problems.append(flags)
                continue
        if keyword == "EXPOSE" and last is first:
            ports = argument_errors.expose_ports(first.text.rstrip("\r"), first.number, escape)
            if ports is not None:
                problems.append(ports)
                continue
        markers = _heredoc_markers(
            keyword
            if keyword != "ONBUILD"
            else arguments.split()[0].upper()
            if arguments.split()
            else "",
            arguments,
        )
        heredocs: list[Heredoc] = []
        resume, last_line = i, last
        for name, strip_tabs, quoted in markers:
            body: list[str] = []
            start_line = lines[i].number if i < len(lines) else last.number + 1
            closed = False
            while i < len(lines):
                candidate = lines[i].text.lstrip("\t") if strip_tabs else lines[i].text
                last = lines[i]
                i += 1
                if candidate == name:
                    closed = True
                    break
                body.append(candidate)
            if not closed:
                # hadolint reads no heredoc then: ``<<EOF`` stays text and the lines
                # after the instruction are read as instructions (the first that is not
                # one is the DL1000)
                heredocs, i, last = [], resume, last_line
                break
            text_body = "".join(b + "\n" for b in body)
            heredocs.append(Heredoc(name, text_body, strip_tabs, quoted, start_line, last.number))
        built = _build(keyword, arguments)
        if isinstance(built, str):
            problems.append(SyntaxProblem(built, first.number, 1))
            continue
        wrong = (
            parse_errors.wrong_arguments(
                keyword, built.value, built.exec_form, first.text, first.number, escape
            )
            if last is first and keyword in ("FROM", "COPY", "ADD") and not heredocs
            else None
        )
        if wrong is not None:
            problems.append(wrong)
            continue
        end = last.start + len(last.text)
        script = _script(keyword, hadolints[m.end(2) :]) if hadolints is not joined else None
        instructions.append(_freeze(built, tuple(heredocs), first, last.number, end, script))
    return Dockerfile(
        source=source,
        escape=escape,
        directives=tuple(directives),
        comments=tuple(comments),
        instructions=tuple(instructions),
        problems=tuple(problems),
    )
