"""deadweight's image-size rules: what stays in the image for nothing."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from deadweight.dockerfile.findings import Edit, Fix, Severity
from deadweight.dockerfile.pairs import pairs
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.created import CreatedPaths
from deadweight.dockerfile.rules.instructions import copy_parts, is_url
from deadweight.dockerfile.shell import Command
from deadweight.dockerfile.stages import SetBefore, Stage

W, INFO = Severity.WARNING, Severity.INFO

# base image -> the smaller runtime to use in the final stage instead
_SDK_IMAGES = {
    "golang": "gcr.io/distroless/static or scratch (a multi-stage build)",
    "maven": "eclipse-temurin:<version>-jre",
    "gradle": "eclipse-temurin:<version>-jre",
    "rust": "debian:<release>-slim or distroless/cc (a multi-stage build)",
    "gcc": "debian:<release>-slim (a multi-stage build)",
    "mcr.microsoft.com/dotnet/sdk": "mcr.microsoft.com/dotnet/aspnet or runtime",
    "node": "node:<version>-slim or -alpine",
    "python": "python:<version>-slim",
    "ruby": "ruby:<version>-slim",
    "openjdk": "eclipse-temurin:<version>-jre",
    "eclipse-temurin": "eclipse-temurin:<version>-jre",
    "php": "php:<version>-fpm-alpine or -cli-alpine",
    "buildpack-deps": "debian:<release>-slim",
}
_SLIM_MARKERS = ("slim", "alpine", "jre", "distroless", "runtime", "minimal", "fpm", "apache")
_BUILD_PACKAGES = lazy(
    r"^(build-essential|build-base|gcc|g\+\+|gcc-c\+\+|make|cmake|clang|gfortran|autoconf|"
    r"automake|libtool|pkg-config|pkgconf|linux-headers|musl-dev|.*-dev|.*-devel)(=.*)?$"
)


def _short_name(image: str) -> str:
    name = image.split("@", 1)[0]
    head, sep, tail = name.rpartition(":")
    if sep and "/" not in tail:
        name = head
    return name.removeprefix("docker.io/").removeprefix("library/")


def _dw006(ctx: Context) -> Iterator[Hit]:
    final = ctx.build.final
    if final is None or final.parent is not None:
        return
    name = _short_name(final.image)
    tag = final.ref.tag or ""
    if name not in _SDK_IMAGES:
        return
    if name not in ("golang", "maven", "gradle", "rust", "gcc") and any(
        m in tag for m in _SLIM_MARKERS
    ):
        return
    if name == "eclipse-temurin" and "jdk" not in tag:
        return
    yield Hit(
        final.from_,
        message=f"The final stage is built on the SDK image `{final.image}`; "
        f"ship on {_SDK_IMAGES[name]} instead",
    )


DW006 = Rule(
    "DW006",
    INFO,
    "The final stage is built on a full SDK image",
    _dw006,
    Doc(
        "SDK images carry compilers and headers (hundreds of MB) that the app does "
        "not need at run time.",
        'FROM golang:1.22\nRUN go build -o /app .\nCMD ["/app"]',
        "FROM golang:1.22 AS build\nRUN go build -o /app .\n"
        "FROM gcr.io/distroless/static\nCOPY --from=build /app /app",
    ),
)


def _installs(c: Command) -> list[str]:
    if c.name in ("apt-get", "apt") and c.has_arg("install"):
        return [a for a in c.positional("t", "target-release", "o") if a != "install"]
    if c.name == "apk" and c.has_arg("add"):
        return [a for a in c.positional("t", "virtual", "X", "repository") if a != "add"]
    if c.name in ("yum", "dnf", "microdnf") and c.has_arg("install"):
        return [a for a in c.positional() if a != "install"]
    return []


def _dw007(ctx: Context) -> Iterator[Hit]:
    if len(ctx.build.stages) != 1:
        return
    for site in ctx.build.runs:
        tools = sorted(
            {
                p.split("=")[0]
                for c in site.script.commands
                for p in _installs(c)
                if _BUILD_PACKAGES.match(p)
            }
        )
        if tools:
            yield Hit(
                site.instruction,
                message="Build tools installed in a single-stage build stay in the image: "
                + ", ".join(tools),
            )


DW007 = Rule(
    "DW007",
    W,
    "Build tools installed in a single-stage build",
    _dw007,
    Doc(
        "Compilers and -dev packages needed to build stay in the shipped image unless "
        "the build happens in an earlier stage.",
        "FROM python:3.12\nRUN apt-get install -y build-essential",
        "FROM python:3.12 AS build\n...\nFROM python:3.12-slim\nCOPY --from=build ...",
    ),
)


def _dw002(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if site.stage is not None and not ctx.build.reaches_final(site.stage):
            continue
        for c in site.script.named("npm"):
            if (
                c.has_arg("install", "i")
                and c.has_flag("g", "global")
                and any(a == "npm" or a.startswith("npm@") for a in c.args)
            ):
                yield Hit(site.instruction)
                break


DW002 = Rule(
    "DW002",
    W,
    "`npm install -g npm@...` upgrades npm inside the image",
    _dw002,
    Doc(
        "The image already has npm; a second copy in a new layer adds ~10 MB and "
        "changes the tool under a pinned base. Pick a base image with the npm you need.",
        "FROM node:16.14.0-alpine\nRUN npm install -g npm@8.5.1",
        "FROM node:18.19.0-alpine",
    ),
)


def _first_production(stage: Stage) -> int | None:
    """The line of the stage's first ENV or ARG setting NODE_ENV=production."""
    for ins in stage.instructions:
        if ins.keyword in ("ENV", "ARG"):
            for k, v in pairs(ins.value):
                if k == "NODE_ENV" and v == "production":
                    return ins.start_line
    return None


def _dev_install(c: Command) -> bool:
    if c.name == "npm" and c.args and c.args[0] in ("install", "i", "ci"):
        if len(c.positional()) > 1 or c.has_flag("g", "global"):
            return False
        prod = ("omit", "production", "only")
        return not c.has_flag(*prod)
    if c.name == "yarn" and (not c.args or c.args[0] == "install" or c.args[0].startswith("--")):
        return not c.has_flag("production", "prod")
    return False


def _dw003(ctx: Context) -> Iterator[Hit]:
    final = ctx.build.final
    if final is None:
        return
    production = SetBefore(ctx.build, _first_production)
    for site in ctx.build.runs:
        if site.stage is None or not ctx.build.reaches_final(site.stage) or site.onbuild:
            continue
        cmds = site.script.commands
        if any(c.name in ("npm", "yarn") and c.has_arg("build") for c in cmds):
            continue
        if any(_dev_install(c) for c in cmds) and not production(
            site.stage, site.instruction.start_line
        ):
            yield Hit(site.instruction)


DW003 = Rule(
    "DW003",
    W,
    "Dev dependencies are installed in the final image",
    _dw003,
    Doc(
        "`npm install`/`npm ci`/`yarn install` without a production flag installs "
        "devDependencies (test runners, compilers) into the shipped image.",
        "RUN npm ci",
        "RUN npm ci --omit=dev  # or ENV NODE_ENV=production",
    ),
    suggestion="use `npm ci --omit=dev` (or yarn --production), or build in another stage",
)


def _npm_cache_kept(site_cmds: tuple[Command, ...]) -> bool:
    install = any(
        c.name == "npm" and c.args and c.args[0] in ("install", "i", "ci") for c in site_cmds
    )
    clean = any(c.name == "npm" and c.has_arg("cache") for c in site_cmds) or any(
        c.name == "rm" and any(".npm" in a for a in c.args) for c in site_cmds
    )
    return install and not clean


def _dw004(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if site.stage is None or not ctx.build.reaches_final(site.stage):
            continue
        cmds = site.script.commands
        kept: list[str] = []
        if _npm_cache_kept(cmds) and ".npm" not in " ".join(site.run.flag_values("mount")):
            kept.append("npm (~/.npm)")
        if kept:
            yield Hit(
                site.instruction,
                message="Package cache left in the layer: "
                + ", ".join(kept)
                + "; clean it in the same RUN or use a cache mount",
            )


DW004 = Rule(
    "DW004",
    INFO,
    "Package cache left in the layer",
    _dw004,
    Doc(
        "A package manager's cache is written into the same layer as the packages and "
        "stays there unless removed in that RUN. apt, apk, pip and yarn are DL3009, DL3019, "
        "DL3042 and DL3060; this rule adds npm's cache (~/.npm).",
        "RUN npm ci --omit=dev",
        "RUN npm ci --omit=dev && npm cache clean --force",
    ),
)


def _created_paths(c: Command, cwd: str) -> list[str]:
    out: list[str] = []
    args = list(c.args)
    if c.name == "wget":
        for i, a in enumerate(args):
            if a in ("-O", "--output-document") and i + 1 < len(args):
                out.append(args[i + 1])
            elif a.startswith("--output-document="):
                out.append(a.split("=", 1)[1])
        if not out:
            out += [
                a.rstrip("/").rsplit("/", 1)[-1] for a in c.positional("O", "P", "e") if is_url(a)
            ]
    elif c.name == "curl":
        for i, a in enumerate(args):
            if a in ("-o", "--output") and i + 1 < len(args):
                out.append(args[i + 1])
        if c.has_flag("O", "remote-name"):
            out += [a.rstrip("/").rsplit("/", 1)[-1] for a in args if is_url(a)]
    elif c.name == "git" and c.args[:1] == ("clone",):
        pos = c.positional("b", "branch", "depth")[1:]
        if len(pos) >= 2:
            out.append(pos[1])
        elif pos:
            out.append(pos[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))
    return [posixpath.normpath(posixpath.join(cwd, p)) for p in out if p and p != "-"]


def _dw005(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        cwd = "/"
        created = CreatedPaths()
        for ins in stage.instructions:
            if ins.keyword == "WORKDIR":
                cwd = posixpath.normpath(posixpath.join(cwd, ins.value.strip("\"'")))
            elif ins.keyword in ("COPY", "ADD") and not ins.heredocs:
                srcs, dest = copy_parts(ins)
                dest_path = posixpath.normpath(posixpath.join(cwd, dest.strip("\"'")))
                if dest.endswith("/") or len(srcs) > 1:
                    for s in srcs:
                        name = s.rstrip("/").rsplit("/", 1)[-1]
                        created.add(posixpath.join(dest_path, name), ins.start_line)
                else:
                    created.add(dest_path, ins.start_line)
            elif ins.keyword == "RUN":
                site = ctx.build.site(ins)
                here: list[str] = []
                for c in site.script.commands:
                    if c.name == "cd" and c.args:
                        cwd_run = c.args[0]
                        del cwd_run
                    if c.name == "rm":
                        targets = [
                            posixpath.normpath(posixpath.join(cwd, t)) for t in c.positional()
                        ]
                        at = created.first_removed(targets)  # made by earlier instructions
                        if at is not None:
                            path, line = created.items[at]
                            yield Hit(
                                ins,
                                message=f"`{path}` was added by line {line} and deleted in a "
                                "later layer, which saves no space; delete it in the "
                                "instruction that creates it",
                                fix=_move_cleanup(ctx, ins, line),
                            )
                            break
                    here += _created_paths(c, cwd)
                for path in here:
                    created.add(path, ins.start_line)


DW005 = Rule(
    "DW005",
    W,
    "Files deleted in a later layer than the one that created them",
    _dw005,
    Doc(
        "Layers only add: a file deleted by a later RUN still ships in the layer that "
        "added it, plus a whiteout.",
        "RUN wget -q https://x/data.tgz && tar -xzf data.tgz\nRUN rm data.tgz",
        "RUN wget -q https://x/data.tgz && tar -xzf data.tgz && rm data.tgz",
    ),
)


def _move_cleanup(ctx: Context, ins: object, line: int) -> Fix | None:
    """Move a RUN that is only ``rm ...`` into the RUN (on ``line``) that made the files."""
    from deadweight.dockerfile.syntax import Instruction

    assert isinstance(ins, Instruction)
    site = ctx.build.site(ins)
    creator = ctx.build.instruction_at(line)
    if (
        creator is None
        or creator.keyword != "RUN"
        or len(site.script.commands) != 1
        or ins.heredocs
        or ins.exec_form
    ):
        return None
    if creator.heredocs or creator.exec_form is not None or creator.trigger is not None:
        return None
    src = ctx.build.dockerfile.source
    raw = src[creator.start : creator.end]
    end = ins.end + 1 if src[ins.end : ins.end + 1] == "\n" else ins.end
    return Fix(
        f"move `{ins.value}` into the RUN on line {line}",
        (Edit(creator.start, creator.end, f"{raw} && {ins.value}"), Edit(ins.start, end, "")),
    )


def _dw015(ctx: Context) -> Iterator[Hit]:
    final = ctx.build.final
    if final is None:
        return
    name = _short_name(final.image)
    if final.image == "scratch" or "distroless" in name:
        return
    for s in ctx.build.lineage(final):
        if any(i.keyword == "HEALTHCHECK" for i in s.instructions):
            return
    yield Hit(final.from_)


DW015 = Rule(
    "DW015",
    INFO,
    "No HEALTHCHECK in the final stage",
    _dw015,
    Doc(
        "Without a HEALTHCHECK, Docker cannot tell a hung container from a working one. "
        "(Informational: orchestrators often probe instead.)",
        'CMD ["node", "server.js"]',
        'HEALTHCHECK CMD ["wget", "-qO-", "http://127.0.0.1:8080/healthz"]',
    ),
)


RULES = (
    DW002,
    DW003,
    DW004,
    DW005,
    DW006,
    DW007,
    DW015,
)
