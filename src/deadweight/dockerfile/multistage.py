"""A multi-stage build for a single-stage Dockerfile that installs its dependencies.

The stage becomes ``FROM <base> AS build``, up to the RUN that installs (and, for Node, the
build steps that need the devDependencies, then ``npm prune --omit=dev``); the final stage
starts from the slim variant of the base (``--slim-base`` overrides it) and copies only
the result: ``node_modules`` (the whole WORKDIR after a build step), or the virtualenv
``/opt/venv`` that pip installs into. RUNs before the install that only set up build
tooling (global npm installs, corepack, compilers and headers, for Python also
``dpkg -i``) stay in the build stage; any other earlier instruction is repeated in the
final stage, and a COPY of context files is left out only when a later ``COPY . DEST``
brings the whole context again. Any other shape is left single-stage, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deadweight.dockerfile import nodedeps
from deadweight.dockerfile.parser import parse
from deadweight.dockerfile.shell import Command
from deadweight.dockerfile.stages import ImageRef, analyze, script_of
from deadweight.dockerfile.syntax import Instruction

VENV = "/opt/venv"
NUMERIC_USER = "10001:10001"  # numeric ids need no /etc/passwd entry
# a RUN step that may need the devDependencies
NEEDS_DEV = re.compile(
    r"(?<![\w./-])(?:npm\s+(?:run|run-script|test|t|exec|rebuild)|npx|yarn|pnpm|tsc|node-gyp)"
    r"(?![\w.-])"
)
_OFFICIAL = re.compile(r"(?:(?:index\.)?docker\.io/)?(?:library/)?(node|python)")
_NO_SLIM = re.compile(r"slim|alpine|windowsservercore|nanoserver")
_DISTRO = re.compile(r"(?:(.+)-)?(bookworm|bullseye|buster|trixie)")
_TOOLS = frozenset(
    {
        *("gcc", "g++", "make", "cmake", "build-essential", "build-base", "pkg-config"),
        *("pkgconf", "pkgconfig", "autoconf", "automake", "libtool", "git", "musl-dev"),
        *("linux-headers", "libc-dev", "libc6-dev", "gfortran", "clang", "cargo", "rust"),
        *("rustc", "patch", "binutils", "python3-dev", "python-dev", "python3-pip"),
        *("python3-venv", "python3-setuptools", "python3-wheel"),
    }
)
_PIP_TOOLS = frozenset({"pip", "setuptools", "wheel"})
_PIP_VALUED = (
    *("r", "requirement", "c", "constraint", "f", "find-links", "i", "index-url"),
    *("extra-index-url", "trusted-host", "platform", "python-version", "cache-dir"),
    *("progress-bar", "timeout", "retries", "proxy", "cert", "log", "src", "C"),
)
_PIP_UNHANDLED = ("user", "target", "t", "prefix", "root", "e", "editable")
_HELPERS = frozenset({"cp", "mkdir", "ln", "echo", "printf", "true", ":", "set", "chmod"})
_PIP = re.compile(r"(?<![\w./-])(?:(python[0-9.]*)\s+-m\s+)?pip([0-9.]*)(?=\s)")
_SEGMENT = re.compile(r"(?:\\\r?\n|[^&|;\n])*")
_NO_INSTALL = "no RUN installs dependencies (`npm install`, `npm ci`, `pip install`)"
_BUILT = ("RUN", "COPY", "ADD")  # between the install and the build: in the WORKDIR copied


def slim_variant(image: str) -> str:
    """The slim variant of an official ``node`` or ``python`` image; others unchanged."""
    ref = ImageRef.parse(image)
    if "$" in image or ref.digest or not _OFFICIAL.fullmatch(ref.name):
        return image
    tag = ref.tag or ""
    if _NO_SLIM.search(tag):
        return image
    distro = _DISTRO.fullmatch(tag)
    if ref.name.endswith("python") and distro:  # python:3.12-slim-bookworm
        tag = f"{distro.group(1)}-slim-{distro.group(2)}" if distro.group(1) else tag
        return f"{ref.name}:{tag if distro.group(1) else 'slim-' + tag}"
    return f"{ref.name}:{tag}-slim" if tag else f"{ref.name}:slim"


@dataclass(frozen=True, slots=True)
class MultiStage:
    """The new text; its changes as (line of the input, description); the line a USER
    added before the final CMD is reported at."""

    text: str
    changes: tuple[tuple[int, str], ...]
    user_line: int


def _verb(args: tuple[str, ...]) -> tuple[str, list[str]]:
    i = next((k for k, w in enumerate(args) if not w.startswith("-")), None)
    return ("", list(args)) if i is None else (args[i], [*args[:i], *args[i + 1 :]])


def _packages(c: Command, verb: str, *valued: str) -> list[str]:
    words = list(c.positional(*valued))
    return words[words.index(verb) + 1 :] if verb in words else words


def _build_tools(packages: list[str], kind: str) -> bool:
    names = [re.split(r"[=<>~]", p.strip("'\""), maxsplit=1)[0] for p in packages]
    extra = {"python3", "python"} if kind == "npm" else set()
    return bool(names) and all(
        n in _TOOLS or n in extra or (n.endswith(("-dev", "-devel")) and not n.startswith("lib"))
        for n in names
    )


def _pip_args(c: Command) -> tuple[str, ...] | None:
    if re.fullmatch(r"pip[0-9.]*", c.name):
        return c.args
    if re.fullmatch(r"python[0-9.]*", c.name) and c.args[:2] == ("-m", "pip"):
        return c.args[2:]
    return None


def kind_of(c: Command, kind: str) -> str:
    """'npm'/'pip'/'yarn' (installs the dependencies), 'tool' (sets up build tooling),
    'clean' (a cleanup), 'helper' (harmless around those) or 'other'."""
    verb, rest = _verb(c.args)
    if c.name == "npm":
        if verb in ("install", "i", "ci", "add"):
            return "tool" if {"-g", "--global"} & set(rest) else "npm"
        return {"cache": "clean", "config": "tool"}.get(verb, "other")
    if c.name in ("yarn", "pnpm"):
        if verb in ("config", "set", "global", "policies"):
            return "tool"
        return "yarn" if verb in ("", "install", "i", "add") else "other"
    if c.name == "corepack":
        return "tool"
    pip = _pip_args(c)
    if pip is not None:
        verb, _ = _verb(pip)
        if verb == "cache":
            return "clean"
        if verb != "install":
            return "other"
        names = _packages(Command(c.name, pip), "install", *_PIP_VALUED)
        tooling = {re.split(r"[=<>~\[]", n.strip("'\""))[0].lower() for n in names}
        files = {"-r", "--requirement"} & set(pip)
        return "tool" if names and tooling <= _PIP_TOOLS and not files else "pip"
    if c.name in ("apt-get", "apt", "yum", "dnf", "microdnf", "apk"):
        if verb in ("update", "clean", "autoremove", "purge", "remove", "del"):
            return "clean" if verb != "update" else "helper"
        if c.has_flag("virtual") or (c.name == "apk" and c.has_flag("t")):
            return "tool"
        packages = _packages(c, verb, "o", "t", "c", "X", "repository")
        return "tool" if verb in ("install", "add") and _build_tools(packages, kind) else "other"
    if c.name == "dpkg" and kind == "pip" and c.has_flag("i", "install"):
        return "tool"
    if c.name == "rm":
        return "other" if any(re.fullmatch(r"(\./)?node_modules/?", a) for a in c.args) else "clean"
    return "helper" if c.name in _HELPERS else "other"


def _install_kind(ins: Instruction) -> str | None:
    if ins.keyword != "RUN":
        return None
    for c in script_of(ins).commands:
        if (k := kind_of(c, "")) in ("npm", "pip", "yarn"):
            return k
    return None


def _problem(ins: Instruction, kind: str, workdir: str) -> str | None:
    """Why the installing RUN's shape is not handled, or None."""
    if ins.exec_form is not None or ins.heredocs:
        return f"the RUN at line {ins.start_line} is not a plain shell-form RUN"
    commands = script_of(ins).commands
    kinds = [kind_of(c, kind) for c in commands]
    first, last = kinds.index(kind), len(kinds) - 1 - kinds[::-1].index(kind)
    for c, k in zip(commands[:first], kinds[:first], strict=True):
        if k not in ("helper", "tool", "clean"):
            return f"the RUN at line {ins.start_line} also runs `{c.name}` before installing"
    for c, k in zip(commands[first:], kinds[first:], strict=True):
        if k == kind:
            _, rest = _verb(_pip_args(c) or ()) if kind == "pip" else _verb(c.args)
            if kind in ("npm", "yarn") and any(not w.startswith("-") for w in rest):
                return f"`{c.name} {' '.join(c.args)}` names packages"
            if kind == "npm" and any(w in ("-C", "--prefix") for w in rest):
                return "`npm --prefix` installs outside the WORKDIR"
            if kind == "pip" and c.has_flag(*_PIP_UNHANDLED):
                return "pip installs with --user, --target, --prefix, --root or -e are kept"
    for c in commands[last + 1 :]:
        step = kind == "npm" and c.name in ("npm", "npx", "node", "tsc")
        step = step or (kind in ("npm", "yarn") and c.name in ("mv", "ln"))
        if kind_of(c, kind) not in ("clean", "helper") and not step:
            return f"the RUN at line {ins.start_line} also runs `{c.name}` after installing"
    if kind == "npm" and "$" in workdir:
        return "the WORKDIR has a variable"
    return None


def _workdir(instructions: list[Instruction]) -> str:
    path = "/"
    for ins in instructions:
        if ins.keyword == "WORKDIR":
            value = ins.value.strip().strip("\"'")
            path = value if value.startswith("/") else f"{path.rstrip('/')}/{value}"
    return path


def _whole_context(ins: Instruction, workdir: str) -> bool:
    """``COPY . DEST`` into the WORKDIR: every file of the context again."""
    words = ins.value.split()
    into = words[-1:] in (["."], ["./"], [workdir], [workdir.rstrip("/") + "/"])
    return (
        ins.keyword == "COPY"
        and ins.flag("from") is None
        and words[:-1] in (["."], ["./"])
        and into
    )


def _venv_pip(raw: str) -> tuple[str, int]:
    """The RUN's pip installs run by ``/opt/venv/bin/pip``, the first after creating it."""
    out, last, count = [], 0, 0
    for m in _PIP.finditer(raw):
        segment = _SEGMENT.match(raw, m.end())
        seg = segment.group(0) if segment else ""
        words = tuple(re.sub(r"\\\r?\n", " ", seg).split())
        verb = re.search(r"(?<![\w-])install(?![\w-])", seg)
        if verb is None or kind_of(Command("pip", words), "pip") != "pip":
            continue
        python = m.group(1) or f"python{m.group(2) or '3'}"
        create = f"{python} -m venv {VENV} && " if count == 0 else ""
        at = m.end() + verb.end()
        flag = "" if "--no-cache-dir" in words else " --no-cache-dir"
        out.append(f"{raw[last : m.start()]}{create}{VENV}/bin/pip{raw[m.end() : at]}{flag}")
        last, count = at, count + 1
    return "".join(out) + raw[last:], count


def _tooling(ins: Instruction, kind: str) -> bool:
    """A RUN that only sets up build tooling: left out of the final stage."""
    if ins.keyword != "RUN" or ins.exec_form is not None or ins.heredocs:
        return False
    kinds = [kind_of(c, kind) for c in script_of(ins).commands]
    return "tool" in kinds and all(k in ("tool", "helper", "clean") for k in kinds)


def _between(ins: Instruction, workdir: str) -> str | None:
    """Why an instruction between the npm install and the last build step is a problem."""
    if ins.keyword == "WORKDIR":
        return "changes the WORKDIR"
    if ins.keyword in ("COPY", "ADD"):
        dest = ins.value.split()[-1].strip("\"'") if ins.value.split() else ""
        if dest.startswith("/") and not f"{dest}/".startswith(f"{workdir.rstrip('/')}/"):
            return "copies outside the WORKDIR"
    if ins.keyword == "RUN":
        for c in script_of(ins).commands:
            if c.name in ("apt-get", "apt", "apk", "yum", "dnf", "microdnf", "dpkg"):
                return "installs system packages"
    return None


def _command_words(body: list[Instruction]) -> tuple[str, ...]:
    """What the final image runs: its last ENTRYPOINT and CMD, as words."""
    words: list[str] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        last = next((i for i in reversed(body) if i.keyword == keyword), None)
        if last is not None:
            words += last.exec_form if last.exec_form is not None else last.value.split()
    return tuple(words)


def _run_time_tool(ins: Instruction, command: tuple[str, ...]) -> str | None:
    """The global package of a tooling RUN the image's command runs (``pm2``), if any."""
    names = [n for c in script_of(ins).commands for n in nodedeps.global_packages(c)]
    found = [n for n in names if nodedeps.needed_at_run_time([n], command)]
    return found[0] if found else None


def build(
    text: str, *, replace: dict[int, str], slim_base: str | None, workspaces: bool = False
) -> MultiStage | str:
    """``text`` as a multi-stage build, or why not (the reason, to be listed).

    ``replace`` maps an instruction's start offset to its new text (the npm changes);
    ``workspaces``: package.json declares workspaces (each may hold its own
    node_modules, so the final stage copies the whole WORKDIR)."""
    stages = analyze(parse(text)).stages
    if len(stages) != 1:
        return "it is already multi-stage" if stages else "no FROM"
    stage, body = stages[0], list(stages[0].instructions)
    if any(i.keyword == "ONBUILD" for i in body):
        return "ONBUILD triggers run in the images built on this one"
    found = [(n, k) for n, i in enumerate(body) if (k := _install_kind(i)) is not None]
    if len(found) != 1:
        lines = ", ".join(str(body[n].start_line) for n, _ in found)
        return f"several RUNs install dependencies (lines {lines})" if found else _NO_INSTALL
    (at, kind), run = found[0], body[found[0][0]]
    workdir = _workdir(body[:at])
    if (problem := _problem(run, kind, workdir)) is not None:
        return problem
    commands = script_of(run).commands
    tool = next((c.name for c in commands if kind_of(c, kind) == kind), kind)
    texts = {i.start: replace.get(i.start, text[i.start : i.end]) for i in body}
    name, end, copies, prune = stage.name or "build", at, "", ""
    changes = [(run.start_line, f"pip installs into {VENV}, copied to the final stage")]
    if kind == "pip":
        texts[run.start], count = _venv_pip(texts[run.start])
        if count != sum(kind_of(c, kind) == "pip" for c in script_of(run).commands):
            return f"the pip commands of the RUN at line {run.start_line} are not plain"
    else:
        kinds = [kind_of(c, kind) for c in commands]
        first = kinds.index(kind)
        after = [c for c, k in zip(commands[first + 1 :], kinds[first + 1 :], strict=True)]
        moved = nodedeps.relocated([c for c in after if c.name in ("mv", "ln")], workdir)
        if isinstance(moved, str):
            return moved
        steps = [c for c in after if c.name not in ("mv", "ln")]
        built = any(kind_of(c, kind) not in ("clean", "helper") for c in steps)
        dev = [n for n in range(at + 1, len(body)) if body[n].keyword == "RUN"]
        end = max([at] + [n for n in dev if NEEDS_DEV.search(texts[body[n].start])])
        for ins in body[at + 1 : end + 1]:
            if (why := _between(ins, workdir)) is not None:
                return f"line {ins.start_line} {why} between the install and the build"
        whole_dir = built or end > at or workspaces
        if whole_dir and workdir == "/":
            return "the build steps run without a WORKDIR"
        modules = f"{workdir.rstrip('/')}/node_modules"
        if moved.path != modules and (built or end > at):
            return f"node_modules moves to {moved.path} and a build step follows the install"
        prune = nodedeps.PRUNE.get(tool, nodedeps.PRUNE["npm"])
        if tool in nodedeps.PRODUCTION_FLAG and not (built or end > at):
            texts[run.start] = nodedeps.production_install(texts[run.start], tool)
            changes = [(run.start_line, f"`{tool}` leaves the devDependencies out")]
        else:
            changes = []
        if whole_dir:
            copies = f"COPY --from={name} {workdir} ./"
            what = f"`{prune}` after the build; the final stage copies {workdir}"
            if not (built or end > at):
                what = f"the final stage copies {workdir} (package.json has workspaces)"
        elif moved.path != modules:
            copies = f"COPY --from={name} {moved.path} {moved.path}"
            copies += f"\nRUN {moved.link}" if moved.link else ""
            what = f"the final stage copies {moved.path}, where the install moved node_modules"
        else:
            copies = f"COPY --from={name} {modules} ./node_modules"
            what = f"the final stage copies {modules}"
        changes.append((body[end].start_line, what))
    whole = next((i for i in body[at + 1 :] if _whole_context(i, workdir)), None)
    final_base = slim_base or slim_variant(stage.image_raw)
    why = " (the slim variant)" if final_base != stage.image_raw else ""
    why = " (--slim-base)" if slim_base else why
    what = f"multi-stage build: stage `{name}` installs, the final stage is `{final_base}`"
    changes.append((stage.from_.start_line, what + why))
    out = [text[: stage.from_.end], "" if stage.name else " AS build"]
    prev = stage.from_.end
    for ins in body[: end + 1]:
        out.append(text[prev : ins.start] + texts[ins.start])
        prev = ins.end
    if copies.endswith(" ./") and (built or end > at):
        out.append(f"\nRUN {prune}")
    platform = f"--platform={stage.platform} " if stage.platform else ""
    out.append(f"\n\nFROM {platform}{final_base}")
    if kind == "pip":
        out.append(f'\nENV PATH="{VENV}/bin:$PATH"\nCOPY --from={name} {VENV} {VENV}')
    command = _command_words(body)
    for ins in body[:at]:
        needed = _run_time_tool(ins, command) if _tooling(ins, kind) else None
        if needed is not None:
            changes.append((ins.start_line, f"kept in the final stage: the command runs {needed}"))
            kept = texts[ins.start]
            if "cache clean" not in kept and "type=cache" not in kept:
                kept += " \\\n && npm cache clean --force"
            out.append("\n" + kept)
        elif _tooling(ins, kind):
            changes.append((ins.start_line, "build stage only: it sets up build tooling"))
        elif whole is not None and ins.keyword == "COPY" and ins.flag("from") is None:
            again = f"line {whole.start_line} copies the whole context"
            changes.append((ins.start_line, f"build stage only: {again}"))
        else:
            out.append("\n" + texts[ins.start])
    out.append(f"\n{copies}" if copies else "")
    out += ["\n" + texts[i.start] for i in body[at + 1 : end + 1] if i.keyword not in _BUILT]
    for ins in body[end + 1 :]:
        out.append(text[prev : ins.start] + texts[ins.start])
        prev = ins.end
    out.append(text[prev:])
    runs = [i for i in body[end + 1 :] if i.keyword in ("CMD", "ENTRYPOINT")] or body[-1:]
    return MultiStage("".join(out), tuple(sorted(changes)), runs[0].start_line)
