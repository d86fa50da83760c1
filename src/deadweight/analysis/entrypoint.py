"""What a container runs: its command line followed through the image, without running it.

Docker starts ``Entrypoint + Cmd`` (``Cmd`` alone without an entrypoint; a ``docker run``
command replaces ``Cmd``). The first word is looked up through the config's ``PATH`` in the
image's merged tree, following symlinks inside the tree. A script's ``#!`` line names its
interpreter (``#!/usr/bin/env node`` runs env, which runs node); a shell script is read with
our shell reader (``dockerfile.shell``) and the commands it runs are followed in turn.
Wrappers that run their arguments (``exec``, ``env``, ``tini``, ``gosu``, ...) are seen
through. The positional parameters are tracked: ``exec "$@"`` runs the script's arguments,
and ``set -- node "$@"`` may put node in front of them, as the official node image's
``docker-entrypoint.sh`` does. The reader has no control flow: every ``set --`` is a
possibility, so every program any branch could run is reported.

Pure: file contents come from a ``read`` callable (the caller read the layers).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from deadweight.analysis.launchers import BUILTINS, SHELLS, shebang, wrapped
from deadweight.dockerfile.shell import read_script
from deadweight.filetree.resolve import Resolver

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_DEPTH = 12
MAX_VARIANTS = 8
ARGS = ("$@", "${@}", "$*", "${*}")
Kind = Literal["elf", "script", "other", "unread"]
Read = Callable[[str], bytes | None]
_FUNCTION = re.compile(r"(?m)^\s*(?:function\s+)?([A-Za-z_][\w.-]*)\s*(?:\(\s*\)|(?=\s*\{))")


@dataclass(frozen=True, slots=True)
class Program:
    """A file the command line executes or a script sources (a tree path, symlinks
    resolved), the symlinks crossed to reach it, and what it is."""

    path: str
    links: tuple[str, ...]
    kind: Kind


@dataclass(frozen=True, slots=True)
class Reading:
    """What a command line runs, as far as the image tells.

    ``names``: every command name run, as written (builtins excluded), in order found;
    ``from_args``: those that came only from the arguments given to the first program (the
    ``Cmd`` under an entrypoint script's ``exec "$@"``), never from a script's text.
    ``missing``: names not found in the image; ``unknown``: what cannot be read without
    running it (``eval``, a command named by a variable).
    """

    programs: tuple[Program, ...] = ()
    names: tuple[str, ...] = ()
    from_args: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    passes_args: bool = False
    unread: tuple[str, ...] = ()  # scripts (tree paths) whose text ``read`` did not give

    def paths(self) -> tuple[str, ...]:
        """Every tree path the command line needs: the programs and the links to them."""
        out: dict[str, None] = {}
        for p in self.programs:
            out.update(dict.fromkeys(p.links))
            out[p.path] = None
        return tuple(out)


def command_lines(config: Mapping[str, Any], runs: Sequence[Sequence[str]] = ()) -> list[list[str]]:
    """The argv the container starts with: ``Entrypoint + Cmd``, and ``Entrypoint + RUN``
    for each of ``runs`` (a ``docker run IMAGE RUN...`` replaces ``Cmd``)."""
    ep, cmd = _strings(config.get("Entrypoint")), _strings(config.get("Cmd"))
    out = [ep + cmd] if ep + cmd else []
    for run in runs:
        line = ep + [str(w) for w in run]
        if line and line not in out:
            out.append(line)
    return out


def health_line(config: Mapping[str, Any]) -> list[str]:
    """The argv of the config's ``HEALTHCHECK``, which the engine runs in the container
    while it lives: ``CMD`` as written, ``CMD-SHELL`` through the config's ``Shell`` (``/bin/sh
    -c`` without one, as dockerd's ``getShell``); none for ``NONE`` or no healthcheck."""
    health = config.get("Healthcheck")
    test = _strings(health.get("Test")) if isinstance(health, Mapping) else []
    if not test or test[0] not in ("CMD", "CMD-SHELL") or len(test) < 2:
        return []
    if test[0] == "CMD":
        return test[1:]
    return (_strings(config.get("Shell")) or ["/bin/sh", "-c"]) + [" ".join(test[1:])]


def path_dirs(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``PATH`` of the config's ``Env`` (docker's default when it has none)."""
    value = env_of(config).get("PATH", DEFAULT_PATH)
    return tuple(d for d in value.split(":") if d)


def env_of(config: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in _strings(config.get("Env")):
        key, sep, value = item.partition("=")
        if sep:
            out[key] = value
    return out


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


@dataclass
class _State:
    resolver: Resolver
    path: tuple[str, ...]
    workdir: str
    read: Read
    programs: dict[str, Program] = field(default_factory=dict)
    names: dict[str, None] = field(default_factory=dict)
    own: set[str] = field(default_factory=set)  # names the scripts' text runs
    missing: dict[str, None] = field(default_factory=dict)
    unknown: dict[str, None] = field(default_factory=dict)
    scripts: set[tuple[str, tuple[tuple[str, bool], ...]]] = field(default_factory=set)
    passes_args: bool = False
    follow_args: bool = True
    unread: dict[str, None] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)  # shell functions defined so far


# A word of a command line, and whether it came from the top-level arguments.
_Word = tuple[str, bool]


def read_command(
    argv: Sequence[str],
    *,
    resolver: Resolver,
    read: Read,
    path: Sequence[str] = tuple(DEFAULT_PATH.split(":")),
    workdir: str = "/",
    args_from: int | None = None,
    follow_args: bool = True,
) -> Reading:
    """Follow ``argv`` through the image. Words from index ``args_from`` on are the
    arguments given to the first program (the ``Cmd`` after an entrypoint); with
    ``follow_args`` False a program they name is recorded but not followed."""
    state = _State(resolver, tuple(path), workdir or "/", read)
    state.follow_args = follow_args
    words = [(w, args_from is not None and i >= args_from) for i, w in enumerate(argv)]
    _run(state, words, 0)
    return Reading(
        tuple(state.programs.values()),
        tuple(state.names),
        tuple(n for n in state.names if n not in state.own),
        tuple(state.missing),
        tuple(state.unknown),
        state.passes_args,
        tuple(state.unread),
    )


def _run(state: _State, argv: list[_Word], depth: int) -> None:
    """Record what running ``argv`` executes."""
    while argv and depth <= MAX_DEPTH:
        name, from_args = argv[0]
        if "$" in name or "`" in name:
            state.unknown[name] = None
            return
        base = posixpath.basename(name)
        state.names[base] = None
        if not from_args:
            state.own.add(base)
        elif not state.follow_args:
            return
        found = _locate(state, name)
        if found is None:
            state.missing[name] = None
            return
        inner = wrapped(base, [w for w, _ in argv[1:]])
        if found.kind == "script":
            _script(state, found.path, argv, depth)
            return
        if base in SHELLS:
            _shell(state, argv, depth)
            return
        if inner is None:
            return
        tail = argv[len(argv) - len(inner) :] if inner else []
        argv = tail if [w for w, _ in tail] == inner else [(w, False) for w in inner]
        depth += 1


def _locate(state: _State, name: str) -> Program | None:
    """The file ``name`` runs: a path (relative to the working directory) or a ``PATH``
    search. Records it and whatever its ``#!`` line names."""
    if "/" in name:
        candidates = [posixpath.join(state.workdir, name)]
    else:
        candidates = [posixpath.join(d, name) for d in state.path]
    for candidate in candidates:
        hit = state.resolver.resolve(candidate)
        node = hit.node
        if node is None or node.kind not in ("file", "hardlink"):
            continue
        if "/" not in name and not node.mode & 0o111:
            continue  # execvp skips files that are not executable
        data = state.read(hit.path)
        kind: Kind = "unread" if data is None else _kind(data)
        if data is None:
            state.unread[hit.path] = None
        program = Program(hit.path, hit.links, kind)
        state.programs.setdefault(hit.path, program)
        return program
    return None


def _kind(data: bytes) -> Kind:
    if data[:4] == b"\x7fELF":
        return "elf"
    if data[:2] == b"#!":
        return "script"
    return "other"


def _script(state: _State, path: str, argv: list[_Word], depth: int) -> None:
    data = state.read(path) or b""
    interp = shebang(data)
    if not interp:
        state.unknown[f"/{path}: empty #! line"] = None
        return
    line = [(w, False) for w in interp]
    if posixpath.basename(interp[0]) == "env" and len(interp) == 2:
        line = [(interp[0], False), *((w, False) for w in interp[1].split())]  # env -S too
    _run(state, [*line, ("/" + path, False), *argv[1:]], depth + 1)


def _shell(state: _State, argv: list[_Word], depth: int) -> None:
    """A shell: ``-c STRING`` or a script file, each read for the commands it runs."""
    rest = argv[1:]
    while rest and rest[0][0].startswith("-") and rest[0][0] not in ("-c", "--"):
        rest = rest[1:]
    if rest and rest[0][0] == "--":
        rest = rest[1:]
    if rest and rest[0][0] == "-c":
        if len(rest) < 2:
            return
        text, positional = rest[1][0], rest[3:]  # $0 is the word after the string
        _text(state, text, list(positional), depth)
        return
    if not rest:
        return
    script = state.resolver.resolve(posixpath.join(state.workdir, rest[0][0]))
    if script.node is None:
        state.missing[rest[0][0]] = None
        return
    state.programs.setdefault(script.path, Program(script.path, script.links, "script"))
    data = state.read(script.path)
    if data is None:
        state.unread[script.path] = None
        return
    _text(state, data.decode("utf-8", "replace"), rest[1:], depth)


def _text(state: _State, text: str, positional: list[_Word], depth: int) -> None:
    key = (text, tuple(positional))
    if key in state.scripts or depth > MAX_DEPTH:
        return
    state.scripts.add(key)
    state.functions.update(_FUNCTION.findall(text))
    variants: list[list[_Word]] = [positional]
    for command in read_script(text).commands:
        words = [command.name, *command.args]
        if command.name == "set" and command.args and not command.args[0].startswith("-"):
            words = ["set", "--", *command.args]
        if words[0] == "set" and len(words) > 1 and words[1] == "--":
            new = [v for old in variants for v in [_expand(words[2:], old)] if v is not None]
            variants = _unique(variants + new)[:MAX_VARIANTS]
            continue
        if words[0] == "shift":
            variants = _unique(variants + [v[1:] for v in variants])[:MAX_VARIANTS]
            continue
        if words[0] in (".", "source") and len(words) > 1:
            _source(state, words[1], variants[0], depth)
            continue
        if words[0] == "eval":
            state.unknown["eval " + " ".join(words[1:])] = None
            continue
        if words[0] == "command" and words[1:2] and words[1].startswith("-"):
            continue  # command -v / -V: looks up, runs nothing
        while words and words[0] in ("exec", "command", "builtin"):
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[1:]
        if not words or words[0] in state.functions or words[0] in BUILTINS:
            continue
        for variant in variants:
            line = _expand(words, variant)
            if line is None:
                state.unknown[" ".join(words)] = None
            elif line:
                if any(w in ARGS for w in words[:1]):
                    state.passes_args = True
                _run(state, line, depth + 1)


def _source(state: _State, name: str, positional: list[_Word], depth: int) -> None:
    hit = state.resolver.resolve(posixpath.join(state.workdir, name))
    if hit.node is None:
        if "$" in name:
            state.unknown[f". {name}"] = None
        else:
            state.missing[name] = None
        return
    state.programs.setdefault(hit.path, Program(hit.path, hit.links, "script"))
    data = state.read(hit.path)
    if data is None:
        state.unread[hit.path] = None
        return
    _text(state, data.decode("utf-8", "replace"), positional, depth + 1)


def _expand(words: Sequence[str], positional: list[_Word]) -> list[_Word] | None:
    """``words`` with ``"$@"`` and ``$1``.. replaced; None when a word needs a variable."""
    out: list[_Word] = []
    for w in words:
        if w in ARGS:
            out.extend(positional)
            continue
        m = re.fullmatch(r"\$\{?([1-9])\}?", w)
        if m:
            i = int(m.group(1)) - 1
            if i < len(positional):
                out.append(positional[i])
            continue
        out.append((w, False))
    if out and ("$" in out[0][0] and not out[0][1]):
        return None
    return out


def _unique(variants: list[list[_Word]]) -> list[list[_Word]]:
    seen: list[list[_Word]] = []
    for v in variants:
        if v not in seen:
            seen.append(v)
    return seen
