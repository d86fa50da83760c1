"""``plan_minify``: every path of an image's file system kept (with why) or removed.

What is kept, united (see the README's "How minify decides what to keep"):

1. the command lines the container starts (``analysis.entrypoint``): programs, their
   interpreters, the scripts they run, files named on the command line; the app directory
   (``WORKDIR`` unless it is a system directory) without its ``node_modules`` and venvs;
   for a Python interpreter its standard library and ``PYTHONPATH`` (``minify.launch``);
2. what the evidence shows was opened or executed;
3. essentials (``minify.essentials``) and what the user names (``--keep``);
4. the ELF closure of every kept ELF file (``minify.elf``);
5. the package closure (``minify.packages``, ``minify.keeper``): with
   ``packages="touched"`` every package owning a kept file (other than an essential or a
   directory) is kept, without its documentation (nor a Python distribution's test
   suite), with its dependencies; so are the app's
   production npm tree and the Python distributions on the interpreter's path (not the
   installers, unless used). With ``"none"`` only used files are kept, unless there is no
   evidence at all (``--static``), where the dependency trees stay;
6. structure: every empty directory of the image (where an app makes files at run time,
   unseen by a trace), every symlink crossed on the way to a kept path or resolving to
   one, and every directory above a kept path.

Steps 4 and 5 repeat until nothing new is kept. Everything is decided in memory from the
layer deltas and one :func:`minify.scan.scan` pass over the layers.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from deadweight.errors import UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.tree import stack
from deadweight.image import Image
from deadweight.minify.context import Context, context
from deadweight.minify.database import Rewrite, keep_databases
from deadweight.minify.essentials import essential_paths, home_of, languages
from deadweight.minify.evidence import Evidence, Reason
from deadweight.minify.keeper import Keeper, follow, structure, user_keeps
from deadweight.minify.launch import copied, static_closure
from deadweight.minify.scan import scan
from deadweight.mutate.squashing import layer_deltas
from deadweight.progress import Progress

Packages = Literal["touched", "none"]
PACKAGES: tuple[Packages, ...] = ("touched", "none")


@dataclass(frozen=True, slots=True)
class Removed:
    """A removed path (absolute), the content bytes its removal frees (an inode's bytes are
    counted at its first removed name, and only when no kept name shares it), and the
    package that installed it."""

    path: str
    size: int
    package: str | None = None
    manager: str | None = None


@dataclass(frozen=True, slots=True)
class MinifyPlan:
    """Every path of the final file system is in ``kept`` (with its reasons) or
    ``removed``. Paths are absolute. Bytes are file-content bytes of the merged tree."""

    kept: Mapping[str, tuple[Reason, ...]]
    removed: tuple[Removed, ...]
    before_bytes: int
    after_bytes: int
    removed_by_package: tuple[tuple[str, str, int], ...]  # (manager, package, bytes)
    removed_by_top_dir: tuple[tuple[str, int], ...]
    static_only: bool
    packages: Packages = "touched"
    missing: tuple[str, ...] = ()  # what kept files ask for that the image lacks
    unmatched_keeps: tuple[str, ...] = ()  # --keep entries that name nothing
    evidence: Evidence | None = None
    keep: tuple[str, ...] = ()
    runs: tuple[tuple[str, ...], ...] = ()
    widened: frozenset[str] = frozenset()  # packages the repair loop kept whole
    databases: tuple[Rewrite, ...] = ()  # package databases rewritten to list what remains
    context: Context | None = field(default=None, repr=False, compare=False)

    def widen(self, evidence: Evidence) -> MinifyPlan:
        """The repair loop's plan: also keep what ``evidence`` touched and the whole
        packages (with dependencies) owning it, even with ``packages="none"``."""
        ctx = self.context
        if ctx is None:
            raise UsageError("this plan was not made by plan_minify; it cannot be widened")
        touched = {p for p in (_owner(ctx, path) for path in evidence.paths()) if p is not None}
        merged = evidence if self.evidence is None else self.evidence.union(evidence)
        return _decide(ctx, merged, self.packages, self.keep, self.runs, self.widened | touched)

    def added_by(self, other: MinifyPlan) -> tuple[str, ...]:
        """Paths ``other`` keeps that this plan does not, sorted."""
        return tuple(sorted(p for p in other.kept if p not in self.kept))

    def keep_list(self) -> tuple[str, ...]:
        """What ``--write-keep-file`` writes: every kept path that is not a directory, and
        kept directories with nothing below them (naming a directory keeps all below it,
        so directories that only lead to kept paths are left out)."""
        ctx = self.context
        out = []
        for path in sorted(self.kept):
            node = ctx.tree.get(path[1:]) if ctx is not None else None
            if node is not None and node.kind == "dir" and ctx is not None and ctx.below(path[1:]):
                continue
            out.append(path)
        return tuple(out)


def plan_minify(
    image: Image,
    *,
    evidence: Evidence | None,
    packages: Packages = "touched",
    keep: Sequence[str] = (),
    runs: Sequence[Sequence[str]] = (),
    deltas: Sequence[LayerDelta] | None = None,
    progress: Progress | None = None,
) -> MinifyPlan:
    """Decide what minifying ``image`` keeps. ``evidence`` None is ``--static``: nothing
    was traced. ``keep`` holds paths or fnmatch patterns (``*`` also matches ``/``);
    ``runs`` extra command lines (each replaces ``Cmd``, as ``docker run IMAGE CMD``)."""
    if packages not in PACKAGES:
        raise UsageError(f"unknown --packages value {packages!r} (use touched or none)")
    if deltas is None:
        deltas = layer_deltas(image)
    if len(deltas) != len(image.layers):
        raise UsageError(f"{len(deltas)} layer deltas for an image with {len(image.layers)} layers")
    tree = stack(deltas)
    found = scan(image, tree, progress=progress)  # the layers it reads: the long part
    ctx = context(image, tree, found, tuple(deltas))
    return _decide(ctx, evidence, packages, tuple(keep), tuple(tuple(r) for r in runs), frozenset())


def _created(k: Keeper, path: str) -> None:
    """A traced path the image does not hold was created by the container: the directory
    it was created in (the nearest one the image holds) is kept, with its mode and owner,
    or the minified container could not write there (``mkdir -p`` and ``stat`` leave no
    trace of their own; a non-root user's directory under a root-owned one is refused)."""
    up = posixpath.dirname(path)
    while up not in ("/", ""):
        hit = k.ctx.resolver.resolve(up)
        if hit.node is not None:
            if hit.node.kind == "dir":
                k.keep(up, Reason.TRACED)
            return
        up = posixpath.dirname(up)


def _owner(ctx: Context, path: str) -> str | None:
    hit = ctx.resolver.resolve(path)
    return ctx.packages.owner.get(hit.path) if hit.node is not None else None


def _decide(
    ctx: Context,
    evidence: Evidence | None,
    packages: Packages,
    keep: tuple[str, ...],
    runs: tuple[tuple[str, ...], ...],
    widened: frozenset[str],
) -> MinifyPlan:
    k = Keeper(ctx)
    deps_whole = packages == "touched" or evidence is None
    k.deps_whole, k.traced = deps_whole, evidence is not None
    k.langs = languages(ctx.config)
    static_closure(k, runs, deps_whole)
    if evidence is not None:
        for path in sorted(evidence.paths()):
            if not k.keep(path, Reason.TRACED):
                _created(k, path)
    config = ctx.config
    for path, whole in essential_paths(config, ctx.paths):
        k.keep(path, Reason.ESSENTIAL, whole=whole)
    home = home_of(str(config.get("User") or ""), ctx.scan.texts.get("etc/passwd"))
    if home:
        k.keep(home, Reason.ESSENTIAL)
    unmatched = user_keeps(k, keep)
    copied(k)
    for key in ctx.packages.closure(widened):
        k.keep_package(key)
    follow(k, packages == "touched")
    databases = keep_databases(k)
    structure(k)
    return _result(ctx, k, evidence, packages, keep, runs, widened, unmatched, databases)


def _top_dir(path: str) -> str:
    parts = path.split("/")
    return "/" + "/".join(parts[:2]) if len(parts) > 2 else "/" + parts[0]


def _result(
    ctx: Context,
    k: Keeper,
    evidence: Evidence | None,
    packages: Packages,
    keep: tuple[str, ...],
    runs: tuple[tuple[str, ...], ...],
    widened: frozenset[str],
    unmatched: tuple[str, ...],
    databases: tuple[Rewrite, ...] = (),
) -> MinifyPlan:
    tree = ctx.tree
    kept_inodes = {tree.nodes[p].inode for p in k.kept if tree.nodes[p].inode >= 0}
    files = {
        n.inode for n in tree.nodes.values() if n.kind in ("file", "hardlink") and n.inode >= 0
    }
    before = sum(tree.inodes[i].bytes for i in files)
    after = sum(tree.inodes[i].bytes for i in files & kept_inodes)
    counted: set[int] = set()
    removed: list[Removed] = []
    by_package: dict[tuple[str, str], int] = {}
    by_top: dict[str, int] = {}
    for path in ctx.paths:
        if path in k.kept:
            continue
        node = tree.nodes[path]
        size = 0
        if node.inode in files and node.inode not in kept_inodes and node.inode not in counted:
            counted.add(node.inode)
            size = tree.inodes[node.inode].bytes
        owner = ctx.packages.owner.get(path)
        pkg = ctx.packages.packages[owner] if owner is not None else None
        removed.append(
            Removed("/" + path, size, pkg.name if pkg else None, pkg.manager if pkg else None)
        )
        if pkg is not None:
            by_package[(pkg.manager, pkg.name)] = by_package.get((pkg.manager, pkg.name), 0) + size
        top = _top_dir(path)
        by_top[top] = by_top.get(top, 0) + size
    kept = {"/" + p: tuple(sorted(r, key=lambda r: r.value)) for p, r in sorted(k.kept.items())}
    return MinifyPlan(
        kept=MappingProxyType(kept),
        removed=tuple(removed),
        before_bytes=before,
        after_bytes=after,
        removed_by_package=tuple(
            sorted(
                ((m, n, b) for (m, n), b in by_package.items() if b),
                key=lambda r: (-r[2], r[:2]),
            )
        ),
        removed_by_top_dir=tuple(sorted(by_top.items(), key=lambda r: (-r[1], r[0]))),
        static_only=evidence is None,
        packages=packages,
        missing=tuple(k.missing),
        unmatched_keeps=unmatched,
        evidence=evidence,
        keep=keep,
        runs=runs,
        widened=widened,
        databases=databases,
        context=ctx,
    )
