"""npm in a runtime image: devDependencies to prune, and npm itself when the command can
run node directly.

**devDependencies.** A project's lockfiles (``package-lock.json`` v2/v3 and npm's hidden
``node_modules/.package-lock.json``) list every installed package by its directory. A
directory is pruned when every lockfile entry for it says ``"dev": true`` (``devOptional``
is not dev: ``npm ci --omit=dev`` keeps it) and no package that stays needs it: the
packages that stay are the entries not flagged dev, the root's ``dependencies``,
``optionalDependencies`` and ``peerDependencies``, and everything they reach through their
own, resolved the way node does (the nearest ``node_modules`` up the tree). So a missing or
inconsistent flag keeps a package rather than breaking the app. ``node_modules/.bin`` links
into pruned packages go with them. The lockfiles themselves are left as they are, as
``npm ci --omit=dev`` leaves ``package-lock.json``; the hidden lockfile still lists the
pruned packages (npm rebuilds it on its next install).

**npm, yarn and corepack.** ``CMD npm start`` (or ``yarn start``, shell or exec form) runs
package.json's ``scripts.start``; when that is a plain ``node FILE [args]``, the command is
rewritten to it in exec form (npm would also have set ``npm_*`` variables, which the app no
longer sees). The tools are removed only when the image's command is then node itself.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deadweight.analysis.entrypoint import Reading
from deadweight.errors import CorruptImage
from deadweight.filetree.tree import Tree
from deadweight.spec.document import decode_text

HIDDEN_LOCK = "node_modules/.package-lock.json"
_PROD_DEPS = ("dependencies", "optionalDependencies", "peerDependencies")

# -- devDependencies ---------------------------------------------------------------------


def lockfiles(tree: Tree) -> dict[str, list[str]]:
    """project directory -> its lockfiles (a project's own, not a dependency's)."""
    out: dict[str, list[str]] = {}
    for path, node in tree.nodes.items():
        if node.kind not in ("file", "hardlink") or not path.endswith("package-lock.json"):
            continue
        if path == HIDDEN_LOCK or path.endswith("/" + HIDDEN_LOCK):
            if path.count("node_modules/") == 1:
                out.setdefault(path[: -len(HIDDEN_LOCK)].rstrip("/"), []).append(path)
        elif path.rpartition("/")[2] == "package-lock.json" and "node_modules/" not in path:
            out.setdefault(path.rpartition("/")[0], []).append(path)
    for paths in out.values():
        paths.sort()
    return dict(sorted(out.items()))


def _entries(texts: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """lockfile key -> its entries (one per lockfile listing it); "" is the project."""
    out: dict[str, list[dict[str, Any]]] = {}
    for text in texts:
        try:
            doc = decode_text(text, "package-lock.json")
        except CorruptImage:
            continue
        packages = doc.get("packages") if isinstance(doc, dict) else None
        if not isinstance(packages, dict):
            continue  # a v1 lockfile names no directories
        for key, meta in packages.items():
            if isinstance(key, str) and isinstance(meta, dict):
                out.setdefault(key, []).append(meta)
    return out


def _resolve(entries: Mapping[str, object], start: str, name: str) -> str | None:
    """The directory node finds ``require(name)`` in, from package directory ``start``."""
    d = start
    while True:
        key = f"{d}/node_modules/{name}" if d else f"node_modules/{name}"
        if key in entries:
            return key
        if not d:
            return None
        d = posixpath.dirname(d)


def dev_packages(texts: Iterable[str]) -> tuple[str, ...]:
    """Lockfile keys (``node_modules/...``) of the packages that can be pruned."""
    entries = _entries(texts)
    dev = {
        key
        for key, metas in entries.items()
        if "node_modules/" in key
        and all(m.get("dev") is True for m in metas)
        and not any(m.get("link") for m in metas)
    }
    keep = [key for key in entries if key not in dev]
    kept = set(keep)
    while keep:
        key = keep.pop()
        needs: set[str] = set()
        for meta in entries[key]:
            for field in _PROD_DEPS:
                deps = meta.get(field)
                if isinstance(deps, dict):
                    needs.update(n for n in deps if isinstance(n, str))
            target = meta.get("resolved")
            if meta.get("link") and isinstance(target, str) and target in entries:
                needs.discard(target)
                if target not in kept:
                    kept.add(target)
                    keep.append(target)
        for name in sorted(needs):
            found = _resolve(entries, key, name)
            if found is not None and found not in kept:
                kept.add(found)
                keep.append(found)
    pruned = sorted(dev - kept)
    # a package that stays inside a pruned one keeps that one too
    return tuple(k for k in pruned if not any(s.startswith(k + "/") for s in kept))


def bin_links(tree: Tree, dirs: Sequence[str]) -> dict[str, str]:
    """``node_modules/.bin`` symlinks into ``dirs`` -> the directory they point into."""
    tops = set(dirs)
    out: dict[str, str] = {}
    for path, node in tree.nodes.items():
        if node.kind != "symlink" or "node_modules/.bin/" not in path:
            continue
        here = path.rpartition("/")[0]
        target = posixpath.normpath(
            node.link.lstrip("/") if node.link.startswith("/") else posixpath.join(here, node.link)
        )
        p = target
        while p and p != ".":
            if p in tops:
                out[path] = p
                break
            p = posixpath.dirname(p)
    return out


# -- npm, yarn and corepack --------------------------------------------------------------

TOOL_PATHS = re.compile(
    r"(usr/(?:local/)?lib/node_modules/(?:npm|corepack|yarn)|opt/yarn-v[^/]+)(?:/|$)"
    r"|(usr/(?:local/)?bin/(?:npm|npx|corepack|yarn|yarnpkg))$"
)
_COREPACK_SHIMS = re.compile(r"usr/(?:local/)?bin/(?:pnpm|pnpx)$")
TOOL_WORDS = re.compile(r"(?:^|[\s/;&|(])(?:npm|npx|yarn|yarnpkg|corepack|pnpm|pnpx)(?:$|[\s;&|)])")
_START = (("start",), ("run", "start"), ("run-script", "start"))
_PLAIN = re.compile(r"[A-Za-z0-9_./:=@%+,-]+")
_SHELLS = ("/bin/sh", "sh", "/bin/bash", "bash")


def tool_group(path: str, link: str = "") -> str | None:
    """The npm/yarn/corepack directory or file ``path`` belongs to, if it does."""
    m = TOOL_PATHS.match(path)
    if m is not None:
        return m.group(1) or m.group(2)
    if _COREPACK_SHIMS.match(path) and "corepack" in link:
        return path
    return None


@dataclass(frozen=True, slots=True)
class Command:
    """The outcome for the image's command: config changes (empty if none) and whether
    the tools can go; ``reason`` says why not, ``note`` what changed."""

    changes: tuple[tuple[str, tuple[str, ...] | None], ...] = ()
    removable: bool = False
    reason: str = ""
    note: str = ""


def _argv(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _start_of(argv: Sequence[str]) -> str | None:
    """``npm``/``yarn`` when ``argv`` is just ``npm start`` (or yarn's), exec or shell form."""
    if len(argv) == 3 and argv[0] in _SHELLS and argv[1] == "-c":
        try:
            argv = shlex.split(argv[2])
        except ValueError:
            return None
    if argv and posixpath.basename(argv[0]) in ("npm", "yarn") and tuple(argv[1:]) in _START:
        return posixpath.basename(argv[0])
    return None


def start_script(package_json: bytes | None, has_server_js: bool) -> tuple[list[str], str]:
    """(node argv, "") for the ``start`` script, or ([], why it cannot run without npm)."""
    if package_json is None:
        return [], "no package.json in the working directory"
    try:
        doc = decode_text(package_json, "package.json")
    except CorruptImage:
        return [], "package.json is not valid JSON"
    scripts = doc.get("scripts") if isinstance(doc, dict) else None
    scripts = scripts if isinstance(scripts, dict) else {}
    for hook in ("prestart", "poststart"):
        if hook in scripts:
            return [], f"package.json has a {hook} script"
    script = scripts.get("start")
    if script is None:
        if has_server_js:  # npm's default start (npm-run-script docs)
            return ["node", "server.js"], ""
        return [], "package.json has no start script"
    if not isinstance(script, str):
        return [], "scripts.start is not a string"
    words = script.split()
    if not words or any(_PLAIN.fullmatch(w) is None for w in words):
        return [], f"scripts.start {script!r} is not a plain node command (shell syntax)"
    if words[0] != "node" or len(words) < 2 or words[1].startswith("-") or "=" in words[1]:
        return [], f"scripts.start {script!r} is not `node FILE [args]`"
    return words, ""


def _through_entrypoint(entrypoint: Sequence[str], reading: Reading | None) -> str:
    """Why the entrypoint may run npm ("" when it only runs its arguments, possibly behind
    node, as the official node image's ``docker-entrypoint.sh`` does)."""
    if reading is None:
        return "npm stays: the entrypoint may need it"
    own = [n for n in reading.names if n not in reading.from_args]
    runs_tool = [n for n in own if TOOL_WORDS.search(n)]
    if runs_tool:
        return f"npm stays: the entrypoint {entrypoint[0]} runs {runs_tool[0]}"
    if reading.unknown:
        return (
            f"npm stays: the entrypoint {entrypoint[0]} runs what cannot be read without "
            f"running it ({reading.unknown[0]})"
        )
    if reading.unread:
        return f"npm stays: the entrypoint's /{reading.unread[0]} could not be read"
    if not reading.passes_args:
        return f'npm stays: the entrypoint {entrypoint[0]} does not end in exec "$@"'
    return ""


def command(
    config: Mapping[str, Any],
    package_json: bytes | None,
    has_server_js: bool,
    entrypoint_reading: Reading | None = None,
) -> Command:
    """What to do with ``config``'s command (see the module docstring).
    ``entrypoint_reading`` is what the entrypoint runs, given the ``Cmd`` as arguments
    (``analysis.entrypoint``); without it, an entrypoint other than npm keeps npm."""
    entrypoint, cmd = _argv(config.get("Entrypoint")), _argv(config.get("Cmd"))
    changes: tuple[tuple[str, tuple[str, ...] | None], ...] = ()
    note = ""
    why = ""
    if entrypoint and _start_of(entrypoint + cmd) is None:
        why = _through_entrypoint(entrypoint, entrypoint_reading)
        if why:
            return Command(reason=why)
        passing, line = True, cmd  # the entrypoint execs its arguments: Cmd is the command
    else:
        passing, line = False, entrypoint + cmd
    tool = _start_of(line)
    if tool is not None:
        argv, why = start_script(package_json, has_server_js)
        if not argv:
            return Command(reason=f"{tool} stays: `{tool} start` is the command and {why}")
        changes = (("Cmd", tuple(argv)),)
        if entrypoint and not passing:
            changes = (("Entrypoint", None), *changes)
        before = json.dumps(line if passing else entrypoint + cmd)
        note = f"Cmd {before} -> {json.dumps(argv)} (exec form)"
        if not passing:
            entrypoint = []
        cmd = argv
    final = cmd if passing else entrypoint + cmd
    health = config.get("Healthcheck")
    probe = _argv(health.get("Test")) if isinstance(health, dict) else []
    if entrypoint and not passing:
        return Command(changes, False, "npm stays: the entrypoint may need it", note)
    if not final or posixpath.basename(final[0]) not in ("node", "nodejs"):
        return Command(
            changes, False, f"npm stays: the command {json.dumps(final)} is not node", note
        )
    if TOOL_WORDS.search(" ".join(final)) or TOOL_WORDS.search(" ".join(probe)):
        return Command(changes, False, "npm stays: the command or healthcheck names it", note)
    return Command(changes, True, "", note)
