"""npm and yarn (Node): pinning, the yarn cache."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import INFO, W, _after, _cached, _final_or_reused


def _npm_pinned(p: str) -> bool:
    if p.startswith(("git://", "git+ssh://", "git+http://", "git+https://")):
        return "#" in p
    if p.endswith((".tar", ".tar.gz", ".tgz")) or p.startswith(("/", "./", "../", "~/")):
        return True
    body = p.split("/", 1)[1] if p.startswith("@") and "/" in p else p
    return "@" in body


def _dl3016(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name != "npm" or not c.has_arg("install"):
                continue
            pos = c.positional()
            if not pos or pos[0] != "install":
                continue
            if not all(_npm_pinned(p) for p in _after(pos, "install")):
                yield Hit(site.instruction)
                break


DL3016 = Rule(
    "DL3016",
    W,
    "Pin versions in npm. Instead of `npm install <package>` use `npm install <package>@<version>`",
    _dl3016,
    Doc(
        "Unpinned packages make builds unrepeatable.",
        "RUN npm install -g nodemon",
        "RUN npm install -g nodemon@3.0.2",
    ),
)


def _dl3060(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        install = any(c.name == "yarn" and c.has_arg("install") for c in cmds)
        clean = any(c.name == "yarn" and c.has_arg("cache", "clean") for c in cmds)
        if (
            install
            and not clean
            and not _cached(site, "/usr/local/share/.cache/yarn")
            and _final_or_reused(ctx, site.stage, site)
        ):
            yield Hit(site.instruction)


DL3060 = Rule(
    "DL3060",
    INFO,
    "`yarn cache clean` missing after `yarn install` was run.",
    _dl3060,
    Doc(
        "yarn's cache stays in the image.",
        "RUN yarn install",
        "RUN yarn install --frozen-lockfile && yarn cache clean",
    ),
)


RULES = (
    DL3016,
    DL3060,
)
