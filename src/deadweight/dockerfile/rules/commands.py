"""hadolint's rules about the commands a RUN runs (not package managers)."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.stages import Stage
from deadweight.dockerfile.syntax import Instruction

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
_POINTLESS = frozenset(
    {"ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill", "mount", "ifconfig"}
)
_NON_POSIX = ("pwsh", "powershell", "cmd")


def _dl3001(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(c.name in _POINTLESS for c in site.script.commands):
            yield Hit(site.instruction)


DL3001 = Rule(
    "DL3001",
    INFO,
    "For some bash commands it makes no sense running them in a Docker container like "
    "`ssh`, `vim`, `shutdown`, `service`, `ps`, `free`, `top`, `kill`, `mount`, `ifconfig`",
    _dl3001,
    Doc(
        "Interactive and service tools do nothing useful at build time.",
        "RUN service ssh start",
        'CMD ["/usr/sbin/sshd", "-D"]',
    ),
)


def _dl3003(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        # hadolint does not look into ONBUILD RUN for this rule (its source does not wrap
        # it in ``onbuild``, as it does the package rules)
        if not site.onbuild and site.script.named("cd"):
            yield Hit(site.instruction)


DL3003 = Rule(
    "DL3003",
    W,
    "Use WORKDIR to switch to a directory",
    _dl3003,
    Doc(
        "cd in RUN only lasts for that RUN; WORKDIR is explicit.",
        "RUN cd /app && make",
        "WORKDIR /app\nRUN make",
    ),
)


def _dl3004(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if site.script.named("sudo"):
            yield Hit(site.instruction)


DL3004 = Rule(
    "DL3004",
    E,
    "Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root",
    _dl3004,
    Doc(
        "sudo needs a TTY and a sudoers setup; builds already run as root.",
        "RUN sudo apt-get update",
        "USER root\nRUN apt-get update",
    ),
)


def _dl3046(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.named("useradd"):
            if c.has_flag("l", "no-log-init"):
                continue
            # hadolint's reading: the word after any short-flag word holding ``u`` (``-u``,
            # ``-mu``); the long ``--uid`` only tells that a uid is given, its value is
            # not read
            args = list(c.args)
            uids = [
                args[i + 1]
                for i, a in enumerate(args[:-1])
                if a.startswith("-") and not a.startswith("--") and "u" in a[1:]
            ]
            if any(len(u) > 5 for u in uids):
                yield Hit(site.instruction)
                break


DL3046 = Rule(
    "DL3046",
    W,
    "`useradd` without flag `-l` and high UID will result in excessively large Image.",
    _dl3046,
    Doc(
        "useradd writes a sparse lastlog entry sized by the UID; layers store it whole.",
        "RUN useradd -u 1234567 app",
        "RUN useradd -l -u 1234567 app",
    ),
)


def _dl3047(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.named("wget"):
            quiet = c.has_flag(
                "progress", "q", "quiet", "o", "output-file", "a", "append-output", "no-verbose"
            ) or c.has_arg("-nv")
            if not quiet:
                yield Hit(site.instruction)
                break


DL3047 = Rule(
    "DL3047",
    INFO,
    "Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`. Or "
    "consider using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).",
    _dl3047,
    Doc(
        "wget's default progress bar floods build logs.",
        "RUN wget https://example.com/x.tgz",
        "RUN wget -q https://example.com/x.tgz",
    ),
)


def _dl4001(ctx: Context) -> Iterator[Hit]:
    seen: set[str] = set()
    stage: Stage | None = None
    for site in ctx.build.runs:
        if site.stage is not stage:
            stage, seen = site.stage, set()
        used = {c.name for c in site.script.commands} & {"wget", "curl"}
        seen |= used
        if used and seen == {"wget", "curl"}:
            yield Hit(site.instruction)


DL4001 = Rule(
    "DL4001",
    W,
    "Either use Wget or Curl but not both",
    _dl4001,
    Doc(
        "Two download tools in one image is one too many.",
        "RUN wget -q https://a && curl -fsSLO https://b",
        "RUN curl -fsSLO https://a https://b",
    ),
)


def _dl4005(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(c.name == "ln" and "/bin/sh" in c.args for c in site.script.commands):
            yield Hit(site.instruction)


DL4005 = Rule(
    "DL4005",
    W,
    "Use SHELL to change the default shell",
    _dl4005,
    Doc(
        "Replacing /bin/sh behind Docker's back surprises everyone.",
        "RUN ln -sf /bin/bash /bin/sh",
        'SHELL ["/bin/bash", "-c"]',
    ),
)


def _shell_state(ins: Instruction) -> bool | None:
    """After SHELL: True if pipes are safe (pipefail or not a POSIX shell)."""
    args = ins.exec_form or tuple(ins.value.split())
    if not args:
        return None
    if any(args[0].rsplit("/", 1)[-1].lower().startswith(s) for s in _NON_POSIX):
        return True
    name = args[0].rsplit("/", 1)[-1]
    # ``-o`` may be combined with other single-letter flags: ``-xo``, ``-eo`` (issue 14)
    o_flag = any(a == "--o" or (a[:1] == "-" and a[1:2] != "-" and "o" in a[1:]) for a in args)
    return name in ("bash", "zsh", "ash") and o_flag and "pipefail" in args


def _dl4006(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        safe = False
        for ins in stage.instructions:
            if ins.keyword == "SHELL":
                safe = bool(_shell_state(ins))
            elif ins.keyword == "RUN" and not safe:
                site = ctx.build.site(ins)
                if site.script.has_pipe:
                    yield Hit(ins)


DL4006 = Rule(
    "DL4006",
    W,
    "Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using "
    "/bin/sh in an alpine image or if your shell is symlinked to busybox then consider "
    "explicitly setting your SHELL to /bin/ash, or disable this check",
    _dl4006,
    Doc(
        "Without pipefail a failing first command in a pipe is ignored.",
        "RUN curl -fsSL https://x | tar -xz",
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL https://x | tar -xz',
    ),
)


def _dl3059(ctx: Context) -> Iterator[Hit]:
    previous: tuple[tuple[str, ...], int] | None = None
    for ins in ctx.build.dockerfile.instructions:
        if ins.keyword != "RUN":
            previous = None
            continue
        site = ctx.build.site(ins)
        flags = tuple(sorted(f"{f.name}={f.value}" for f in ins.flags)) if ins.flags else ()
        # ``[ ... ]`` and ``[[ ... ]]`` are conditions to ShellCheck's parser, not commands:
        # a RUN that is one ``if [ ... ]; then x; fi`` runs one command (issue 14)
        count = sum(1 for c in site.script.commands if c.name not in ("[", "[["))
        if previous is not None and previous[0] == flags and count <= 1 and previous[1] <= 1:
            yield Hit(ins)
        previous = (flags, count)


DL3059 = Rule(
    "DL3059",
    INFO,
    "Multiple consecutive `RUN` instructions. Consider consolidation.",
    _dl3059,
    Doc(
        "Each RUN is a layer; single commands in a row are better as one.",
        "RUN apt-get update\nRUN apt-get install -y curl",
        "RUN apt-get update && apt-get install -y curl",
    ),
)


RULES = (
    DL3001,
    DL3003,
    DL3004,
    DL3046,
    DL3047,
    DL4001,
    DL4005,
    DL4006,
    DL3059,
)
