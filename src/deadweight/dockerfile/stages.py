"""The semantic view of a parsed Dockerfile that rules read: stages, RUN scripts, ARGs.

FROM lines are resolved with the ARGs declared before the first FROM (``${VAR}``,
``${VAR:-default}``, ``${VAR:+alt}``), as BuildKit does, so a stage built on another
stage is known as such.
"""

from __future__ import annotations

import re

from deadweight.dockerfile.record import field, record
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.shell import Script, read_script
from deadweight.dockerfile.syntax import Dockerfile, Instruction

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from collections.abc import Callable

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "/bin/sh", "/bin/bash", "/bin/ash"})
_VAR = lazy(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def substitute(text: str, env: dict[str, str]) -> str:
    """Expand ``$VAR``/``${VAR}``/``${VAR:-x}``/``${VAR:+x}`` the way BuildKit's lexer does."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        value = env.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return word
            return value
        if op in (":+", "+"):
            if value is None or (op == ":+" and value == ""):
                return ""
            return word
        return value or ""

    return _VAR.sub(repl, text)


@record
class ImageRef:
    """``name[:tag][@digest]`` split the way hadolint splits a FROM image."""

    name: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        digest = None
        if "@" in text:
            text, digest = text.split("@", 1)
        tag = None
        head, sep, tail = text.rpartition(":")
        if sep and "/" not in tail:
            text, tag = head, tail
        return cls(text, tag, digest)


@record
class Stage:
    """A build stage: FROM and the instructions up to the next FROM."""

    index: int
    name: str | None
    image: str
    image_raw: str
    platform: str | None
    from_: Instruction
    instructions: tuple[Instruction, ...]
    parent: int | None

    @property
    def ref(self) -> ImageRef:
        return ImageRef.parse(self.image)


@record
class RunSite:
    """A RUN (or ONBUILD RUN) with the script it runs, already read."""

    instruction: Instruction
    run: Instruction
    stage: Stage | None
    script: Script
    onbuild: bool


def script_of(run: Instruction) -> Script:
    """The shell script a RUN executes, with heredoc bodies read as scripts when run by a shell."""
    if run.exec_form is not None:
        return read_script(" ".join(run.exec_form), hadolint=True)
    if run.heredocs:
        rest = re.sub(r"<<-?(?:[\"'][^\"']+[\"']|\S+)", " ", run.value).split()
        if not rest or rest[0] in _SHELLS:
            return read_script(run.heredocs[0].body, hadolint=True)
    return read_script(run.value, hadolint=True)


def _parse_from(value: str) -> tuple[str, str | None]:
    words = value.split()
    image = words[0] if words else ""
    name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return image, name


@record
class Build:
    """Everything rules read about one Dockerfile."""

    dockerfile: Dockerfile
    preamble: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    runs: tuple[RunSite, ...]
    global_args: tuple[tuple[str, str | None], ...]
    # what the methods below work out once, for rules that ask per RUN or per finding: a
    # file of 100,000 RUNs or 10,000 chained stages stays linear (issue 16)
    _sites: dict[int, RunSite] = field(default_factory=dict, compare=False, repr=False)
    _memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def site(self, instruction: Instruction) -> RunSite:
        """The :class:`RunSite` of a RUN (or ONBUILD RUN) of this build, in constant time."""
        if not self._sites:
            self._sites.update((id(s.instruction), s) for s in self.runs)
        return self._sites[id(instruction)]

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def lineage(self, stage: Stage) -> tuple[Stage, ...]:
        """The stage and the stages it is built on, nearest first."""
        chain = [stage]
        while chain[-1].parent is not None:
            chain.append(self.stages[chain[-1].parent])
        return tuple(chain)

    def reaches_final(self, stage: Stage) -> bool:
        """Whether the final stage is built on ``stage`` (or is it), in constant time."""
        shipped = self._memo.get("shipped")
        if shipped is None:
            final = self.final
            shipped = self._memo["shipped"] = frozenset(
                s.index for s in (self.lineage(final) if final is not None else ())
            )
        assert isinstance(shipped, frozenset)
        return stage.index in shipped and self.stages[stage.index] is stage

    def built_on_later(self, stage: Stage) -> bool:
        """Whether a later FROM names ``stage`` (by its name), in constant time."""
        last = self._memo.get("last_use")
        if last is None:
            last = self._memo["last_use"] = {s.image.lower(): s.index for s in self.stages}
        assert isinstance(last, dict)
        return stage.name is not None and last.get(stage.name, -1) > stage.index

    def instruction_at(self, line: int) -> Instruction | None:
        """The instruction that starts on ``line`` (the first, should two), in constant time."""
        by_line = self._memo.get("by_line")
        if by_line is None:  # reversed: the first of two on one line wins
            by_line = self._memo["by_line"] = {
                ins.start_line: ins for ins in reversed(self.dockerfile.instructions)
            }
        assert isinstance(by_line, dict)
        found = by_line.get(line)
        return found if isinstance(found, Instruction) else None


def analyze(dockerfile: Dockerfile) -> Build:
    """Group instructions into stages and read every RUN's script."""
    preamble: list[Instruction] = []
    args: dict[str, str] = {}
    global_args: list[tuple[str, str | None]] = []
    groups: list[tuple[Instruction, list[Instruction]]] = []
    for ins in dockerfile.instructions:
        if ins.keyword == "FROM":
            groups.append((ins, []))
        elif groups:
            groups[-1][1].append(ins)
        else:
            preamble.append(ins)
            if ins.keyword == "ARG":
                for word in ins.value.split():
                    name, eq, default = word.partition("=")
                    global_args.append((name, default.strip("\"'") if eq else None))
                    if eq:
                        args[name] = default.strip("\"'")
    stages: list[Stage] = []
    named: dict[str, int] = {}  # the last stage of each name so far
    for index, (from_, body) in enumerate(groups):
        raw, alias = _parse_from(from_.value)
        image = substitute(raw, args)
        parent = named.get(image.lower())
        if alias:
            named[alias.lower()] = index
        platform = from_.flag("platform")
        stages.append(
            Stage(
                index,
                alias.lower() if alias else None,
                image,
                raw,
                platform,
                from_,
                tuple(body),
                parent,
            )
        )
    runs: list[RunSite] = []
    for ins in preamble:
        _add_run(runs, ins, None)
    for stage in stages:
        for ins in stage.instructions:
            _add_run(runs, ins, stage)
    return Build(dockerfile, tuple(preamble), tuple(stages), tuple(runs), tuple(global_args))


def _add_run(runs: list[RunSite], ins: Instruction, stage: Stage | None) -> None:
    if ins.keyword == "RUN":
        runs.append(RunSite(ins, ins, stage, script_of(ins), False))
    elif ins.keyword == "ONBUILD" and ins.trigger is not None and ins.trigger.keyword == "RUN":
        runs.append(RunSite(ins, ins.trigger, stage, script_of(ins.trigger), True))


class SetBefore:
    """Whether something (an ENV, an ARG) is set before a line of a stage, in that stage or
    in one it is built on. ``first(stage)`` is the line of its first setting in the stage
    (None: never). Rules ask it per RUN; each stage's ``first`` and each chain of stages are
    worked out once, so 100,000 RUNs or 10,000 chained stages stay linear (issue 16)."""

    __slots__ = ("_below", "_build", "_first", "_firsts")

    def __init__(self, build: Build, first: Callable[[Stage], int | None]) -> None:
        self._build, self._first = build, first
        self._firsts: dict[int, int | None] = {}
        self._below: dict[int, bool] = {}  # set in a stage it is built on

    def __call__(self, stage: Stage, line: int) -> bool:
        own = self._first_of(stage)
        return (own is not None and own < line) or self._set_below(stage)

    def _first_of(self, stage: Stage) -> int | None:
        if stage.index not in self._firsts:
            self._firsts[stage.index] = self._first(stage)
        return self._firsts[stage.index]

    def _set_below(self, stage: Stage) -> bool:
        stages, chain, s = self._build.stages, [], stage
        while s.index not in self._below:
            chain.append(s)
            if s.parent is None:
                break
            s = stages[s.parent]
        for s in reversed(chain):  # from the bottom of the chain up to ``stage``
            parent = stages[s.parent] if s.parent is not None else None
            self._below[s.index] = parent is not None and (
                self._first_of(parent) is not None or self._below[parent.index]
            )
        return self._below[stage.index]
