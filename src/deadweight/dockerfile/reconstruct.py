"""A Dockerfile rebuilt from an image's history, saying where the history cannot tell.

Each history entry's ``created_by`` records one instruction (docker-formats.md §8.1):

* the classic builder: ``/bin/sh -c #(nop)  ENV A=b`` for metadata, ``/bin/sh -c #(nop)
  COPY file:<sha256> in ./`` for copies (the source names are gone, only a hash of the
  content is left), ``[|N K=V ...] /bin/sh -c CMD`` for RUN;
* BuildKit (comment ``buildkit.dockerfile.v0``): ``RUN [|N K=V ...] /bin/sh -c CMD #
  buildkit``, ``COPY [--chown=..] [--chmod=..] SRC... DEST # buildkit`` (``--from`` is not
  recorded), ``EXPOSE map[8080/tcp:{}]``, ``CMD ["a" "b"]`` (Go's ``%q`` of the list); a
  heredoc RUN keeps its body in the ``-c`` script (moby/buildkit dockerfile2llb
  ``dispatchRun``), except a ``#!`` script, which runs as ``/dev/pipes/NAME``;
* ``|N K=V`` prefixes are the build args in force for that RUN, as used.

Where the base image's rows end is ``dockerfile.base``'s to say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from deadweight.dockerfile.base import Split, rootfs, split
from deadweight.dockerfile.syntax import KEYWORDS
from deadweight.dockerfile.words import go_list, pairs, quote
from deadweight.image import Image
from deadweight.spec.config import HistoryEntry

Builder = Literal["classic", "buildkit", "import", "other"]
DEFAULT_SHELL = ("/bin/sh", "-c")
UNKNOWN = "unknown: "

_BUILDKIT_SUFFIX = " # buildkit"
_PIPE_SCRIPT = re.compile(r"/dev/pipes/(\S+)")
_HEREDOC_START = re.compile(r"<<-?[\"']?[A-Za-z0-9_]")
_NOP = re.compile(r"^(.*?)\s*#\(nop\)\s+(.*)$", re.S)
_ARGS_PREFIX = re.compile(r"^\|(\d+) ")
_CLASSIC_COPY = re.compile(
    r"^(COPY|ADD) ((?:--\S+ )*)(file|dir|multi):([0-9a-f]+) in (.*?)\s*$", re.S
)


@dataclass(frozen=True, slots=True)
class Step:
    """One history row and the instruction rebuilt from it.

    ``row`` counts history entries from the bottom, from 1; ``layer`` is the index of the
    layer the row wrote (None for an empty layer). ``text`` is the instruction ("" when no
    instruction made the row); ``notes`` say what the history cannot tell about it.
    """

    row: int
    created_by: str
    layer: int | None
    keyword: str
    text: str
    notes: tuple[str, ...] = ()
    builder: Builder = "classic"
    base: bool = False
    unknown_source: bool = False


@dataclass(frozen=True, slots=True)
class Reconstruction:
    """The rebuilt Dockerfile and, for each instruction in it, the history row it came from."""

    text: str
    steps: tuple[Step, ...]
    spans: tuple[tuple[int, int, int], ...]  # (first line, last line, row), 1-based lines
    base_rows: int
    base_guess: str

    def step(self, row: int) -> Step | None:
        return self.steps[row - 1] if 1 <= row <= len(self.steps) else None

    def with_rows(self) -> str:
        """The text with a ``# row N`` comment above each instruction."""
        lines = self.text.split("\n")
        for first, _, row in sorted(self.spans, reverse=True):
            notes = len(self.steps[row - 1].notes)  # above the instruction's own notes
            lines.insert(first - 1 - notes, f"# row {row}")
        return "\n".join(lines)


def _env_map(config: Mapping[str, Any]) -> dict[str, str]:
    env = config.get("Env") or []
    return dict(e.split("=", 1) for e in env if isinstance(e, str) and "=" in e)


# one encoder: ``json.dumps`` with an option builds a new one at each call
_JSON = json.JSONEncoder(ensure_ascii=False)


def _json_list(items: Sequence[str]) -> str:
    return _JSON.encode(list(items))


def _duration(ns: object) -> str:
    if not isinstance(ns, int) or ns <= 0:
        return ""
    if ns % 1_000_000_000 == 0:
        return f"{ns // 1_000_000_000}s"
    return f"{ns // 1_000_000}ms"


def _healthcheck(config: Mapping[str, Any]) -> str | None:
    hc = config.get("Healthcheck")
    if not isinstance(hc, dict) or not isinstance(hc.get("Test"), list) or not hc["Test"]:
        return None
    test = [str(t) for t in hc["Test"]]
    if test[0] == "NONE":
        return "HEALTHCHECK NONE"
    flags = "".join(
        f" --{flag}={_duration(hc.get(key))}"
        for flag, key in (
            ("interval", "Interval"),
            ("timeout", "Timeout"),
            ("start-period", "StartPeriod"),
            ("start-interval", "StartInterval"),
        )
        if _duration(hc.get(key))
    )
    if isinstance(hc.get("Retries"), int) and hc["Retries"] > 0:
        flags += f" --retries={hc['Retries']}"
    if test[0] == "CMD-SHELL" and len(test) == 2:
        return f"HEALTHCHECK{flags} CMD {test[1]}"
    return f"HEALTHCHECK{flags} CMD {_json_list(test[1:])}"


# -- one row -------------------------------------------------------------------------------


@dataclass
class _State:
    shell: tuple[str, ...] = DEFAULT_SHELL
    args: dict[str, str] | None = None  # ARGs declared in the current build, with values


@dataclass(frozen=True, slots=True)
class _Parsed:
    keyword: str
    text: str
    notes: tuple[str, ...] = ()
    builder: Builder = "classic"
    unknown_source: bool = False
    build_args: tuple[tuple[str, str], ...] = ()


def _split_build_args(text: str, shell: tuple[str, ...]) -> tuple[list[tuple[str, str]], str]:
    """``|N K=V ... rest`` → the N pairs and the rest (values may hold spaces)."""
    m = _ARGS_PREFIX.match(text)
    if m is None:
        return [], text
    n, body = int(m.group(1)), text[m.end() :]
    for sh in (shell, DEFAULT_SHELL):
        marker = " " + " ".join(sh) + " "
        at = body.find(marker)
        if at >= 0:
            found = pairs(body[:at], {})
            if len(found) == n:
                return found, body[at + 1 :]
    words = body.split(" ")
    head = [(w.partition("=")[0], w.partition("=")[2]) for w in words[:n]]
    return head, " ".join(words[n:])


def _heredoc_name(script: str) -> str:
    for name in ("EOF", "EOT", "SCRIPT", "DEADWEIGHT_EOF"):
        if not re.search(rf"^{name}$", script, re.M):
            return name
    return "DEADWEIGHT_EOF_1"


def _run(rest: str, state: _State, builder: Builder) -> _Parsed:
    pairs, cmd = _split_build_args(rest, state.shell)
    notes: list[str] = []
    m = _PIPE_SCRIPT.fullmatch(cmd)
    script: str | None = None
    for sh in (state.shell, DEFAULT_SHELL):
        prefix = " ".join(sh) + " "
        if cmd.startswith(prefix):
            script = cmd[len(prefix) :]
            break
    if m is not None:
        name = m.group(1)
        notes.append(
            UNKNOWN + f"the script of this heredoc: it began with #!, so BuildKit ran it as "
            f"/dev/pipes/{name} and kept only its name"
        )
        text = f"RUN <<{name}\n{name}"
    elif script is None:
        notes.append(UNKNOWN + "how this exec-form RUN split its arguments (guessed at spaces)")
        text = "RUN " + _json_list(cmd.split())
    elif "\n" not in script:
        text = "RUN " + script
    elif _HEREDOC_START.search(script.split("\n", 1)[0]):
        text = "RUN " + script.rstrip("\n")  # BuildKit put the heredoc back together
    else:
        name = _heredoc_name(script)
        body = script if script.endswith("\n") else script + "\n"
        text = f"RUN <<{name}\n{body}{name}"
    return _Parsed("RUN", text, tuple(notes), builder, build_args=tuple(pairs))


def _copy(keyword: str, rest: str, builder: Builder) -> _Parsed:
    classic = _CLASSIC_COPY.match(f"{keyword} {rest}")
    if classic is not None:
        flags, kind, digest, dest = (
            classic.group(2),
            classic.group(3),
            classic.group(4),
            classic.group(5),
        )
        what = {"file": "a file", "dir": "a directory", "multi": "several sources"}[kind]
        note = (
            UNKNOWN + f"the source ({what}): the classic builder recorded only "
            f"{kind}:{digest[:12]}…, a hash of the content; a build stage or the build context"
        )
        return _Parsed(keyword, f"{keyword} {flags}{kind}:{digest} {dest}", (note,), builder, True)
    words = rest.split()
    notes: list[str] = []
    heredocs = [w[2:] for w in words[:-1] if w.startswith("<<")]
    srcs = [w for w in words[:-1] if not w.startswith("-") and not w.startswith("<<")]
    text = f"{keyword} {rest}"
    if heredocs:
        notes.append(UNKNOWN + "the content of the inline file(s) " + ", ".join(heredocs))
        text += "".join(f"\n{h}" for h in heredocs)
    if keyword == "COPY" and srcs and all(s.startswith("/") for s in srcs):
        notes.append(
            UNKNOWN + "where the files came from: the history does not record --from, and "
            "absolute sources suggest COPY --from=<a stage or an image>"
        )
    return _Parsed(keyword, text, tuple(notes), builder)


def _metadata(
    keyword: str, rest: str, state: _State, config: Mapping[str, Any], builder: Builder
) -> _Parsed:
    if keyword in ("ENV", "LABEL"):
        known = _env_map(config) if keyword == "ENV" else dict(config.get("Labels") or {})
        items = pairs(rest, known)
        if not items or any(not k for k, _ in items):
            return _Parsed(keyword, f"{keyword} {rest}", (), builder)
        return _Parsed(
            keyword, keyword + "".join(f" {k}={quote(v)}" for k, v in items), (), builder
        )
    if keyword == "ARG":
        items = pairs(rest, {}, bare_keys=True)
        if state.args is not None:
            state.args.update(items)
        return _Parsed(
            keyword,
            "ARG" + "".join(f" {k}={quote(v)}" if v else f" {k}" for k, v in items),
            (),
            builder,
        )
    if keyword == "EXPOSE":
        inner = rest[4:-1] if rest.startswith("map[") and rest.endswith("]") else rest
        ports = [p.removesuffix(":{}").removesuffix("/tcp") for p in inner.split()]
        return _Parsed(keyword, "EXPOSE " + " ".join(ports), (), builder)
    if keyword in ("CMD", "ENTRYPOINT"):
        argv = go_list(rest)
        if argv is None:
            return _Parsed(keyword, f"{keyword} {rest}", (), builder)
        n = len(state.shell)
        if len(argv) == n + 1 and tuple(argv[:n]) == state.shell:
            return _Parsed(keyword, f"{keyword} {argv[n]}", (), builder)
        return _Parsed(keyword, f"{keyword} {_json_list(argv)}", (), builder)
    if keyword in ("SHELL", "VOLUME"):
        inner = rest[1:-1] if rest.startswith("[") and rest.endswith("]") else rest
        words = inner.split()
        if keyword == "SHELL" and words:
            state.shell = tuple(words)
            return _Parsed(keyword, f"SHELL {_json_list(words)}", (), builder)
        return _Parsed(keyword, "VOLUME " + " ".join(words), (), builder)
    if keyword == "HEALTHCHECK":
        hc = _healthcheck(config)
        if hc is not None:
            return _Parsed(keyword, hc, (), builder)
        note = UNKNOWN + f"this HEALTHCHECK's settings; the history says {rest!r}"
        return _Parsed("", "", (note,), builder)
    return _Parsed(keyword, f"{keyword} {rest}".rstrip(), (), builder)


def _parse(entry: HistoryEntry, state: _State, config: Mapping[str, Any]) -> _Parsed:
    text = entry.created_by
    if not text.strip():
        if entry.comment.startswith("Imported from"):
            note = f"a layer imported with `docker import` ({entry.comment!r})"
            return _Parsed("", "", (note,), "import")
        return _Parsed("", "", ("no instruction recorded for this row",), "other")
    builder: Builder = "classic"
    if text.endswith(_BUILDKIT_SUFFIX) or entry.comment.startswith("buildkit.dockerfile"):
        builder = "buildkit"
        text = text.removesuffix(_BUILDKIT_SUFFIX)
    nop = _NOP.match(text)
    if nop is not None:
        word, _, rest = nop.group(2).partition(" ")
        keyword, rest = word.upper(), rest.strip()
    else:
        word, _, rest = text.partition(" ")
        keyword = word if word in KEYWORDS else ""
        if not keyword:
            if text.startswith(("|", " ".join(state.shell), "/bin/sh -c ")):
                keyword, rest = "RUN", text
            else:
                note = f"not a Dockerfile instruction (another tool made it): {text[:200]!r}"
                return _Parsed("", "", (note,), "other")
        elif builder != "buildkit":
            builder = "other"  # kaniko and friends write bare instructions too
    if keyword == "RUN":
        return _run(rest, state, builder)
    if keyword in ("COPY", "ADD"):
        return _copy(keyword, rest, builder)
    return _metadata(keyword, rest, state, config, builder)


# -- the whole history ---------------------------------------------------------------------


def reconstruct(
    history: Sequence[HistoryEntry], config: Mapping[str, Any] | None = None
) -> Reconstruction:
    """Rebuild the Dockerfile from ``history`` (bottom first); ``config`` is the image
    config's ``config`` object, used to settle ambiguous ENV/LABEL values and HEALTHCHECK."""
    cfg = config or {}
    return _assemble(history_steps(history, cfg), cfg)


def history_steps(history: Sequence[HistoryEntry], config: Mapping[str, Any]) -> list[Step]:
    """Each history row parsed into the instruction that made it (see ``reconstruct``)."""
    cfg = config
    state = _State(args={})
    steps: list[Step] = []
    layer = 0
    for row, entry in enumerate(history, start=1):
        parsed = _parse(entry, state, cfg)
        notes = list(parsed.notes)
        text = parsed.text
        if parsed.build_args and state.args is not None:
            undeclared = [(k, v) for k, v in parsed.build_args if k not in state.args]
            changed = [(k, v) for k, v in parsed.build_args if state.args.get(k, v) != v]
            if undeclared:
                text = "\n".join(f"ARG {k}={quote(v)}" for k, v in undeclared) + "\n" + text
                notes.append(
                    "ARG " + ", ".join(k for k, _ in undeclared) + " from the |N prefix of this "
                    "RUN (declared before FROM or in the base image)"
                )
                state.args.update(undeclared)
            if changed:
                notes.append(
                    "the build set " + " ".join(f"{k}={v}" for k, v in changed) + " (--build-arg)"
                )
        steps.append(
            Step(
                row,
                entry.created_by,
                None if entry.empty_layer else layer,
                parsed.keyword,
                text,
                tuple(notes),
                parsed.builder,
                unknown_source=parsed.unknown_source,
            )
        )
        if not entry.empty_layer:
            layer += 1
        if parsed.keyword == "CMD" or parsed.builder == "import":
            state.args = {}  # a new build starts after a finished image
    return steps


def _assemble(steps: list[Step], config: Mapping[str, Any]) -> Reconstruction:
    found = split(steps)
    base, guessed, name = found.rows, found.guessed, found.name
    # only the base image's rows change (``base``); the others stay the objects they are
    steps[:base] = [
        Step(
            s.row,
            s.created_by,
            s.layer,
            s.keyword,
            s.text,
            s.notes,
            s.builder,
            True,
            s.unknown_source,
        )
        for s in steps[:base]
    ]
    lines: list[str] = []
    spans: list[tuple[int, int, int]] = []
    layers = sum(1 for s in steps if s.layer is not None)
    lines.append(
        f"# Rebuilt by deadweight from the image history ({len(steps)} rows, {layers} layers)."
    )
    lines.append('# "unknown:" comments mark what the history does not record.')

    def emit(step: Step) -> None:
        lines.extend(f"# {n}" for n in step.notes)
        if step.text:
            first = len(lines) + 1
            lines.extend(step.text.split("\n"))
            spans.append((first, len(lines), step.row))

    if base == 0:
        if steps and not rootfs(steps[0]):
            lines.append(f"# {UNKNOWN}the base image: the history does not start with a rootfs")
        lines.append("FROM scratch")
    else:
        base_layers = sum(1 for s in steps[:base] if s.layer is not None)
        lines.append(
            f"# {UNKNOWN}the base image's name (history rows 1-{base}, "
            f"{base_layers} layer{'s' if base_layers != 1 else ''})"
        )
        if guessed:
            lines.append(
                f"# rows 1-{guessed} look like the official {name.split(':')[0]} image "
                f"(a best guess from the pattern of its rows):"
            )
            lines.extend(f"#   {s.text or s.created_by}".rstrip() for s in steps[:guessed])
        if guessed == base:
            lines.append(f"FROM {name}")
        else:
            lines.append(f"FROM {name or 'scratch'} AS base")
            for s in steps[guessed:base]:
                emit(s)
            lines.append("")
            lines.append("FROM base")
    for s in steps[base:]:
        emit(s)
    if config.get("OnBuild") and not any(s.keyword == "ONBUILD" for s in steps):
        lines.append("# from the config: BuildKit does not record ONBUILD in the history")
        lines.extend(f"ONBUILD {t}" for t in config["OnBuild"] if isinstance(t, str))
    return Reconstruction("\n".join(lines) + "\n", tuple(steps), tuple(spans), base, name)


def reconstruct_image(image: Image) -> Reconstruction:
    """:func:`reconstruct` for an image (no layer is read)."""
    return reconstruct(image.history or (), image.config.container_config)


def image_base(image: Image) -> Split:
    """Where ``image``'s base ends (``dockerfile.base``), from its history alone."""
    return split(history_steps(image.history or (), image.config.container_config))
