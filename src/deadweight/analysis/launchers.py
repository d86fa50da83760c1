"""Programs that start other programs: shells, the wrappers that run the command line
they are given (``env``, ``tini``, ``gosu``...), ``#!`` lines, and the shell builtins that
run no file at all."""

from __future__ import annotations

import shlex

SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"})
# Builtins of POSIX sh and bash: running one executes no file.
BUILTINS = frozenset(
    [
        "[",
        "[[",
        "test",
        "echo",
        "printf",
        "set",
        "unset",
        "export",
        "readonly",
        "cd",
        "pwd",
        "exit",
        "return",
        "shift",
        "true",
        "false",
        ":",
        "read",
        "local",
        "declare",
        "typeset",
        "trap",
        "wait",
        "umask",
        "ulimit",
        "getopts",
        "hash",
        "type",
        "alias",
        "unalias",
        "let",
        "shopt",
        "pushd",
        "popd",
        "dirs",
        "kill",
        "jobs",
        "fg",
        "bg",
        "times",
        "break",
        "continue",
        "eval",
        "source",
        ".",
        "exec",
        "command",
        "builtin",
        "enable",
        "mapfile",
        "readarray",
        "caller",
        "disown",
        "suspend",
        "logout",
        "help",
        "history",
    ]
)
# Programs that run the command line they are given: name -> options that take a value.
WRAPPERS: dict[str, frozenset[str]] = {
    "env": frozenset({"-u", "--unset", "-C", "--chdir"}),
    "nohup": frozenset(),
    "nice": frozenset({"-n", "--adjustment"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "tini": frozenset({"-p", "-e"}),
    "dumb-init": frozenset({"-r", "--rewrite"}),
    "catatonit": frozenset(),
    "setsid": frozenset(),
    "ionice": frozenset({"-c", "-n", "-p"}),
    "chrt": frozenset(),
    "timeout": frozenset({"-s", "--signal", "-k", "--kill-after"}),
}
USER_WRAPPERS = frozenset({"gosu", "su-exec", "chroot"})  # first argument: user or dir


def shebang(data: bytes) -> list[str]:
    """The interpreter argv of a ``#!`` line (Linux passes the rest as one argument)."""
    line = data[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    interp, _, rest = line.partition(" ")
    rest = rest.strip()
    return [interp, rest] if rest else [interp] if interp else []


def wrapped(base: str, args: list[str]) -> list[str] | None:
    """The command line a wrapper runs, or None when ``base`` is not a wrapper."""
    if base in USER_WRAPPERS:
        return args[1:] if len(args) > 1 else None
    valued = WRAPPERS.get(base)
    if valued is None:
        return None
    rest = list(args)
    duration = base == "timeout"  # timeout's first operand is the time, not the command
    while rest:
        word = rest[0]
        if word == "--":
            return rest[1:]
        if base == "env" and ("=" in word and not word.startswith("-")):
            rest = rest[1:]
        elif base == "env" and word in ("-S", "--split-string") and len(rest) > 1:
            return [*shlex.split(rest[1]), *rest[2:]]
        elif word.startswith("-"):
            rest = rest[2:] if word in valued else rest[1:]
        elif duration:
            rest, duration = rest[1:], False
        else:
            return rest
    return []
