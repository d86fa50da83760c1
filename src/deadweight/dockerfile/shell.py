"""Just enough of a POSIX shell reader to find the commands a RUN runs.

Rules ask which commands run (``apt-get install ...``), with which words, and whether
a pipe is involved. This reads quotes, escapes, ``$(...)`` and backticks (recursively),
operators (``&& || ; | &``), redirections, here-documents and the compound keywords
(``if``/``for``/``while``/``case``) well enough for that, the way hadolint reads a
script through ShellCheck's parser. It never executes or expands anything.

Where ShellCheck's parser gives up, so does this reader, since hadolint's rules then see
what ShellCheck kept:

- it *stops* (keeps the commands before) where a command should start but a control
  operator stands: ``a; &b``, ``a; ; b``, an unmatched ``)`` (ShellCheck's SC1070
  "Parsing stopped here"); PowerShell's ``cmd; &$exe`` in a Windows RUN is the usual one;
  and where a word or ``(`` follows a subshell's ``)`` (PowerShell's
  ``(New-Object X).Method(...)``), unless something is open around it (then it fails);
- it *fails* (no command at all) where an operator wants a command after it and finds
  another operator (``a | | b``, ``a && ; b``), where ``(`` follows a command's words
  (``a (b c)``), or where a command word starts with ``[`` not followed by a blank
  (``[Net.ServicePointManager]::SecurityProtocol = ...``, read as a test never closed).
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
_CASE_WORD = lazy(r"(case|esac)(?=[ \t\n;)]|$)")
_EXPANDS = frozenset("({_@*#?$!-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OPERATOR_STARTS = frozenset(o[0] for o in _OPERATORS)
# a plain parameter after ``$``: a name, one digit, or a special parameter
_PARAMETER = lazy(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]")
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
    # ShellCheck's parser would stop or fail on it (``commands`` is what it kept)
    broken: bool = False

    def named(self, *names: str) -> tuple[Command, ...]:
        return tuple(c for c in self.commands if c.name in names)

    def any(self, name: str, *args: str) -> bool:
        return any(c.name == name and (not args or c.has_arg(*args)) for c in self.commands)


class _Unparsable(Exception):
    """ShellCheck's parser fails on the script: hadolint sees no command in it."""


@record(frozen=False)
class _Word:
    text: str
    quoted: bool = False
    expanded: bool = False  # holds a ``$`` expansion or backticks: no literal name


@record(frozen=False)
class _Reader:
    src: str
    pos: int = 0
    commands: list[Command] = field(default_factory=list)
    pipe: bool = False
    pending_heredocs: list[tuple[str, bool]] = field(default_factory=list)
    depth: int = 0
    hadolint: bool = False

    def peek(self, n: int = 0) -> str:
        i = self.pos + n
        return self.src[i] if i < len(self.src) else ""

    def read_until_close(self, opener: str, closer: str) -> str:
        """Text up to the matching closer (pos is just after the opener)."""
        depth = 1
        cases = 0  # a ``case`` pattern's ``)`` inside ``$(...)`` closes nothing
        start = self.pos
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if ch == "\\":
                self.pos += 2
                continue
            if opener == "(" and ch in "ce" and _CASE_WORD.match(self.src, self.pos):
                if self.pos == start or self.src[self.pos - 1] in " \t\n;&|(":
                    cases += 1 if ch == "c" else -1
                self.pos += 4
                continue
            if ch == ")" and cases > 0 and depth == 1:
                self.pos += 1
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
        if self.hadolint:
            raise _Unparsable  # never closed: ShellCheck fails
        return self.src[start:]

    def nested(self, text: str, *, backticks: bool = False) -> str:
        """Read a ``$(...)`` or backticks body; return hadolint's text of the expansion."""
        if self.depth >= MAX_NESTING:
            return "${}"
        sub = read_script(text, hadolint=self.hadolint, _depth=self.depth + 1)
        if sub.broken and not backticks:  # inside ``$(...)``, ShellCheck fails the whole
            raise _Unparsable
        self.commands.extend(sub.commands)
        self.pipe = self.pipe or sub.has_pipe
        if backticks:
            return "${VAR}"
        # hadolint's ``simplify``: a command's words run together; a pipe or ``&&``/``||``
        # list has no text
        if sub.has_pipe or "&&" in text or "||" in text:
            return "${}"
        return "${" + "".join(c.name + "".join(c.args) for c in sub.commands) + "}"

    def dollar(self) -> str | None:
        """At a ``$`` that starts a plain parameter (``$NAME``, ``$1``, ``$@``): hadolint's
        text of it, ``${NAME}`` (ShellCheck reads it as a braced expansion, and hadolint's
        ``simplify`` writes it so); None elsewhere."""
        m = _PARAMETER.match(self.src, self.pos + 1)
        if m is None:
            return None
        self.pos = m.end()
        return "${" + m.group() + "}"

    def word(self) -> _Word:
        out: list[str] = []
        quoted = expanded = False
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
                if end < 0 and self.hadolint:
                    raise _Unparsable
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
                    if c == "$" and self.peek(1) in _EXPANDS:
                        expanded = True
                    if c == "$" and self.peek(1) == "(":
                        self.pos += 2
                        inner = self.read_until_close("(", ")")
                        text = self.nested(inner)
                        out.append(text if self.hadolint else f"$({inner})")
                        continue
                    if c == "`":
                        expanded = True
                        self.pos += 1
                        inner = self.read_until_close("`", "`")
                        text = self.nested(inner, backticks=True)
                        if self.hadolint:
                            out.append(text)
                        continue
                    if c == "$" and self.hadolint and (param := self.dollar()) is not None:
                        out.append(param)
                        continue
                    out.append(c)
                    self.pos += 1
                if self.pos >= len(self.src) and self.hadolint:
                    raise _Unparsable
                self.pos += 1
                continue
            if ch == "$" and self.peek(1) in _EXPANDS:
                expanded = True
            if ch == "$" and self.peek(1) == "(":
                self.pos += 2
                inner = self.read_until_close("(", ")")
                text = "${VAR}"  # ``$((...))``: arithmetic
                if not inner.startswith("("):
                    text = self.nested(inner)
                out.append(text if self.hadolint else f"$({inner})")
                continue
            if ch == "$" and self.hadolint and (param := self.dollar()) is not None:
                expanded = True
                out.append(param)
                continue
            if ch == "$" and self.peek(1) == "{":
                self.pos += 2
                inner = self.read_until_close("{", "}")
                out.append("${" + inner + "}")
                continue
            if ch == "`":
                expanded = True
                self.pos += 1
                inner = self.read_until_close("`", "`")
                text = self.nested(inner, backticks=True)
                out.append(text if self.hadolint else f"`{inner}`")
                continue
            out.append(ch)
            self.pos += 1
        return _Word("".join(out), quoted, expanded)

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


def read_script(text: str, *, hadolint: bool = False, _depth: int = 0) -> Script:
    """Read a shell script into its commands. ``hadolint=True`` reads it as hadolint
    sees it through ShellCheck's parser: where that parser stops or fails (see the
    module's notes) and without the commands whose name is not a literal word
    (``$JAVA_HOME/bin/java``, ``"$@"``: ShellCheck's ``getCommandName`` has none)."""
    if _SPECIAL.search(text) is None:
        script = _plain(text, hadolint)
        first = text.lstrip(" ")
        if hadolint and first.startswith("[") and _test_never_closed(first, 0):
            return Script((), False, text, broken=True)
        return script
    return _read(text, _depth, hadolint)


def _plain(text: str, hadolint: bool) -> Script:
    """A script of bare words and spaces, read as :func:`_read` reads it without walking
    it a character at a time (``RUN npm ci``; the 100,000 RUNs of issue 16): one simple
    command, unless its first word is one the reader treats apart."""
    words = [w for w in text.split(" ") if w]
    if words and words[0] in _STARTS_APART:
        return _read(text, 0, hadolint)
    while words and _ASSIGNMENT.match(words[0]):
        words.pop(0)
    commands = (Command(words[0], tuple(words[1:])),) if words else ()
    return Script(commands, False, text)


_FUNCTION_NAME = lazy(r"^[^\s$`'\"=]+$")
_LOOP_NAME = lazy(r"[A-Za-z_][A-Za-z0-9_]*(?=[ \t\n;]|$)")
_BINARY = frozenset({"|", "||", "&&", "|&"})
_BLANK = frozenset(" \t\n")


def _test_never_closed(text: str, pos: int) -> bool:
    """A command word starting with ``[`` glued to what follows (``[x]``, ``[[x]]``):
    ShellCheck reads a test there and fails to find its end."""
    after = text[pos + 1 : pos + 3]
    if not after or after[0] in _BLANK:
        return False
    return not (after[0] == "[" and (len(after) == 1 or after[1] in _BLANK))


def _read(text: str, _depth: int, hadolint: bool) -> Script:
    try:
        return _read_commands(_Reader(text, depth=_depth, hadolint=hadolint))
    except _Unparsable:
        return Script((), False, text, broken=True)


def _read_commands(r: _Reader) -> Script:
    text = r.src
    words: list[_Word] = []
    skip_until_do = False  # inside ``for x in ...`` / ``case ... in``
    in_case_patterns = False
    # what came last: "start", "sep" (``;`` or newline), "bg" (``&``), "binary" (a
    # pipe or ``&&``/``||``, which want a command next) or "word"; and open subshells
    last = "start"
    subshells = cases = 0
    # open ``if``/``while``/``until``/``for``/``{`` bodies, and whether a subshell's ``)``
    # came last (ShellCheck wants an operator or a redirection after it)
    compounds = 0
    after_subshell = False

    def glued_to_subshell() -> Script:
        """A word or ``(`` right after a subshell (``(New-Object X).Method(...)``):
        ShellCheck stops there at the top level and fails inside anything open."""
        if compounds > 0 or subshells > 0 or cases > 0:
            raise _Unparsable
        return Script(tuple(r.commands), r.pipe, text, broken=True)

    def finish() -> None:
        nonlocal words
        names = [w for w in words]
        while names and not names[0].quoted and _ASSIGNMENT.match(names[0].text):
            names.pop(0)
        if names and not (r.hadolint and names[0].expanded):
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
                cases -= 1
                last = "word"
                r.pos += 4
                continue
            close = text.find(")", r.pos)
            r.pos = len(text) if close < 0 else close + 1
            in_case_patterns = False
            last = "sep"
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
        if op == "(" and text.startswith("()", r.pos):
            r.pos += 2  # a function's ``name()``: no subshell
            continue
        if op is not None:
            if not r.hadolint:
                pass
            elif after_subshell and op == "(":
                return glued_to_subshell()
            elif skip_until_do:
                if op == "(":
                    raise _Unparsable  # ``for i in (x)``: cmd.exe's, not the shell's
            elif op == ")" and subshells == 0:
                finish()  # an unmatched ")": ShellCheck stops after what it read
                return Script(tuple(r.commands), r.pipe, text, broken=True)
            elif not words and op != "(":
                if last == "binary" and op != "\n":
                    raise _Unparsable  # a pipe or ``&&``/``||`` wants a command
                stray = (
                    op in _BINARY
                    or op == "&"
                    or (op == ";" and last != "bg")
                    or (op == ";;" and not cases)
                )
                if stray and last != "word":  # where a command should start
                    return Script(tuple(r.commands), r.pipe, text, broken=True)
            elif op == "(" and words:
                if len(words) == 1 and _FUNCTION_NAME.match(words[0].text):
                    raise _Unparsable  # ``a (b c)``: a function's parameters
                return Script(tuple(r.commands), r.pipe, text, broken=True)  # ``$v = (x)``
            r.pos += len(op)
            if skip_until_do and op in (";", "\n"):
                words = []
                continue
            finish()
            after_subshell = op == ")" and subshells > 0
            if op == "(":
                subshells += 1
            elif op == ")":
                subshells -= 1
            if op in _BINARY:
                last = "binary"
            elif op == "&":
                last = "bg"
            elif op != "\n" or last != "binary":
                last = "sep" if op != ")" else "word"
            if op == "|" or op == "|&":
                r.pipe = True
            if op == "\n" and r.pending_heredocs:
                r.read_heredoc_bodies()
            if op == ";;":
                in_case_patterns = True
            continue
        if after_subshell and r.hadolint:
            return glued_to_subshell()
        closed = ch != "[" or words or skip_until_do or not _test_never_closed(text, r.pos)
        if r.hadolint and not closed:
            raise _Unparsable
        w = r.word()
        if not w.text and not w.quoted:
            r.pos += 1  # a character no rule cares about
            continue
        last = "word"
        if not words and not w.quoted:
            if skip_until_do:
                if w.text in ("do", "in") and skip_until_do:
                    if w.text == "do":
                        skip_until_do = False
                    continue
                continue
            if w.text in ("for", "select"):
                skip_until_do = True
                compounds += 1
                r.skip_blanks()
                if text.startswith("((", r.pos):
                    end = text.find("))", r.pos)
                    r.pos = len(text) if end < 0 else end + 2
                elif r.hadolint and not _LOOP_NAME.match(text, r.pos):
                    raise _Unparsable  # ``for %i in ...``: no variable name
                continue
            if w.text == "case":
                r.skip_blanks()
                r.word()
                r.skip_blanks()
                r.word()  # ``in``
                in_case_patterns = True
                cases += 1
                continue
            if w.text in ("esac",):
                in_case_patterns = False
                cases -= 1
                last = "word"
                continue
            if w.text in _KEYWORDS:
                if w.text in ("if", "while", "until", "{"):
                    compounds += 1
                elif w.text in ("fi", "done", "}"):
                    compounds -= 1
                continue
            if w.text == "function" or (r.peek() == "(" and text.startswith("()", r.pos)):
                continue
        words.append(w)
    finish()
    return Script(tuple(r.commands), r.pipe, text)
