"""The words and columns of a DL1000 (a line the parser cannot read), as hadolint 2.15.1
gives them: its parser is megaparsec's, whose messages name what it expected there.

A finding's text is part of what a hadolint user compares, so the common shapes of a
broken Dockerfile read the same: an unknown instruction word, a keyword glued to the
next word (``RUNN``), a keyword with nothing after it.
"""

from __future__ import annotations

from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.syntax import KEYWORDS, SyntaxProblem

_NAMES = (
    "ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, "
    "ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR, a pragma"
)
# what a keyword followed by blanks and then nothing expects (hadolint's own labels)
_EXPECTED_AFTER = {
    "FROM": "expecting the image name with a tag",
    "RUN": "expecting the shell arguments",
    "CMD": "expecting the shell arguments",
    "ENTRYPOINT": "expecting the shell arguments",
    "SHELL": "expecting the shell arguments",
    "COPY": "expecting a file",
    "ADD": "expecting a file",
    "ARG": "expecting the argument name",
    "USER": "expecting the user",
    "WORKDIR": "expecting the workdir path",
    "VOLUME": "expecting the volume path",
    "STOPSIGNAL": "expecting the stop signal",
    "MAINTAINER": "expecting the maintainer name",
    "ENV": "missing whitespace",
    "LABEL": "missing whitespace",
    "HEALTHCHECK": (
        "unexpected newline\nexpecting \"NONE\", '{escape}', --interval, --retries, "
        "--start-interval, --start-period, --timeout, CMD, at least one space, or no flags"
    ),
    "ONBUILD": (
        "unexpected newline\nexpecting '#', '{escape}', " + _NAMES + ", or at least one space"
    ),
}


def column(text: str) -> int:
    """The 1-based column after ``text`` as megaparsec counts it: a tab moves to the
    next multiple of 8."""
    col = 1
    for ch in text:
        col = ((col - 1) // 8 + 1) * 8 + 1 if ch == "\t" else col + 1
    return col


# megaparsec's names for the characters it does not quote
_CHAR_NAMES = dict(
    zip(
        [chr(c) for c in range(0x20)] + ["\x7f", "\xa0"],
        [
            "null",
            "start of heading",
            "start of text",
            "end of text",
            "end of transmission",
            "enquiry",
            "acknowledge",
            "bell",
            "backspace",
            "tab",
            "newline",
            "vertical tab",
            "form feed",
            "carriage return",
            "shift out",
            "shift in",
            "data link escape",
            "device control one",
            "device control two",
            "device control three",
            "device control four",
            "negative acknowledge",
            "synchronous idle",
            "end of transmission block",
            "cancel",
            "end of medium",
            "substitute",
            "escape",
            "file separator",
            "group separator",
            "record separator",
            "unit separator",
            "delete",
            "non-breaking space",
        ],
        strict=True,
    )
)


def shown(ch: str) -> str:
    return _CHAR_NAMES.get(ch, f"'{ch}'")


def unknown(word: str, indent: str, line: int, escape: str, first: bool) -> SyntaxProblem:
    """A word that starts no instruction. ``first``: nothing but blank lines before it
    (megaparsec then expects other things than after an instruction or a comment)."""
    upper = word.upper()
    prefixes = [k for k in KEYWORDS if upper.startswith(k)]
    if prefixes:
        # hadolint reads the keyword, then wants whitespace where the extra letters are
        longest = max(prefixes, key=len)
        return SyntaxProblem("missing whitespace", line, column(indent + word[: len(longest)]))
    if first:
        expected = f"'#', {_NAMES}, end of input, or whitespaces"
    else:
        expected = f"'#', '{escape}', {_NAMES}, at least one space, or end of input"
    message = f"unexpected {shown(word[0])}\nexpecting {expected}"
    return SyntaxProblem(message, line, column(indent))


def no_arguments(keyword: str, head: str, line: int, escape: str) -> SyntaxProblem | None:
    """A keyword with nothing after it on its line; ``head`` is the line up to the end
    of its blanks. None where hadolint accepts it (``EXPOSE`` followed by a blank)."""
    word_end = head.rstrip(" \t")
    if word_end == head:  # the line ends right after the keyword
        return SyntaxProblem("missing whitespace", line, column(head))
    if keyword not in _EXPECTED_AFTER:
        return None
    return SyntaxProblem(_EXPECTED_AFTER[keyword].format(escape=escape), line, column(head))


def _open_quote(text: str) -> str:
    """The quote left open at the end of ``text`` ('' if none), a backslash escaping the
    next character inside quotes and out, as hadolint reads ``name=value`` words."""
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "\"'":
            quote = ch
        i += 1
    return quote


def unpaired(arguments: str, text: str, line: int, escape: str) -> SyntaxProblem | None:
    """An ``ENV`` or ``LABEL`` on one line (``text``) whose words do not make pairs: a
    lone name (``ENV PATH``), a word without ``=`` after a ``name=value``, or a quote
    left open. BuildKit refuses them all; hadolint's parser stops at the end of the
    line."""
    from deadweight.dockerfile.pairs import words

    found = words(arguments)
    if not found:
        return None
    if "=" in found[0]:
        quote = _open_quote(arguments)
        if quote:
            message = f"unexpected newline\nexpecting '{quote}' or '{escape}'"
            return SyntaxProblem(message, line, column(text))
        if all("=" in w for w in found[1:]):
            return None
    elif len(found) > 1:
        return None  # the legacy ``ENV NAME value`` form
    if text != text.rstrip(" \t"):
        return SyntaxProblem("expecting value", line, column(text))
    return SyntaxProblem("missing whitespace", line, column(text))


def _after_word(word: str, text: str, line: int, escape: str) -> SyntaxProblem:
    expected = f"'#', '{escape}', {_NAMES}, at least one space, or end of input"
    return SyntaxProblem(f"unexpected {shown(word[0])}\nexpecting {expected}", line, 0)


# hadolint's registry before an image's name: a domain with a dot, then a slash
_REGISTRY = lazy(r"[^.\s]+\.[^/\s]+/")


def _second_instruction(text: str, at: int, line: int, escape: str) -> SyntaxProblem | None:
    """The problem hadolint finds in an instruction that starts at ``at`` of a line."""
    from deadweight.dockerfile.parser import parse

    rest = text[at:]
    problems = parse(f"# escape={escape}\n{rest}\n").problems
    found = min(problems, key=lambda p: (p.line, p.column), default=None)
    if found is None or found.line != 2:
        return None
    end = next((i for i in range(len(rest) + 1) if column(rest[:i]) >= found.column), len(rest))
    return SyntaxProblem(found.message, line, column(text[: at + end]))


def wrong_arguments(
    keyword: str,
    value: str,
    exec_form: tuple[str, ...] | None,
    text: str,
    line: int,
    escape: str,
) -> SyntaxProblem | None:
    """A one-line ``FROM`` that is not ``IMAGE [AS NAME]``, or a ``COPY``/``ADD`` with
    fewer than two paths: BuildKit refuses them, and hadolint's parser stops where the
    line stops making sense to it (``text`` is the line, for the column)."""
    import re

    spans = [(m.start(), m.group()) for m in re.finditer(r"[^ \t]+", text)]
    # the keyword and the leading flags are not arguments
    at = 1
    while at < len(spans) and spans[at][1].startswith("--"):
        at += 1
    args = spans[at:]
    if keyword == "FROM":
        # hadolint reads ``# ...`` after the image (and its name) as a remark
        hashed = next((n for n, (_, w) in enumerate(args) if w.startswith("#")), None)
        args = args[:hashed] if hashed is not None and hashed in (1, 3) else args
        if args:
            # a name that is empty after the registry (``FROM @@CONTAINER@@``, ``FROM :x``):
            # no image to BuildKit, none to hadolint's parser
            at, image = args[0]
            registry = _REGISTRY.match(image)
            name_at = at + (registry.end() if registry else 0)
            if text[name_at : name_at + 1] in ("@", ":"):
                message = "expecting the image name with a tag"
                return SyntaxProblem(message, line, column(text[:name_at]))
        if len(args) <= 1 or (len(args) == 3 and args[1][1].lower() == "as"):
            return None
        # ``AS`` with its name is read as far as it goes; the first word left is wrong
        bad = args[3] if len(args) > 3 and args[1][1].lower() == "as" else args[1]
        if len(args) == 2 and args[1][1].lower() == "as":
            bad = args[1]
        keyword = max((k for k in KEYWORDS if bad[1].upper().startswith(k)), key=len, default="")
        if keyword and len(bad[1]) > len(keyword):
            # hadolint reads an instruction there: its keyword, then wants whitespace
            return SyntaxProblem("missing whitespace", line, column(text[: bad[0] + len(keyword)]))
        if keyword and bad is args[-1]:
            alone = no_arguments(keyword, text, line, escape)
            if alone is not None:
                return alone
        if keyword:
            # hadolint reads a second instruction from there: its problem is the line's
            # (where it reads one, BuildKit still refuses the FROM, and so do we, below)
            second = _second_instruction(text, bad[0], line, escape)
            if second is not None:
                return second
        found = _after_word(bad[1], text, line, escape)
        return SyntaxProblem(found.message, line, column(text[: bad[0]]))
    if len(exec_form if exec_form is not None else value.split()) >= 2:
        return None
    message = f"unexpected end of line. At least two arguments are required for {keyword}"
    return SyntaxProblem(message, line, column(text))
