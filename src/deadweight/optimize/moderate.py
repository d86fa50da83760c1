"""The moderate steps that are not path categories, worked out from the merged tree before
the squash: npm devDependencies and npm itself (``optimize.npm``) become paths to remove,
the non-root user (``optimize.user``) an ``Edit`` of the new layer, and the command rewrite
and ``User`` config changes. What cannot be done safely becomes a ``Skipped`` reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deadweight.analysis.entrypoint import Reading, command_lines, path_dirs, read_command
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.resolve import Resolver
from deadweight.filetree.tree import Node, Tree
from deadweight.image import Image
from deadweight.mutate import Edit
from deadweight.optimize import npm, user
from deadweight.optimize._content import read_files

DEV_DEPS, NPM_TOOLS, NON_ROOT = "npm-dev-dependencies", "npm-tools", "non-root"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A step of the level that was not done, and why."""

    name: str
    reason: str
    bytes: int = 0  # what the step would save if it could be done (0: not known)


ConfigValue = tuple[str, ...] | str | None


@dataclass(frozen=True, slots=True)
class Moderate:
    """The moderate steps that are not categories, worked out before the merge."""

    prefixes: tuple[tuple[str, str, str], ...] = ()
    edit: Edit = field(default_factory=Edit)
    config: tuple[tuple[str, ConfigValue], ...] = ()
    skipped: tuple[Skipped, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)


def moderate(
    image: Image,
    tree: Tree,
    keep: int,
    skip: Collection[str],
    lower: Mapping[str, Node],
    deltas: Sequence[LayerDelta] = (),
) -> Moderate:
    """The moderate steps for ``image`` (merged file system ``tree``; ``lower`` is the
    kept layers' one); files are read from what ``deltas`` captured where they can be."""
    config: Mapping[str, Any] = image.config.container_config  # the document read decoded
    workdir = str(config.get("WorkingDir") or "").strip("/")
    locks = npm.lockfiles(tree)
    wanted = [p for paths in locks.values() for p in paths] if DEV_DEPS not in skip else []
    package_json = f"{workdir}/package.json" if workdir else "package.json"
    wanted += [package_json, user.PASSWD, user.GROUP]
    contents = read_files(image, tree, wanted, deltas)
    prefixes: list[tuple[str, str, str]] = []
    skipped: list[Skipped] = []
    notes: dict[str, str] = {}
    if DEV_DEPS not in skip:
        prefixes += _dev_prefixes(tree, keep, locks, contents, skipped)
    changes: tuple[tuple[str, ConfigValue], ...] = ()
    if NPM_TOOLS not in skip:
        server = tree.get(f"{workdir}/server.js" if workdir else "server.js")
        reading = _entrypoint_reading(image, tree, config, deltas)
        cmd = npm.command(config, contents.get(package_json), server is not None, reading)
        tools = _tool_prefixes(tree)
        changes = cmd.changes
        if cmd.note:
            notes[NPM_TOOLS] = cmd.note
        based = sorted(path for _, path, _ in tools if _from_below(tree, path, keep))
        if tools and not cmd.removable:
            skipped.append(Skipped(NPM_TOOLS, cmd.reason))
        elif tools and based:
            reason = (
                f"npm and yarn stay: /{based[0]} is in the base image layers "
                "(--squash all removes them)"
            )
            if NPM_TOOLS in notes:  # the command is still rewritten: say both, once
                notes[NPM_TOOLS] += f"\n{reason}"
            else:
                skipped.append(Skipped(NPM_TOOLS, reason))
        elif tools:
            prefixes += tools
        elif cmd.reason and cmd.reason.startswith(("npm stays: `", "yarn stays: `")):
            skipped.append(Skipped(NPM_TOOLS, cmd.reason))
    edit = Edit()
    if NON_ROOT not in skip:
        found = user.non_root(config, tree, contents, keep)
        if found.reason:
            skipped.append(Skipped(NON_ROOT, found.reason))
        else:
            edit = Edit(found.files, found.owner)
            changes = (*changes, ("User", found.user))
            notes[NON_ROOT] = found.note
    # the directories of pruned packages go too, when no kept layer holds them
    gone = tuple(
        path
        for _, path, _ in prefixes
        if path not in lower and (node := tree.get(path)) is not None and node.kind == "dir"
    )
    edit = Edit(edit.files, edit.owner, gone)
    return Moderate(tuple(prefixes), edit, changes, tuple(skipped), notes)


ENTRYPOINT_ROUNDS = 3  # the script, what it runs, what that sources


def _entrypoint_reading(
    image: Image, tree: Tree, config: Mapping[str, Any], deltas: Sequence[LayerDelta]
) -> Reading | None:
    """What the entrypoint runs given the ``Cmd`` (``analysis.entrypoint``), reading the
    scripts it reaches from the layers: a few rounds, one pass per layer holding them."""
    entrypoint = config.get("Entrypoint")
    if not isinstance(entrypoint, list) or not entrypoint:
        return None
    line = command_lines(config)[0]
    resolver = Resolver(tree)
    texts: dict[str, bytes] = {}
    reading = None
    for _ in range(ENTRYPOINT_ROUNDS):
        reading = read_command(
            line,
            resolver=resolver,
            read=texts.get,
            path=path_dirs(config),
            workdir=str(config.get("WorkingDir") or "/"),
            args_from=len(entrypoint),
            follow_args=False,
        )
        wanted = [p for p in reading.unread if p not in texts]
        if not wanted:
            break
        texts.update(dict.fromkeys(wanted, b""))  # too big to read: a binary, not a script
        texts.update(read_files(image, tree, wanted, deltas))
    return reading


def _from_below(tree: Tree, top: str, keep: int) -> bool:
    """Whether ``top`` or anything below it comes from a kept (base) layer."""
    node = tree.get(top)
    if node is not None and node.kind != "dir":
        return node.layer < keep
    start = top + "/"
    return any(n.layer < keep and p.startswith(start) for p, n in tree.nodes.items())


def _dev_prefixes(
    tree: Tree,
    keep: int,
    locks: Mapping[str, Sequence[str]],
    contents: Mapping[str, bytes],
    skipped: list[Skipped],
) -> list[tuple[str, str, str]]:
    dirs: list[str] = []
    below: list[str] = []
    for project, paths in locks.items():
        texts = [contents[p].decode("utf-8", "replace") for p in paths if p in contents]
        for key in npm.dev_packages(texts):
            top = f"{project}/{key}" if project else key
            node = tree.get(top)
            if node is None or node.kind != "dir":
                continue
            (below if _from_below(tree, top, keep) else dirs).append(top)
    if below:
        skipped.append(
            Skipped(
                DEV_DEPS,
                f"{len(below)} devDependencies are in the base image layers and stay "
                f"(/{below[0]}, ...)",
            )
        )
    out = [(DEV_DEPS, d, d) for d in dirs]
    out += [(DEV_DEPS, link, top) for link, top in npm.bin_links(tree, dirs).items()]
    return sorted(out, key=lambda r: r[1])


def _tool_prefixes(tree: Tree) -> list[tuple[str, str, str]]:
    groups: set[str] = set()
    for path, node in tree.nodes.items():
        group = npm.tool_group(path, node.link)
        if group is not None and group in tree.nodes:
            groups.add(group)
    return [(NPM_TOOLS, g, g) for g in sorted(groups)]
