"""DL1000s inside an instruction's arguments, as hadolint 2.15.1 words them: an exec
form with more after it, an ``EXPOSE`` word that is no port, a RUN flag whose value
hadolint's parser does not know. Each is a line BuildKit refuses or reads otherwise.
"""

from __future__ import annotations

from deadweight.dockerfile.parse_errors import column, shown
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.syntax import SyntaxProblem

_AFTER_ARRAY = lazy(
    r"[ \t]*(?:(?i:onbuild)[ \t]+)?[^ \t]+[ \t]+(?:--[^ \t]+[ \t]+)*"  # keyword, flags
    r'\[[ \t]*(?:"(?:[^"\\]|\\.)*"[ \t]*(?:,[ \t]*"(?:[^"\\]|\\.)*"[ \t]*)*)?\]'
    r"[ \t]*(?P<bad>[^ \t\r\n\\`])"
)


_ARRAY_START = lazy(r"[ \t]*(?:(?i:onbuild)[ \t]+)?[^ \t]+[ \t]+(?:--[^ \t]+[ \t]+)*\[")


def after_array(raw: str, line: int, escape: str) -> SyntaxProblem | None:
    """A ``RUN``/``CMD``/``ENTRYPOINT``/``SHELL`` whose JSON array is followed by more
    words (``ENTRYPOINT ["x"] # note``, or a continuation and a shell command on the next
    line): BuildKit runs it all as a shell command, hadolint's parser wants the
    instruction to end after the array. ``raw`` is the instruction's text as written,
    from its first ``line``; continuations may stand wherever a blank may."""
    if _ARRAY_START.match(raw) is None:
        return None  # a shell form (most RUNs): nothing to walk
    kept: list[str] = []
    where: list[int] = []  # the index in ``raw`` of each character kept
    i = 0
    while i < len(raw):
        if raw[i] == escape and raw[i + 1 : i + 2] == "\n":
            i += 2
            continue
        if raw[i] == escape and raw[i + 1 : i + 3] == "\r\n":
            i += 3
            continue
        kept.append(raw[i])
        where.append(i)
        i += 1
    m = _AFTER_ARRAY.match("".join(kept))
    if m is None:
        return None
    at = where[m.start("bad")]
    line_start = raw.rfind("\n", 0, at) + 1
    expected = f"'{escape}', a new line followed by the next instruction, or at least one space"
    message = f"unexpected {shown(m.group('bad'))}\nexpecting {expected}"
    return SyntaxProblem(message, line + raw.count("\n", 0, at), column(raw[line_start:at]))


_EXPOSE_WORD = lazy(r"[^ \t]+")


def expose_ports(text: str, line: int, escape: str) -> SyntaxProblem | None:
    """A one-line ``EXPOSE`` with a word that is no port, range of ports or variable
    (``# http``, ``web``), or with a protocol other than tcp or udp (``80/sctp``,
    ``82/$proto``, ``80/``): hadolint's parser takes no other."""
    start = len(text) - len(text.lstrip(" \t")) + len("EXPOSE")
    for m in _EXPOSE_WORD.finditer(text[start:]):
        word, at = m.group(), start + m.start()
        if not (word[0].isdigit() or word[0] == "$"):
            expected = (
                f"'{escape}', A port optionally followed by the protocol, A range of ports "
                "optionally followed by the protocol, a new line followed by the next "
                "instruction, or at least one space"
            )
            message = f"unexpected {shown(word[0])}\nexpecting {expected}"
            return SyntaxProblem(message, line, column(text[:at]))
        _, slash, proto = word.partition("/")
        if slash and proto.lower() not in ("tcp", "udp") and not proto.startswith("${"):
            slash_at = at + word.index("/") + 1
            return SyntaxProblem("invalid protocol", line, column(text[:slash_at]))
    return None


_MOUNT_KEYS = frozenset(
    {
        *("env", "from", "gid", "id", "mode", "readonly", "readwrite", "relabel", "required"),
        *("ro", "rw", "sharing", "size", "type", "uid", "source", "src", "target", "dst"),
        *("destination", "Z", "z"),
    }
)
_MOUNT_EXPECTED = (
    '"env=", "from=", "gid=", "id=", "mode=", "readonly", "readonly=", "readwrite", '
    '"readwrite=", "relabel=", "required", "required=False", "required=True", '
    '"required=false", "required=true", "ro", "ro=", "rw", "rw=", "sharing=", "size=", '
    "\"type=\", \"uid=\", 'Z', 'z', source=, or target="
)
_NETWORKS = ("default", "host", "none")
_LEADING_FLAG = lazy(r"[ \t]+(--[^ \t]*)")
_PRETTY = {"\n": "<newline>", "\t": "<tab>", "\r": "<carriage return>"}


def _unexpected_chunk(source: str, at: int, width: int) -> str:
    """megaparsec's ``unexpected "..."``: the next ``width`` characters of the input
    (the longest thing it expected), special ones spelled out."""
    chunk = source[at : at + width]
    if not chunk:
        return "unexpected end of input"
    return 'unexpected "' + "".join(_PRETTY.get(c, c) for c in chunk) + '"'


def run_flags(text: str, line: int, source: str, line_start: int) -> SyntaxProblem | None:
    """A ``RUN`` whose ``--network`` is none of default, host, none, or whose ``--mount``
    has a field hadolint does not know (``tmpcopyup``, a typo): BuildKit refuses them
    too. ``text`` is the RUN's first line, which starts at ``line_start`` in ``source``."""
    pos = len(text) - len(text.lstrip(" \t")) + len("RUN")
    while (m := _LEADING_FLAG.match(text[pos:])) is not None:
        flag, start = m.group(1), pos + m.start(1)
        pos += m.end()
        if flag.startswith("--network="):
            value_at = start + len("--network=")
            if flag[len("--network=") :] not in _NETWORKS:
                found = _unexpected_chunk(source, line_start + value_at, len("default"))
                message = f'{found}\nexpecting "default", "host", or "none"'
                return SyntaxProblem(message, line, column(text[:value_at]))
        elif flag.startswith("--mount="):
            at = start + len("--mount=")
            for part in flag[len("--mount=") :].split(","):
                if part.split("=", 1)[0] not in _MOUNT_KEYS:
                    found = _unexpected_chunk(source, line_start + at, len("required=False"))
                    message = f"{found}\nexpecting {_MOUNT_EXPECTED}"
                    return SyntaxProblem(message, line, column(text[:at]))
                at += len(part) + 1
    return None


_ADD_EXPECTED = (
    "at least one space, or only the --checksum, --chown, --chmod, --link, --exclude, "
    "--keep-git-dir, --unpack flags or the src and dest paths"
)
# the flags hadolint's parser (language-docker 16) knows, by instruction: a flag whose
# value follows ``=`` and may not be empty, and one that may stand alone or be
# ``=true``/``=false``
_VALUED = {
    "COPY": ("from", "chown", "chmod", "exclude"),
    "ADD": ("checksum", "chown", "chmod", "exclude"),
}
_SWITCHES = {"COPY": ("link", "parents"), "ADD": ("link", "keep-git-dir", "unpack")}
# the duplicates it refuses, in the order it looks, and the name its message gives (for
# ADD it swaps --link and --chmod)
_ONCE = {
    "COPY": (
        ("chown", "--chown"),
        ("chmod", "--chmod"),
        ("link", "--link"),
        ("parents", "--parents"),
        ("from", "--from"),
    ),
    "ADD": (
        ("checksum", "--checksum"),
        ("chown", "--chown"),
        ("link", "--chmod"),
        ("chmod", "--link"),
        ("keep-git-dir", "--keep-git-dir"),
        ("unpack", "--unpack"),
    ),
}
_KEYWORD_AT = lazy(r"[ \t]*(?:(?i:onbuild)[ \t]+)?(?i:copy|add)")
_COMMENT_LINE = lazy(r"[ \t]*#[^\n]*\n")


def _blanks(raw: str, at: int, escape: str) -> int:
    """Past the blanks at ``at``: spaces, tabs, and escaped line breaks with the comment
    lines after them, as hadolint's ``whitespace`` reads them."""
    while at < len(raw):
        if raw[at] in " \t":
            at += 1
            continue
        if raw[at] == escape:
            end = at + 1
            while end < len(raw) and raw[end] in " \t":
                end += 1
            if raw.startswith("\r\n", end):
                end += 1
            if not raw.startswith("\n", end):
                break
            at = end + 1
            while (m := _COMMENT_LINE.match(raw, at)) is not None:
                at = m.end()
            continue
        break
    return at


def _flag(word: str, keyword: str) -> tuple[str, int, str | None]:
    """What hadolint's parser reads of a word where a flag may stand: the flag's name
    (``""`` if the word is no flag), how many characters it takes, and the value of a
    flag it does not know (None for a known one)."""
    for name in _VALUED[keyword]:
        head = f"--{name}="
        if word.startswith(head) and len(word) > len(head):
            return name, len(word), None
    for name in _SWITCHES[keyword]:
        for value in ("=true", "=false", ""):
            if word.startswith(f"--{name}{value}"):
                return name, len(name) + 2 + len(value), None
    name, equals, value = word[2:].partition("=")
    if word.startswith("--") and name and equals:
        return "--" + name, len(word), value
    return "", 0, None


def copy_flags(raw: str, line: int, escape: str) -> SyntaxProblem | None:
    """A ``COPY`` or ``ADD`` (or ``ONBUILD`` one) whose flags hadolint's parser refuses:
    one it does not know (``COPY --user=me``: "invalid flag"), a known or unknown one
    with an empty value, the same flag twice, and for ``ADD`` a flag it cannot read at
    all (``--chmod 755`` with its value apart, ``--parents``). BuildKit refuses them too.
    ``raw`` is the instruction as written, from its first ``line``."""
    m = _KEYWORD_AT.match(raw)
    if m is None:
        return None
    keyword = m.group().split()[-1].upper()
    at = _blanks(raw, m.end(), escape)
    seen: list[tuple[str, str | None]] = []
    while True:
        end = at
        while end < len(raw) and raw[end] not in " \t\r\n":
            end += 1
        name, taken, value = _flag(raw[at:end], keyword)
        if not name:
            break
        seen.append((name, value))
        after = _blanks(raw, at + taken, escape)
        if taken < end - at or after == at + taken:
            at += taken  # no blank after the flag: the flags end there
            break
        at = after
    message = None
    if keyword == "ADD" and raw.startswith("--", at):
        message = f"unexpected '-'\nexpecting '{escape}', {_ADD_EXPECTED}"
    elif (bad := next(((n, v) for n, v in seen if v is not None), None)) is not None:
        name, value = bad
        message = f"unexpected flag {name} with no value" if not value else f"invalid flag: {name}"
    else:
        names = [n for n, _ in seen]
        message = next(
            (f"duplicate flag: {shown_as}" for n, shown_as in _ONCE[keyword] if names.count(n) > 1),
            None,
        )
    if message is None:
        return None
    line_start = raw.rfind("\n", 0, at) + 1
    return SyntaxProblem(message, line + raw.count("\n", 0, at), column(raw[line_start:at]))
