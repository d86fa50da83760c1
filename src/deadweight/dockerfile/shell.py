"""Just enough of a POSIX shell reader to find the commands a RUN runs.

Rules ask which commands run (``apt-get install ...``), with which words, and whether
a pipe is involved. This reads quotes, escapes, ``$(...)`` and backticks (recursively),
operators (``&& || ; | &``), redirections, here-documents and the compound keywords
(``if``/``for``/``while``/``case``) well enough for that, the way hadolint reads a
script through ShellCheck's parser. It never executes or expands anything.
"""

from __future__ import annotations

from deadweight.dockerfile.record import field, record
from deadweight.dockerfile.regex import lazy

_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "time"}
)
_ASSIGNMENT = lazy(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
_OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n")
# ``$(`` and backticks nest; past this depth the inner text stays one word, unread, so
# input cannot drive the recursion (issue 16). Real scripts nest two or three deep.
MAX_NESTING = 32
# matched where a word starts (no ``^``: a slice of the rest per word made long lines
# quadratic, issue 16)
_REDIRECT = lazy(r"(\d*|&)(>>|>&|>\||<>|<&|<<<|<<-|<<|>|<)")
_OPERATOR_STARTS = frozenset(o[0] for o in _OPERATORS)
# a script without these is words and spaces (see _plain)
_SPECIAL = lazy("[\t\n;&|()<>'\"\\\\$`#]")
# first words the reader does not take for a command name
_STARTS_APART = _KEYWORDS | {"for", "select", "case", "esac", "function"}


@record
class Command:
    """A simple command: its name and its words (quotes removed), assignments dropped."""

    name: str
    args: tuple[str, ...]

    @property
    def flags(self) -> tuple[str, ...]:
        """Flag names as hadolint splits them: ``--a=b`` gives ``a``, ``-xy`` gives x, y."""
        out: list[str] = []
        for a in self.args:
            if a in ("-", "--"):
                continue
            if a.startswith("--"):
                out.append(a[2:].split("=", 1)[0])
            elif a.startswith("-"):
                out.extend(a[1:])
        return tuple(out)

    def has_flag(self, *names: str) -> bool:
        return any(f in names for f in self.flags)

    def has_arg(self, *args: str) -> bool:
        """hadolint's ``cmdHasArgs``: any of these words appears among the arguments."""
        return any(a in args for a in self.args)

    def positional(self, *valued: str) -> tuple[str, ...]:
        """Arguments that are not flags, also dropping the value after each ``valued`` flag.

        A flag's value is the next word when the flag has no ``=``, as hadolint's
        ``dropFlagArg`` does.
        """
        out: list[str] = []
        skip = False
        for a in self.args:
            if skip:
                skip = False
                continue
            if a.startswith("-") and a not in ("-", "--"):
                names = [a[2:]] if a.startswith("--") else list(a[1:])
                if "=" not in a and any(n in valued for n in names):
                    skip = True
                continue
            out.append(a)
        return tuple(out)


@record
class Script:
    """The commands of a shell script in order, and whether a pipe joins any two."""

    commands: tuple[Command, ...]
    has_pipe: bool
    text: str

    def named(self, *names: str) -> tuple[Command, ...]:
        return tuple(c for c in self.commands if c.name in names)

    def any(self, name: str, *args: str) -> bool:
        return any(c.name == name and (not args or c.has_arg(*args)) for c in self.commands)


@record(frozen=False)
class _Word:
    text: str
    quoted: bool = False


@record(frozen=False)
class _Reader:
    src: str
    pos: int = 0
    commands: list[Command] = field(default_factory=list)
    pipe: bool = False
    pending_heredocs: list[tuple[str, bool]] = field(default_factory=list)
    depth: int = 0

    def peek(self, n: int = 0) -> str:
        i = self.pos + n
        return self.src[i] if i < len(self.src) else ""

    def read_until_close(self, opener: str, closer: str) -> str:
        """Text up to the matching closer (pos is just after the opener)."""
        depth = 1
        start = self.pos
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if ch == "\\":
                self.pos += 2
                continue
            if ch == "'" and opener == "(":
                end = self.src.find("'", self.pos + 1)
                self.pos = len(self.src) if end < 0 else end + 1
                continue
            if ch == opener and opener != closer:
                depth += 1
            elif ch == closer:
                depth -= 1
                if depth == 0:
                    inner = self.src[start : self.pos]
                    self.pos += 1
                    return inner
            self.pos += 1
        return self.src[start:]

    def nested(self, text: str) -> None:
        if self.depth >= MAX_NESTING:
            return
        sub = read_script(text, _depth=self.depth + 1)
        self.commands.extend(sub.commands)
        self.pipe = self.pipe or sub.has_pipe

    def word(self) -> _Word:
        out: list[str] = []
        quoted = False
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if ch in " \t\n;&|()<>":
                if ch in "<>" and not out:
                    break
                if ch in "<>":
                    break
                break
            if ch == "\\":
                nxt = self.peek(1)
                self.pos += 2
                if nxt != "\n":
                    out.append(nxt)
                continue
            if ch == "'":
                quoted = quoted or not out
                end = self.src.find("'", self.pos + 1)
                end = len(self.src) if end < 0 else end
                out.append(self.src[self.pos + 1 : end])
                self.pos = end + 1
                continue
            if ch == '"':
                quoted = quoted or not out
                self.pos += 1
                while self.pos < len(self.src) and self.src[self.pos] != '"':
                    c = self.src[self.pos]
                    if c == "\\" and self.peek(1) in '"\\$`\n':
                        out.append(self.peek(1))
                        self.pos += 2
                        continue
                    if c == "$" and self.peek(1) == "(":
                        self.pos += 2
                        inner = self.read_until_close("(", ")")
                        self.nested(inner)
                        out.append(f"$({inner})")
                        continue
                    if c == "`":
                        self.pos += 1
                        inner = self.read_until_close("`", "`")
                        self.nested(inner)
                        continue
                    out.append(c)
                    self.pos += 1
                self.pos += 1
                continue
            if ch == "$" and self.peek(1) == "(":
                self.pos += 2
                inner = self.read_until_close("(", ")")
                if not inner.startswith("("):
                    self.nested(inner)
                out.append(f"$({inner})")
                continue
            if ch == "$" and self.peek(1) == "{":
                self.pos += 2
                inner = self.read_until_close("{", "}")
                out.append("${" + inner + "}")
                continue
            if ch == "`":
                self.pos += 1
                inner = self.read_until_close("`", "`")
                self.nested(inner)
                out.append(f"`{inner}`")
                continue
            out.append(ch)
            self.pos += 1
        return _Word("".join(out), quoted)

    def skip_blanks(self) -> None:
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if ch in " \t":
                self.pos += 1
            elif ch == "\\" and self.peek(1) == "\n":
                self.pos += 2
            else:
                break

    def skip_comment(self) -> None:
        end = self.src.find("\n", self.pos)
        self.pos = len(self.src) if end < 0 else end

    def read_heredoc_bodies(self) -> None:
        for delimiter, strip in self.pending_heredocs:
            while self.pos < len(self.src):
                end = self.src.find("\n", self.pos)
                end = len(self.src) if end < 0 else end
                line = self.src[self.pos : end]
                self.pos = end + 1
                if (line.lstrip("\t") if strip else line) == delimiter:
                    break
        self.pending_heredocs.clear()


def read_script(text: str, *, _depth: int = 0) -> Script:
    """Read a shell script into its commands."""
    if _SPECIAL.search(text) is None:
        return _plain(text)
    return _read(text, _depth)


def _plain(text: str) -> Script:
    """A script of bare words and spaces, read as :func:`_read` reads it without walking
    it a character at a time (``RUN npm ci``; the 100,000 RUNs of issue 16): one simple
    command, unless its first word is one the reader treats apart."""
    words = [w for w in text.split(" ") if w]
    if words and words[0] in _STARTS_APART:
        return _read(text, 0)
    while words and _ASSIGNMENT.match(words[0]):
        words.pop(0)
    commands = (Command(words[0], tuple(words[1:])),) if words else ()
    return Script(commands, False, text)


def _read(text: str, _depth: int) -> Script:
    r = _Reader(text, depth=_depth)
    words: list[_Word] = []
    skip_until_do = False  # inside ``for x in ...`` / ``case ... in``
    in_case_patterns = False

    def finish() -> None:
        nonlocal words
        names = [w for w in words]
        while names and not names[0].quoted and _ASSIGNMENT.match(names[0].text):
            names.pop(0)
        if names:
            r.commands.append(Command(names[0].text, tuple(w.text for w in names[1:])))
        words = []

    while r.pos < len(text):
        r.skip_blanks()
        if r.pos >= len(text):
            break
        ch = text[r.pos]
        if ch == "#" and not words:
            r.skip_comment()
            continue
        if in_case_patterns and not words and ch not in ";\n":
            if text.startswith("esac", r.pos):
                in_case_patterns = False
                r.pos += 4
                continue
            close = text.find(")", r.pos)
            r.pos = len(text) if close < 0 else close + 1
            in_case_patterns = False
            continue
        if ch == "#" and r.pos > 0 and text[r.pos - 1] in " \t":
            r.skip_comment()
            continue
        m = _REDIRECT.match(text, r.pos) if ch in "<>&0123456789" else None
        if m and (ch in "<>" or m.group(1)):
            r.pos = m.end()
            op = m.group(2)
            r.skip_blanks()
            target = r.word()
            if op in ("<<", "<<-"):
                r.pending_heredocs.append((target.text, op == "<<-"))
            continue
        op = (
            next((o for o in _OPERATORS if text.startswith(o, r.pos)), None)
            if ch in _OPERATOR_STARTS
            else None
        )
        if op is not None:
            r.pos += len(op)
            if skip_until_do and op in (";", "\n"):
                words = []
                continue
            finish()
            if op == "|" or op == "|&":
                r.pipe = True
            if op == "\n" and r.pending_heredocs:
                r.read_heredoc_bodies()
            if op == ";;":
                in_case_patterns = True
            continue
        w = r.word()
        if not w.text and not w.quoted:
            r.pos += 1  # a character no rule cares about
            continue
        if not words and not w.quoted:
            if skip_until_do:
                if w.text in ("do", "in") and skip_until_do:
                    if w.text == "do":
                        skip_until_do = False
                    continue
                continue
            if w.text in ("for", "select"):
                skip_until_do = True
                continue
            if w.text == "case":
                r.skip_blanks()
                r.word()
                r.skip_blanks()
                r.word()  # ``in``
                in_case_patterns = True
                continue
            if w.text in ("esac",):
                in_case_patterns = False
                continue
            if w.text in _KEYWORDS:
                continue
            if w.text == "function" or (r.peek() == "(" and text.startswith("()", r.pos)):
                continue
        words.append(w)
    finish()
    return Script(tuple(r.commands), r.pipe, text)
