"""zypper (openSUSE, SLES): non-interactive, no dist-upgrade, the cache cleaned, pinning."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W

_ZYPPER_INSTALL = ("install", "in", "remove", "rm", "source-install", "si", "patch")


def _dl3034(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(
            c.name == "zypper"
            and c.has_arg(*_ZYPPER_INSTALL)
            and not c.has_flag("n", "non-interactive", "y", "no-confirm")
            for c in site.script.commands
        ):
            yield Hit(site.instruction)


DL3034 = Rule(
    "DL3034",
    W,
    "Non-interactive switch missing from `zypper` command: `zypper install -y`",
    _dl3034,
    Doc(
        "zypper waits for an answer without -n/-y.",
        "RUN zypper install curl",
        "RUN zypper install -y curl=8.0",
    ),
)


def _dl3035(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(
            c.name == "zypper" and c.has_arg("dist-upgrade", "dup") for c in site.script.commands
        ):
            yield Hit(site.instruction)


DL3035 = Rule(
    "DL3035",
    W,
    "Do not use `zypper dist-upgrade`.",
    _dl3035,
    Doc("Upgrade the base image instead.", "RUN zypper dist-upgrade", "FROM opensuse:15.5"),
)


def _dl3036(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        if any(c.name == "zypper" and c.has_arg("install", "in") for c in cmds) and not any(
            c.name == "zypper" and c.has_arg("clean", "cc") for c in cmds
        ):
            yield Hit(site.instruction)


DL3036 = Rule(
    "DL3036",
    W,
    "`zypper clean` missing after zypper use.",
    _dl3036,
    Doc(
        "zypper's cache stays in the layer.",
        "RUN zypper install -y curl=8.0",
        "RUN zypper install -y curl=8.0 && zypper clean",
    ),
)


def _dl3037(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name == "zypper" and c.has_arg("install", "in"):
                pkgs = [p for p in c.positional() if p not in ("install", "in")]
                if not all(
                    any(s in p for s in ("=", ">", "<")) or p.endswith(".rpm") for p in pkgs
                ):
                    yield Hit(site.instruction)
                    break


DL3037 = Rule(
    "DL3037",
    W,
    "Specify version with `zypper install -y <package>=<version>`.",
    _dl3037,
    Doc(
        "Unpinned packages make builds unrepeatable.",
        "RUN zypper install -y curl",
        "RUN zypper install -y curl=8.0",
    ),
)


RULES = (
    DL3034,
    DL3035,
    DL3036,
    DL3037,
)
