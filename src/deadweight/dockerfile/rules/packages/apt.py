"""apt and apt-get (Debian, Ubuntu): pinning, the package lists, -y, recommends, apt itself."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile import edits
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import INFO, W, _cached, _final_or_reused
from deadweight.dockerfile.shell import Command


def _apt_install(c: Command) -> bool:
    return c.name == "apt-get" and c.has_arg("install")


def _dl3008(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if not _apt_install(c):
                continue
            pkgs = [a for a in c.positional("t", "target-release") if a != "install"]
            if not all("=" in p or "/" in p or p.endswith(".deb") for p in pkgs):
                yield Hit(site.instruction)
                break


DL3008 = Rule(
    "DL3008",
    W,
    "Pin versions in apt get install. Instead of `apt-get install <package>` use "
    "`apt-get install <package>=<version>`",
    _dl3008,
    Doc(
        "Unpinned packages make builds unrepeatable.",
        "RUN apt-get install -y curl",
        "RUN apt-get install -y curl=7.88.1-10+deb12u5",
    ),
)


def _dl3009(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        update = any(c.name in ("apt-get", "apt") and c.has_arg("update") for c in cmds)
        cleanup = any(c.name == "rm" and c.has_arg("-rf", "/var/lib/apt/lists/*") for c in cmds)
        if not update or cleanup:
            continue
        if _cached(site, "/var/lib/apt/lists") or (
            _cached(site, "/var/lib/apt") and _cached(site, "/var/cache/apt")
        ):
            continue
        if _final_or_reused(ctx, site.stage, site):
            # removing the lists is only safe where this RUN also installs what it needs
            fix = (
                edits.append_command(
                    ctx.build.dockerfile.source, site.instruction, "rm -rf /var/lib/apt/lists/*"
                )
                if any(_apt_install(c) for c in cmds)
                else None
            )
            yield Hit(site.instruction, fix=fix)


DL3009 = Rule(
    "DL3009",
    INFO,
    "Delete the apt lists (/var/lib/apt/lists) after installing something",
    _dl3009,
    Doc(
        "The package lists stay in the layer (tens of MB) unless removed in the same RUN.",
        "RUN apt-get update && apt-get install -y curl",
        "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
    ),
    suggestion="end the RUN with `&& rm -rf /var/lib/apt/lists/*`",
)


def _apt_yes(c: Command) -> bool:
    flags = c.flags
    return (
        any(f in ("y", "yes", "assume-yes") for f in flags)
        or flags.count("q") >= 2
        or c.has_arg("-q=2", "--quiet=2")
    )


def _dl3014(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    for site in ctx.build.runs:
        if any(_apt_install(c) and not _apt_yes(c) for c in site.script.commands):
            fix = edits.add_flag(
                src,
                site.instruction,
                r"apt-get",
                "install",
                "-y",
                lambda seg: any(t in seg.split() for t in ("-y", "--yes", "--assume-yes", "-qq")),
            )
            yield Hit(site.instruction, fix=fix)


DL3014 = Rule(
    "DL3014",
    W,
    "Use the `-y` switch to avoid manual input `apt-get -y install <package>`",
    _dl3014,
    Doc(
        "Without -y apt-get waits for an answer and the build fails.",
        "RUN apt-get install curl",
        "RUN apt-get install -y curl",
    ),
)


def _no_recommends(c: Command) -> bool:
    return c.has_flag("no-install-recommends") or any(
        "APT::Install-Recommends=false" in a for a in c.args
    )


def _dl3015(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    for site in ctx.build.runs:
        if any(_apt_install(c) and not _no_recommends(c) for c in site.script.commands):
            fix = edits.add_flag(
                src,
                site.instruction,
                r"apt-get",
                "install",
                "--no-install-recommends",
                lambda seg: "--no-install-recommends" in seg or "Install-Recommends" in seg,
            )
            yield Hit(site.instruction, fix=fix)


DL3015 = Rule(
    "DL3015",
    INFO,
    "Avoid additional packages by specifying `--no-install-recommends`",
    _dl3015,
    Doc(
        "Recommended packages are rarely needed and add size.",
        "RUN apt-get install -y curl",
        "RUN apt-get install -y --no-install-recommends curl",
    ),
)


def _dl3027(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(c.name == "apt" for c in site.script.commands):
            yield Hit(site.instruction)


DL3027 = Rule(
    "DL3027",
    W,
    "Do not use apt as it is meant to be an end-user tool, use apt-get or apt-cache instead",
    _dl3027,
    Doc(
        "apt's interface is not stable for scripts.",
        "RUN apt install -y curl",
        "RUN apt-get install -y curl",
    ),
)


RULES = (
    DL3008,
    DL3009,
    DL3014,
    DL3015,
    DL3027,
)
