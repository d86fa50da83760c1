"""``plan`` → ``apply``: what optimizing an image would remove, then the new image.

A plan is computed from the layer deltas alone (pure): squash the image's own layers
above its base (``squash="own"``; base layers stay as they are, so pulls keep sharing
them) or every layer (``"all"``), drop package-manager caches and temp files from the
squashed layers (categories from ``analysis.bloat``), and stamp a reproducible time.
The moderate level also prunes npm devDependencies and npm itself (``optimize.npm``),
removes tests, docs, examples and source maps of packages (``package-extras``) and runs
the image as a non-root user (``optimize.user``). A step that cannot be done safely is not
done; the plan says why (``Plan.skipped``). ``apply`` writes the one new layer (see
``mutate.squash``) and checks that it has exactly the planned size.

One optimize computes each thing once (issue 11): ``plan`` opens no layer (it works on the
deltas the first read made, the few small files it reads included, see ``optimize.capture``),
stacks the deltas once and merges them once; the plan carries that stacking and merge, and
``apply`` writes the layer from them, streaming each merged layer once. At the safe level,
layers that hide nothing of each other are merged without a tree (``mutate._disjoint``,
issue 16): the plan then carries the merge alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from deadweight.analysis import packages
from deadweight.analysis.bloat import categorise
from deadweight.compare.base import base_layers
from deadweight.errors import CorruptImage, UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.tree import Tree
from deadweight.image import Image
from deadweight.mutate import (
    Edit,
    Merge,
    Ordered,
    Stacking,
    disjoint_merge,
    merge,
    squash_merge,
    stacking,
    with_config,
)
from deadweight.optimize.moderate import (
    DEV_DEPS,
    NON_ROOT,
    NPM_TOOLS,
    ConfigValue,
    Moderate,
    Skipped,
    moderate,
)
from deadweight.reading import paused_gc, read_deltas

Level = Literal["safe", "moderate"]
SquashMode = Literal["own", "all"]
LEVELS: tuple[Level, ...] = ("safe", "moderate")

# What each level removes from the squashed layers: analysis.bloat category names.
SAFE_CATEGORIES = (
    "apt-cache",
    "apk-cache",
    "pip-cache",
    "poetry-cache",
    "uv-cache",
    "npm-cache",
    "yarn-cache",
    "pnpm-store",
    "temp",
)
MODERATE_CATEGORIES = (*SAFE_CATEGORIES, "docs", "man", "info", "locales", "package-extras")
CATEGORIES: dict[Level, tuple[str, ...]] = {
    "safe": SAFE_CATEGORIES,
    "moderate": MODERATE_CATEGORIES,
}
# Every step --skip can switch off, in the order a plan lists them.
STEP_NAMES = (*MODERATE_CATEGORIES[:-1], DEV_DEPS, "package-extras", NPM_TOOLS, NON_ROOT)
TITLES = {
    "squash": "squash layers (drop the bytes later layers hide)",
    "apt-cache": "remove apt package lists and downloaded archives",
    "apk-cache": "remove the apk cache",
    "pip-cache": "remove the pip cache",
    "poetry-cache": "remove the poetry cache",
    "uv-cache": "remove the uv cache",
    "npm-cache": "remove the npm cache",
    "yarn-cache": "remove the yarn cache",
    "pnpm-store": "remove the pnpm store (files node_modules links to stay)",
    "temp": "remove temporary files (/tmp, /var/tmp)",
    "docs": "remove documentation (/usr/share/doc)",
    "man": "remove manual pages",
    "info": "remove info pages",
    "locales": "remove locales",
    "package-extras": "remove tests, docs, examples and source maps of packages",
    DEV_DEPS: "prune npm devDependencies (by the lockfile)",
    NPM_TOOLS: "remove npm, yarn and corepack; run node directly",
    NON_ROOT: "run as a non-root user",
    "epoch": "reproducible timestamps",
}


@dataclass(frozen=True, slots=True)
class Removed:
    """``bytes`` freed by removing ``files`` non-directory paths under ``path``."""

    path: str
    bytes: int
    files: int


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a plan: what it removes and the bytes it saves."""

    name: str
    title: str
    bytes: int
    removed: tuple[Removed, ...] = ()  # grouped, bytes descending then path
    paths: tuple[str, ...] = ()  # every removed path, in path order (for --explain)
    note: str = ""
    in_base: int = 0  # bytes of the same kind the base layers hold, which stay (squash own)


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``apply`` will do to the image ``image_id``.

    ``prefixes`` are (step, path, group) paths removed with everything below them (npm
    packages, npm itself); ``edit`` the files and owners the new layer gets; ``config``
    the runtime config changes (None removes a key); ``layer_after`` the new layer's size.
    ``stacking`` and ``merged`` are the deltas stacked and merged for the plan, which
    ``apply`` writes (not compared, not shown).
    """

    image_id: str
    level: Level
    squash: SquashMode
    keep_bottom: int
    layers: int
    categories: tuple[str, ...]
    epoch: int | None
    steps: tuple[Step, ...]
    size_before: int
    base_detected: bool
    skip: tuple[str, ...] = ()
    prefixes: tuple[tuple[str, str, str], ...] = ()
    edit: Edit = field(default_factory=Edit)
    config: tuple[tuple[str, ConfigValue], ...] = ()
    skipped: tuple[Skipped, ...] = ()
    layer_after: int = -1
    stacking: Stacking | None = field(default=None, compare=False, repr=False)
    merged: Merge | None = field(default=None, compare=False, repr=False)

    @property
    def bytes_saved(self) -> int:
        return sum(s.bytes for s in self.steps)

    @property
    def size_after(self) -> int:
        return self.size_before - self.bytes_saved

    @property
    def changes(self) -> bool:
        return self.keep_bottom < self.layers

    def drop(self) -> Callable[[str], bool] | None:
        if not self.categories and not self.prefixes:
            return None
        classify = classifier(self.categories, self.prefixes)
        return lambda path: classify(path) is not None

    @property
    def removal_steps(self) -> frozenset[str]:
        """Names of the steps whose bytes are paths dropped from the new layer."""
        return frozenset((*self.categories, *(name for name, _, _ in self.prefixes)))

    @property
    def created_by(self) -> str:
        epoch = f" --epoch {self.epoch}" if self.epoch is not None else ""
        skip = "".join(f" --skip {name}" for name in self.skip)
        return f"deadweight optimize --level {self.level} --squash {self.squash}{epoch}{skip}"


def dropper(categories: Sequence[str]) -> Callable[[str], bool]:
    """Whether a path belongs to one of ``categories`` (by ``analysis.bloat`` rules)."""
    classify = classifier(categories, ())
    return lambda path: classify(path) is not None


def classifier(
    categories: Sequence[str], prefixes: Sequence[tuple[str, str, str]]
) -> Callable[[str], tuple[str, str] | None]:
    """(step, group) of a path to remove: below one of ``prefixes`` (as ``analysis.bloat``
    puts npm devDependencies first), else by its ``analysis.bloat`` category."""
    wanted = frozenset(categories)
    tops = {path: (name, group) for name, path, group in prefixes}

    def classify(path: str) -> tuple[str, str] | None:
        p = path
        while tops and p:
            if p in tops:
                return tops[p]
            p = p.rpartition("/")[0]
        found = categorise(path)
        return found if found is not None and found[0] in wanted else None

    return classify


def _removal_steps(
    merged: Merge, categories: Sequence[str], prefixes: Sequence[tuple[str, str, str]]
) -> list[Step]:
    classify = classifier(categories, prefixes)
    groups: dict[str, dict[str, list[int]]] = {}
    paths: dict[str, list[str]] = {}
    for d in merged.dropped:
        found = classify(d.path)
        assert found is not None
        cat, group = found
        row = groups.setdefault(cat, {}).setdefault(group, [0, 0])
        row[0] += d.bytes
        row[1] += 1
        paths.setdefault(cat, []).append(d.path)
    steps = []
    for cat in STEP_NAMES:
        if cat not in groups:
            continue
        removed = sorted(
            (Removed(g, b, n) for g, (b, n) in groups[cat].items()),
            key=lambda r: (-r.bytes, r.path),
        )
        steps.append(
            Step(cat, TITLES[cat], sum(r.bytes for r in removed), tuple(removed), tuple(paths[cat]))
        )
    return steps


@paused_gc()  # hundreds of thousands of small acyclic objects: the collector only slows it
def plan(
    image: Image,
    *,
    level: Level = "safe",
    squash: SquashMode = "own",
    epoch: int | None = None,
    deltas: Sequence[LayerDelta] | None = None,
    keep_bottom: int | None = None,
    skip: Collection[str] = (),
) -> Plan:
    """The plan for ``image``; ``deltas`` are its layer deltas when already read.

    ``keep_bottom`` overrides the base detection (``compare.base.base_layers``). When the
    base cannot be told, every layer is squashed, and the plan says so. ``skip`` names
    steps (``STEP_NAMES``) not to do.
    """
    if level not in LEVELS:
        raise UsageError(f"unknown level {level!r} (choose from {', '.join(LEVELS)})")
    if squash not in ("own", "all"):
        raise UsageError(f"unknown squash mode {squash!r} (choose from own, all)")
    unknown = sorted(set(skip) - set(STEP_NAMES))
    if unknown:
        raise UsageError(
            f"unknown step {unknown[0]!r} to skip (choose from {', '.join(STEP_NAMES)})"
        )
    skipping = tuple(n for n in STEP_NAMES if n in skip)
    count = len(image.layers)
    if deltas is None:  # the first read: it keeps the few files moderate reads
        deltas = read_deltas(image, capture=packages.capture)
    if len(deltas) != count:
        raise CorruptImage(f"{len(deltas)} layer deltas for an image with {count} layers")
    detected = base_layers(image) if squash == "own" else 0
    keep = keep_bottom if keep_bottom is not None else detected
    keep = max(0, min(keep, count))
    categories = tuple(c for c in CATEGORIES[level] if c not in skipping)
    sizes = [d.size for d in deltas]
    steps: list[Step] = []
    extra = Moderate()
    layer_after = -1
    base_skipped: list[Skipped] = []
    stacked: Stacking | None = None
    merged: Merge | None = None
    if keep < count:
        tree: Tree | None = None
        # the safe level needs no tree where the layers hide nothing of each other
        merged = (
            disjoint_merge(deltas, keep, _predicate(categories, ())) if level == "safe" else None
        )
        below: Tree | None = None  # the kept layers' tree, when only that was stacked
        if isinstance(merged, Merge) and isinstance(merged.items, Ordered):
            kept_bytes, below = merged.items.bytes, merged.items.lower
        else:
            stacked = stacking(deltas, keep)
            tree = stacked.tree
            if level == "moderate":
                extra = moderate(image, tree, keep, skipping, stacked.lower, deltas)
            merged = merge(deltas, keep, _predicate(categories, extra.prefixes), stacked=stacked)
            kept_bytes = _squash_bytes(tree, keep)
        squashed = sum(sizes[keep:]) - kept_bytes
        note = (
            f"{count - keep} layer(s) above the {keep} base layer(s) merged into one"
            if keep
            else f"all {count} layer(s) merged into one"
        )
        if squash == "own" and not detected and keep_bottom is None:
            note += " (the base image could not be told from the history)"
        steps.append(Step("squash", TITLES["squash"], squashed, note=note))
        removals = _removal_steps(merged, categories, extra.prefixes)
        if squash == "own" and keep:
            # without a tree, the kept layers' paths are all still there: their tree serves
            base = tree if tree is not None else below
            assert base is not None
            in_base, also = _left_in_base(base, keep, categories, removals)
            base_skipped += in_base
            removals = [dataclasses.replace(s, in_base=also.get(s.name, 0)) for s in removals]
        steps.extend(_with_notes(removals, extra))
        added = _added_bytes(tree, keep, extra.edit, merged) if tree is not None else 0
        if NON_ROOT in extra.notes:
            steps.append(Step(NON_ROOT, TITLES[NON_ROOT], -added, note=extra.notes[NON_ROOT]))
        layer_after = kept_bytes - merged.dropped_bytes + added
    if epoch is not None and keep < count:
        steps.append(Step("epoch", TITLES["epoch"], 0, note=f"timestamps set to {epoch}"))
    return Plan(
        image_id=image.id,
        level=level,
        squash=squash,
        keep_bottom=keep,
        layers=count,
        categories=categories if keep < count else (),
        epoch=epoch,
        steps=tuple(steps),
        size_before=sum(sizes),
        base_detected=bool(detected),
        skip=skipping,
        prefixes=extra.prefixes,
        edit=extra.edit,
        config=extra.config,
        skipped=(*extra.skipped, *base_skipped),
        layer_after=layer_after,
        stacking=stacked,
        merged=merged,
    )


def _predicate(
    categories: Sequence[str], prefixes: Sequence[tuple[str, str, str]]
) -> Callable[[str], bool]:
    classify = classifier(categories, prefixes)
    return lambda path: classify(path) is not None


def _with_notes(steps: list[Step], extra: Moderate) -> list[Step]:
    out = [dataclasses.replace(s, note=extra.notes.get(s.name, s.note)) for s in steps]
    if NPM_TOOLS in extra.notes and not any(s.name == NPM_TOOLS for s in out):
        # nothing of npm removed here: the step is the command rewrite alone
        out.append(Step(NPM_TOOLS, "run node directly", 0, note=extra.notes[NPM_TOOLS]))
    return out


def _left_in_base(
    tree: Tree, keep: int, categories: Sequence[str], steps: Sequence[Step]
) -> tuple[list[Skipped], dict[str, int]]:
    """Bytes of the level's categories that only the base layers hold: squashing our own
    layers cannot drop them, ``--squash all`` can. A category with no step of its own
    becomes a not-done entry; one with a step gets the figure as a note."""
    wanted = frozenset(categories)
    found: dict[str, int] = {}
    counted: set[int] = set()
    for path, node in tree.nodes.items():
        if node.layer >= keep or node.kind == "dir":
            continue
        cat = categorise(path)
        if cat is None or cat[0] not in wanted:
            continue
        size = node.size
        if node.inode >= 0:
            if node.inode in counted:
                continue
            counted.add(node.inode)
            size = tree.inodes[node.inode].bytes
        found[cat[0]] = found.get(cat[0], 0) + size
    done = {s.name for s in steps}
    skipped = [
        Skipped(cat, "in the base image layers (--squash all removes them)", found[cat])
        for cat in categories
        if found.get(cat, 0) > 0 and cat not in done
    ]
    return skipped, {c: n for c, n in found.items() if n > 0 and c in done}


def _added_bytes(tree: Tree, keep: int, edit: Edit, merged: Merge) -> int:
    """Bytes the new layer holds because of ``edit``: the files it writes, less the bytes
    of the versions it replaces there."""
    dropped = {d.path for d in merged.dropped}
    total = 0
    for f in edit.files:
        total += len(f.data)
        old = tree.get(f.path)
        if old is not None and old.layer >= keep and old.path not in dropped:
            total -= tree.inodes[old.inode].bytes
    return total


def _squash_bytes(tree: Tree, keep: int) -> int:
    """Docker's size of the layer squashing layers ``keep..`` would write, dropping
    nothing: each inode written there and no longer held by a kept layer once, and the
    targets of symlinks written there (``mutate.merge`` links the rest).

    Only an inode a hardlink names has more than one name, or a name below ``keep``: the
    sets of inodes are of those alone (issue 16: a set of every inode of a million)."""
    nodes = tree.nodes.values()
    linked = {n.inode for n in nodes if n.kind == "hardlink" and n.inode >= 0}
    below: set[int] = set()
    if linked:
        for node in nodes:
            if node.layer < keep and node.inode in linked and node.kind in ("file", "hardlink"):
                below.add(node.inode)
    counted: set[int] = set()
    total = 0
    for node in nodes:
        if node.layer < keep:
            continue
        kind = node.kind
        if (kind == "file" or kind == "hardlink") and node.inode >= 0:
            inode = node.inode
            if inode in linked:
                if inode in below or inode in counted:
                    continue
                counted.add(inode)
            total += node.size
        elif kind == "symlink":
            total += len(node.link.encode("utf-8", "surrogateescape"))
    return total


@paused_gc()
def apply(image: Image, plan_: Plan, *, deltas: Sequence[LayerDelta] | None = None) -> Image:
    """The optimized image, written from the plan's merge (``deltas`` only serve a plan
    that carries none). Refuses a plan made for another image, and a new layer that is not
    what the plan said (other bytes dropped, another size). The new layer's size is known
    (``Layer.size``): it was counted as the layer was written."""
    if plan_.image_id != image.id:
        raise UsageError(f"the plan was made for {plan_.image_id[:19]}, not {image.id[:19]}")
    if not plan_.changes:
        return image
    done = squash_merge(
        image,
        plan_.keep_bottom,
        drop=plan_.drop(),
        epoch=plan_.epoch,
        deltas=deltas,
        created_by=plan_.created_by,
        edit=plan_.edit,
        merged=plan_.merged,
        stacked=plan_.stacking,
    )
    planned = sum(s.bytes for s in plan_.steps if s.name in plan_.removal_steps)
    if done.merge is None or done.merge.dropped_bytes != planned:
        raise CorruptImage(
            "the image's layers changed between plan and apply "
            f"({done.merge.dropped_bytes if done.merge else 0} bytes dropped, {planned} planned)"
        )
    if plan_.layer_after >= 0 and done.layer_size != plan_.layer_after:
        raise CorruptImage(
            f"the new layer holds {done.layer_size} bytes, {plan_.layer_after} planned "
            "(the image's layers changed between plan and apply)"
        )
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in plan_.config}
    return with_config(done.image, config)
