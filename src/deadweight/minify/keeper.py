"""The keep set while it grows: what was kept and why, and the closures that follow each
new path (symlink targets, ELF libraries, packages, compiled bytecode) until nothing new is
kept, then the structure (links and directories) that leads to it."""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_left
from collections.abc import Sequence

from deadweight.minify.context import Context
from deadweight.minify.essentials import documentation, test_suite
from deadweight.minify.evidence import Reason
from deadweight.minify.launch import interpreter

# Reasons whose files make their package "used"; essentials and structure do not.
USES = frozenset({Reason.ENTRYPOINT, Reason.ELF, Reason.TRACED, Reason.USER, Reason.COPIED})


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
        """Keep the files of package ``key``, without its documentation and a Python
        distribution's test suite (see :func:`documentation`, :func:`test_suite`): kept
        only when traced or kept for another reason."""
        for path in self.ctx.packages.packages[key].files:
            if not documentation(path, self.langs) and not test_suite(path):
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


def user_keeps(k: Keeper, keep: Sequence[str]) -> tuple[str, ...]:
    """Keep what ``--keep`` and ``--keep-file`` name: a path, or a glob matched against
    every path (``*`` crosses ``/``). A path that exists is kept as it is written even when
    its name holds ``*``, ``?`` or ``[`` (``--write-keep-file`` writes such names); a glob
    is compared only with the paths under its literal prefix, each distinct glob once."""
    unmatched: list[str] = []
    globbed: set[str] = set()
    for raw in keep:
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        magic = [i for i in map(entry.find, "*?[") if i >= 0]
        if magic and k.ctx.resolver.resolve(entry).node is None:
            if entry in globbed:
                continue
            globbed.add(entry)
            hits = _glob(k.ctx.paths, "/" + entry.lstrip("/"))
            for hit in hits:
                k.keep(hit, Reason.USER, whole=True)
            if not hits:
                unmatched.append(entry)
        elif not k.keep(entry, Reason.USER, whole=True):
            unmatched.append(entry)
    return tuple(unmatched)


def _glob(paths: Sequence[str], pattern: str) -> list[str]:
    """The absolute forms of ``paths`` (sorted, relative) that ``pattern`` (absolute)
    matches, as ``fnmatch`` would; only those under its literal prefix are compared."""
    cut = min(i for i in map(pattern.find, "*?[") if i >= 0)
    prefix = pattern[1:cut]  # the paths have no leading "/"
    match = re.compile(fnmatch.translate(pattern)).match
    hits: list[str] = []
    for i in range(bisect_left(paths, prefix), len(paths)):
        path = paths[i]
        if not path.startswith(prefix):
            break
        if match("/" + path):
            hits.append("/" + path)
    return hits


def follow(k: Keeper, touched: bool) -> None:
    """Symlink targets, ELF closures and package closures of what was kept, until nothing
    new is kept."""
    ctx = k.ctx
    closed: set[str] = set()
    unfound: dict[tuple[str, str], None] = {}
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
            if touched and reasons & USES:
                owner = ctx.packages.owner.get(path)
                if owner is not None:
                    used.add(owner)
        closed.update(elf_roots)
        for need in ctx.loader.closure(elf_roots):
            if not need.path:
                unfound[(need.owner, need.name)] = None
                continue
            for link in need.links:
                k.add(link, Reason.STRUCTURE)
            k.add(need.path, Reason.ELF)
        for key in ctx.packages.closure(used):
            k.keep_package(key)
        if not k.fresh:
            _bytecode(k)
    _unloaded(k, unfound)


def _unloaded(k: Keeper, unfound: dict[tuple[str, str], None]) -> None:
    """Report what the loader's search did not find, but for a library of that name the
    process has loaded already: ld.so takes a loaded object whose name matches before it
    searches (the JVM's ``libjava.so`` needs ``libjvm.so``, which the launcher opened
    from ``lib/server/`` with ``dlopen``; a kept file of that name, traced or kept for
    another reason, is that object)."""
    if not unfound:
        return
    loaded = {p.rpartition("/")[2] for p in k.kept if k.ctx.scan.elf.magic(p)}
    for owner, name in unfound:
        if name not in loaded:
            k.missing[f"/{owner}: {name}"] = None


def _bytecode(k: Keeper) -> None:
    """The compiled ``__pycache__/NAME.*.pyc`` of every kept ``NAME.py`` (Python would
    only compile it again, slower, or fail to on a read-only file system), and the
    ``NAME.py`` of every kept ``__pycache__/NAME.*.pyc``: an import whose cache is valid
    opens the ``.pyc`` alone (the source is only stat'd, which no trace sees), and a
    ``.pyc`` in ``__pycache__`` is never imported without its source."""
    ctx = k.ctx
    for path in [p for p in k.kept if p.endswith(".pyc")]:
        cache, _, name = path.rpartition("/")
        up, _, folder = cache.rpartition("/")
        if folder != "__pycache__":
            continue
        source = f"{up}/{name.partition('.')[0]}.py" if up else f"{name.partition('.')[0]}.py"
        if source not in k.kept and source in ctx.tree.nodes:
            k.add(source, next(iter(sorted(k.kept[path], key=lambda r: r.value))))
    for path in [p for p in k.kept if p.endswith(".py")]:
        up, _, name = path.rpartition("/")
        cache = f"{up}/__pycache__" if up else "__pycache__"
        for pyc in ctx.below(cache):
            if pyc.rpartition("/")[2].startswith(name[:-3] + ".") and pyc.endswith(".pyc"):
                k.add(pyc, next(iter(sorted(k.kept[path], key=lambda r: r.value))))


def structure(k: Keeper) -> None:
    """Every empty directory of the image and every directory above a kept path, then the
    symlinks resolving to kept paths (a link to a directory that only leads to kept files
    counts: ``/bin -> usr/bin``), then the directories above those links.

    An empty directory is where an app makes files at run time (``/var/lib/nginx``, where
    nginx makes ``body/``; an uploads folder a Dockerfile made), which a trace of opens
    never sees: without it the app fails to start. It costs a tar header."""
    ctx = k.ctx
    nodes = ctx.tree.nodes
    parents = {path.rpartition("/")[0] for path in nodes}
    for path, node in nodes.items():
        if node.kind == "dir" and path not in parents and path not in k.kept:
            k.add(path, Reason.STRUCTURE)
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
