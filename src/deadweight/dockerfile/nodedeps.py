"""Where a Node project's dependencies end up, and how to install them for production.

``multistage`` asks three questions of a Dockerfile it rewrites:

- where ``node_modules`` is once the installing RUN has run: in the WORKDIR, moved
  elsewhere (``mv node_modules ../``, ``mv node_modules /deps``) or moved and linked back
  (``ln -s /opt/node_modules node_modules``): the final stage copies that path and makes
  the link again;
- how the package manager leaves the devDependencies out (``npm ci --omit=dev``,
  ``yarn install --production``, ``pnpm install --prod``) or prunes them after a build
  step (``npm prune --omit=dev``, ``yarn install --production --ignore-scripts
  --prefer-offline``, ``pnpm prune --prod``);
- which RUNs only upgrade npm itself (``npm install -g npm@...``, DW002: dropped) and which
  global tools the command needs at run time (``pm2`` for ``pm2-runtime``: kept in the
  final stage).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from deadweight.dockerfile.shell import Command

# `mv node_modules DEST` moves it into DEST when DEST is one of these (or ends with /)
_EXISTING_DIRS = frozenset(
    {".", "..", "/", "/opt", "/usr", "/usr/local", "/usr/src", "/srv", "/home", "/var", "/tmp"}
)
_NPM_TARBALL = re.compile(r"(?:.*/)?npm-[0-9][^/]*\.tgz")
PRUNE = {
    "npm": "npm prune --omit=dev",
    "yarn": "yarn install --production --ignore-scripts --prefer-offline",
    "pnpm": "pnpm prune --prod",
}
PRODUCTION_FLAG = {"yarn": "--production", "pnpm": "--prod"}


@dataclass(frozen=True, slots=True)
class Modules:
    """Where ``node_modules`` is after the install: ``path`` (absolute), and the command
    that links it back into the WORKDIR (empty when it was not moved or not linked)."""

    path: str
    link: str = ""


def _absolute(path: str, workdir: str) -> str:
    return posixpath.normpath(posixpath.join(workdir, path))


def _is_modules(word: str, workdir: str) -> bool:
    return _absolute(word.rstrip("/"), workdir) == _absolute("node_modules", workdir)


def relocated(commands: list[Command], workdir: str) -> Modules | str:
    """Follow ``mv``/``ln -s`` of node_modules in ``commands`` (those after the install),
    or say which command cannot be followed."""
    where = _absolute("node_modules", workdir)
    link = ""
    for c in commands:
        words = [a for a in c.args if not a.startswith("-")]
        if c.name == "mv" and len(words) == 2 and _is_modules(words[0], workdir):
            dest = words[1]
            into = dest.endswith("/") or dest.rstrip("/") in _EXISTING_DIRS
            base = _absolute(dest, workdir)
            where = (
                posixpath.join(base, "node_modules")
                if into and not base.endswith("/node_modules")
                else base
            )
        elif c.name == "ln" and c.has_flag("s", "symbolic") and len(words) == 2:
            if not _is_modules(words[1], workdir):
                return f"`ln {' '.join(c.args)}` links something other than node_modules"
            if _absolute(words[0], workdir) != where:
                return f"`ln {' '.join(c.args)}` links a path the install did not move"
            link = f"ln -s {where} node_modules"
        elif c.name in ("mv", "ln"):
            return f"`{c.name} {' '.join(c.args)}` moves files the final stage would miss"
    return Modules(where, link)


def npm_self_upgrade(c: Command) -> bool:
    """``npm install -g npm@X`` (or an npm tarball): npm upgrading itself (DW002)."""
    if c.name != "npm" or not {"-g", "--global"} & set(c.args):
        return False
    words = [a for a in c.args if not a.startswith("-")]
    if not words or words[0] not in ("install", "i", "add", "update", "up"):
        return False
    names = words[1:]
    return bool(names) and all(
        n == "npm" or n.startswith("npm@") or _NPM_TARBALL.fullmatch(n) for n in names
    )


def global_packages(c: Command) -> list[str]:
    """The package names ``npm install -g`` (or ``yarn global add``) installs."""
    words = [a for a in c.args if not a.startswith("-")]
    if c.name == "npm" and {"-g", "--global"} & set(c.args) and words[:1] in (["install"], ["i"]):
        names = words[1:]
    elif c.name == "yarn" and words[:2] == ["global", "add"]:
        names = words[2:]
    else:
        return []
    return [re.sub(r"(?<=.)@[^/]*$", "", n) for n in names]


def needed_at_run_time(packages: list[str], command: tuple[str, ...]) -> bool:
    """Whether the image's command names one of ``packages`` (a bin is named for its
    package, or starts with it: ``pm2`` gives ``pm2-runtime``)."""
    words = {posixpath.basename(w) for w in command}
    return any(
        w == p.rsplit("/", 1)[-1] or w.startswith(p.rsplit("/", 1)[-1] + "-")
        for p in packages
        for w in words
    )


_TOOL = re.compile(r"(?<![\w./-])(yarn|pnpm)(?:\s+(install|i))?(?=\s|\\|;|&|\||$)")


def production_install(raw: str, tool: str) -> str:
    """``raw`` with the yarn or pnpm install leaving the devDependencies out."""
    flag = PRODUCTION_FLAG[tool]

    def add(m: re.Match[str]) -> str:
        return m.group(0) if m.group(1) != tool or flag in raw else f"{m.group(0)} {flag}"

    return _TOOL.sub(add, raw, count=1)
