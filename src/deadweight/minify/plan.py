"""``plan_minify``: every path of an image's file system kept (with why) or removed.

What is kept, united (see the README's "How minify decides what to keep"):

1. the command lines the container starts (``analysis.entrypoint``): programs, their
   interpreters, the scripts they run, files named on the command line; the app directory
   (``WORKDIR`` unless it is a system directory) without its ``node_modules``; for a Python
   interpreter its standard library and ``PYTHONPATH``;
2. what the evidence shows was opened or executed;
3. essentials (``minify.essentials``) and what the user names (``--keep``);
4. the ELF closure of every kept ELF file (``minify.elf``);
5. the package closure (``minify.packages``): with ``packages="touched"`` every package
   owning a kept file (other than an essential or a directory) is kept whole, with its
   dependencies; so are the app's production npm dependencies and the Python
   distributions on the interpreter's path. With ``"none"`` only used files are kept,
   unless there is no evidence at all (``--static``), where the dependency trees stay;
6. structure: every symlink crossed on the way to a kept path or resolving to one, and
   every directory above a kept path.

Steps 4 and 5 repeat until nothing new is kept. Everything is decided in memory from the
layer deltas and one :func:`minify.scan.scan` pass over the layers.
"""

from __future__ import annotations

import fnmatch
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from deadweight.errors import UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.resolve import Resolver
from deadweight.filetree.tree import Tree, stack
from deadweight.image import Image
from deadweight.minify.elf import Loader, conf_dirs
from deadweight.minify.essentials import documentation, essential_paths, home_of, languages
from deadweight.minify.evidence import Evidence, Reason
from deadweight.minify.launch import interpreter, static_closure
from deadweight.minify.packages import PackageIndex, index
from deadweight.minify.scan import Scan, scan
from deadweight.mutate.squash import layer_deltas

Packages = Literal["touched", "none"]
PACKAGES: tuple[Packages, ...] = ("touched", "none")
# Reasons whose files make their package "used"; essentials and structure do not.
_USES = frozenset({Reason.ENTRYPOINT, Reason.ELF, Reason.TRACED, Reason.USER})


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
class Context:
    """What planning reads from the image once; a repair (``widen``) reuses it."""

    image_id: str
    config: Mapping[str, Any]
    tree: Tree
    resolver: Resolver
    scan: Scan
    packages: PackageIndex
    loader: Loader
    paths: tuple[str, ...]  # every tree path, sorted: subtrees are ranges
    deltas: tuple[LayerDelta, ...] = ()

    def below(self, top: str) -> Sequence[str]:
        """Every tree path strictly below directory ``top``."""
        lo = bisect_left(self.paths, top + "/")
        hi = bisect_left(self.paths, top + "0")  # "0" follows "/" in code point order
        return self.paths[lo:hi]


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
    progress: Callable[..., None] | None = None,
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
    if progress is not None:
        progress("stack", 0, 1)
    tree = stack(deltas)
    found = scan(image, tree, progress=progress)
    ctx = context(image, tree, found, tuple(deltas))
    if progress is not None:
        progress("decide", 0, 1)
    return _decide(ctx, evidence, packages, tuple(keep), tuple(tuple(r) for r in runs), frozenset())


def context(image: Image, tree: Tree, found: Scan, deltas: tuple[LayerDelta, ...] = ()) -> Context:
    config = image.config.document.get("config")
    config = config if isinstance(config, dict) else {}
    resolver = Resolver(tree)
    paths = tuple(sorted(tree.nodes))
    env = {}
    for item in config.get("Env") or ():
        key, _, value = str(item).partition("=")
        env[key] = value
    library_path = tuple(d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d)
    loader = Loader(
        resolver,
        found.elf,
        conf=conf_dirs(found.texts, paths),
        library_path=library_path,
    )
    pkgs = index(tree, resolver, found.texts)
    return Context(
        image.id, MappingProxyType(config), tree, resolver, found, pkgs, loader, paths, deltas
    )


def _owner(ctx: Context, path: str) -> str | None:
    hit = ctx.resolver.resolve(path)
    return ctx.packages.owner.get(hit.path) if hit.node is not None else None


class Keeper:
    """The keep set while it grows; ``fresh`` holds what was added and not yet followed."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.kept: dict[str, set[Reason]] = {}
        self.fresh: list[str] = []
        self.missing: dict[str, None] = {}
        self.deps_whole = True  # dependency trees (npm, Python) kept whole
        self.traced = False  # there is evidence (not --static)
        self.langs: frozenset[str] = frozenset()  # languages of LANG/LC_ALL/LANGUAGE

    def keep_package(self, key: str) -> None:
        """Keep the files of package ``key``, without its documentation (see
        :func:`documentation`): kept only when traced or kept for another reason."""
        for path in self.ctx.packages.packages[key].files:
            if not documentation(path, self.langs):
                self.keep(path, Reason.PACKAGE)

    def add(self, path: str, reason: Reason) -> None:
        reasons = self.kept.get(path)
        if reasons is None:
            self.kept[path] = {reason}
            self.fresh.append(path)
        else:
            reasons.add(reason)

    def keep(self, path: str, reason: Reason, *, whole: bool = False) -> bool:
        """Keep ``path`` (followed through symlinks, which are kept too) and, with
        ``whole``, everything below it. False when nothing is there."""
        hit = self.ctx.resolver.resolve(path)
        for link in hit.links:
            self.add(link, Reason.STRUCTURE)
        if hit.node is None:
            return False
        self.add(hit.path, reason)
        if whole and hit.node.kind == "dir":
            for below in self.ctx.below(hit.path):
                self.add(below, reason)
        return True


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
            k.keep(path, Reason.TRACED)
    config = ctx.config
    for path, whole in essential_paths(config, ctx.paths):
        k.keep(path, Reason.ESSENTIAL, whole=whole)
    home = home_of(str(config.get("User") or ""), ctx.scan.texts.get("etc/passwd"))
    if home:
        k.keep(home, Reason.ESSENTIAL)
    unmatched = _user_keeps(k, keep)
    for key in ctx.packages.closure(widened):
        k.keep_package(key)
    _follow(k, packages == "touched")
    _structure(k)
    return _result(ctx, k, evidence, packages, keep, runs, widened, unmatched)


def _user_keeps(k: Keeper, keep: Sequence[str]) -> tuple[str, ...]:
    unmatched: list[str] = []
    absolute: list[str] | None = None
    for raw in keep:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        if any(c in entry for c in "*?["):
            if absolute is None:
                absolute = ["/" + p for p in k.ctx.paths]
            hits = fnmatch.filter(absolute, "/" + entry.lstrip("/"))
            for hit in hits:
                k.keep(hit, Reason.USER, whole=True)
            if not hits:
                unmatched.append(entry)
        elif not k.keep(entry, Reason.USER, whole=True):
            unmatched.append(entry)
    return tuple(unmatched)


def _follow(k: Keeper, touched: bool) -> None:
    """Symlink targets, ELF closures and package closures of what was kept, until nothing
    new is kept."""
    ctx = k.ctx
    closed: set[str] = set()
    while k.fresh:
        batch, k.fresh = k.fresh, []
        elf_roots = []
        used: set[str] = set()
        for path in batch:
            node = ctx.tree.nodes[path]
            reasons = k.kept[path]
            if node.kind == "symlink":
                k.keep(path, next(iter(sorted(reasons, key=lambda r: r.value))))
            if path in ctx.scan.elf and path not in closed:
                elf_roots.append(path)
            if node.kind != "dir":
                interpreter(k, path)
            if touched and reasons & _USES:
                owner = ctx.packages.owner.get(path)
                if owner is not None:
                    used.add(owner)
        closed.update(elf_roots)
        for need in ctx.loader.closure(elf_roots):
            if not need.path:
                k.missing[f"/{need.owner}: {need.name}"] = None
                continue
            for link in need.links:
                k.add(link, Reason.STRUCTURE)
            k.add(need.path, Reason.ELF)
        for key in ctx.packages.closure(used):
            k.keep_package(key)
        if not k.fresh:
            _bytecode(k)


def _bytecode(k: Keeper) -> None:
    """The compiled ``__pycache__/NAME.*.pyc`` of every kept ``NAME.py`` (Python would
    only compile it again, slower, or fail to on a read-only file system)."""
    ctx = k.ctx
    for path in [p for p in k.kept if p.endswith(".py")]:
        up, _, name = path.rpartition("/")
        cache = f"{up}/__pycache__" if up else "__pycache__"
        for pyc in ctx.below(cache):
            if pyc.rpartition("/")[2].startswith(name[:-3] + ".") and pyc.endswith(".pyc"):
                k.add(pyc, next(iter(sorted(k.kept[path], key=lambda r: r.value))))


def _structure(k: Keeper) -> None:
    """Every directory above a kept path, then the symlinks resolving to kept paths (a
    link to a directory that only leads to kept files counts: ``/bin -> usr/bin``), then
    the directories above those links."""
    ctx = k.ctx
    _parents(k)
    for path, node in ctx.tree.nodes.items():
        if node.kind == "symlink" and path not in k.kept:
            hit = ctx.resolver.resolve(path)
            if hit.node is not None and hit.path in k.kept:
                k.add(path, Reason.STRUCTURE)
                for link in hit.links:
                    k.add(link, Reason.STRUCTURE)
    _parents(k)


def _parents(k: Keeper) -> None:
    for path in list(k.kept):
        up = path.rpartition("/")[0]
        while up and up not in k.kept:
            k.add(up, Reason.STRUCTURE)
            up = up.rpartition("/")[0]


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
        context=ctx,
    )
