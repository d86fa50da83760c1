"""apk (Alpine): pinning and --no-cache."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile import edits
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import INFO, W, _after, _cached
from deadweight.dockerfile.shell import Command


def _apk_add(c: Command) -> bool:
    return c.name == "apk" and c.has_arg("add")


def _dl3018(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if not _apk_add(c):
                continue
            pkgs = _after(
                c.positional("t", "virtual", "X", "repository", "repositories-file"), "add"
            )
            if not all("=" in p or p.endswith(".apk") for p in pkgs):
                yield Hit(site.instruction)
                break


DL3018 = Rule(
    "DL3018",
    W,
    "Pin versions in apk add. Instead of `apk add <package>` use `apk add <package>=<version>`",
    _dl3018,
    Doc(
        "Unpinned packages make builds unrepeatable.",
        "RUN apk add --no-cache curl",
        "RUN apk add --no-cache curl=8.5.0-r0",
    ),
)


def _dl3019(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    for site in ctx.build.runs:
        if _cached(site, "/var/cache/apk") or _cached(site, "/etc/apk/cache"):
            continue
        if any(_apk_add(c) and not c.has_flag("no-cache") for c in site.script.commands):
            fix = edits.add_flag(
                src, site.instruction, r"apk", "add", "--no-cache", lambda s: "--no-cache" in s
            )
            yield Hit(site.instruction, fix=fix)


DL3019 = Rule(
    "DL3019",
    INFO,
    "Use the `--no-cache` switch to avoid the need to use `--update` and remove "
    "`/var/cache/apk/*` when done installing packages",
    _dl3019,
    Doc(
        "Without --no-cache the APK index stays in the layer.",
        "RUN apk add curl",
        "RUN apk add --no-cache curl",
    ),
)


RULES = (
    DL3018,
    DL3019,
)
