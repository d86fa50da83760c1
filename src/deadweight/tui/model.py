"""What the explorer shows, without the terminal: the file tree as of a layer, what that
layer changed, filters and orders (issue 15). Everything here is data; ``tui.app`` draws it.

The first :class:`LayerView` is built in one pass over the layers (the stacker's own
children index serves the tree), and directories are listed only when opened, so moving
around a tree of 500,000 entries costs what the open directory holds. Once the first
screen is up, :meth:`Explorer.keep_states` stacks the layers once more in the background
and keeps, per layer, the stacking and the bytes below each directory (carried from the
layer below by what the layer changed, not summed again): a view of a kept layer is then
made from the kept stackings of it and the layer below in what that layer's delta holds,
whatever the size of the tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from deadweight.analysis.bloat import categorise
from deadweight.analysis.packages import Package
from deadweight.analysis.report import Analysis
from deadweight.analysis.waste import WasteItem
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.paths import ROOT, parent
from deadweight.filetree.tree import Hidden, Node, Stacker, Tree
from deadweight.reading import paused_gc

Mark = Literal["A", "M", "R", "W", ""]
MARKS: dict[Mark, str] = {
    "A": "added by this layer",
    "M": "modified by this layer",
    "R": "removed by this layer",
    "W": "wasted: a later layer hides it",
    "": "unchanged",
}
Order = Literal["size", "name"]
CHUNK = 1000  # children listed at once under one directory
# Stackings kept for moving between layers, in tree entries summed over the kept layers
# (about 300 bytes each: 4,000,000 is a 500,000-entry image's every layer of 8).
STATES_BUDGET = 4_000_000
# Directory sizes kept per layer, in directories summed over the kept layers.
SIZES_BUDGET = 4_000_000


def fork(st: Stacker) -> Stacker:
    """An independent copy of a stacking (nodes and inodes are never changed in place:
    the dictionaries and the children sets are what a later layer changes). The explorer
    walks directories: the children index is built here, in the background, and kept in
    every state, not on the first view of one."""
    return st.fork(children=True)


def _spread(change: dict[str, int], path: str, delta: int) -> None:
    """Add ``delta`` bytes to every directory above ``path`` ("" is the root)."""
    d = path.rpartition("/")[0]
    while True:
        change[d] = change.get(d, 0) + delta
        if not d:
            return
        d = d.rpartition("/")[0]


def next_sizes(
    below: Mapping[str, int],
    st: Stacker,
    delta: LayerDelta,
    hidden: Sequence[Hidden],
    first_new: int,
) -> dict[str, int] | None:
    """``Tree.dir_sizes`` of ``st`` (just stacked ``delta``, which hid ``hidden``) from
    ``below``, those of the layer under it, in what the layer changed: each inode it hid
    for good leaves the directories above its path, each one it made (numbered from
    ``first_new``) and still holds joins them. None when a hardlink is involved (an inode
    counts at the first of its paths, which the change may move): sum again then."""
    if any(e.kind == "hardlink" for e in delta.entries):
        return None
    change: dict[str, int] = {}
    for h in hidden:
        inode = h.node.inode
        if 0 <= inode < first_new:
            if not h.last:
                return None
            _spread(change, h.node.path, -st.inodes[inode].bytes)
    for inode in range(first_new, len(st.inodes)):
        if inode in st.refs:
            held = st.inodes[inode]
            _spread(change, held.path, held.bytes)
    out = dict(below)
    for d, b in change.items():
        out[d] = out.get(d, 0) + b
    return out


@dataclass(frozen=True, slots=True)
class LayerInfo:
    index: int
    instruction: str
    size: int
    wasted: int
    changes: int  # entries the layer writes or removes


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the tree: a path as of the selected layer (or removed by it)."""

    path: str
    name: str
    kind: str
    bytes: int  # a file's bytes, a directory's total below it
    mark: Mark
    is_dir: bool


@dataclass(frozen=True, slots=True)
class Details:
    """The file pane: what a path is, who wrote it, who hides it, whose it is."""

    path: str
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str
    written_by: int
    written_instruction: str
    hidden_by: int  # -1: nothing hides it
    hidden_instruction: str
    package: str
    mark: Mark
    category: str


@dataclass
class Filter:
    text: str = ""
    hide: frozenset[Mark] = frozenset()  # kinds not shown ("" the unchanged), as dive
    category: str = ""  # a bloat category, "" any
    changes_only: bool = False  # only what the selected layer changed

    @property
    def active(self) -> bool:
        return bool(self.text or self.hide or self.category or self.changes_only)


@dataclass
class Explorer:
    """An image's deltas and analysis: the layers, and views of the tree at each.

    The analysis may come later (:meth:`attach`): the tree is shown without it first.
    """

    deltas: Sequence[LayerDelta]
    analysis: Analysis | None = None
    instructions: Sequence[str] = ()
    cache: dict[int, LayerView] = field(default_factory=dict)
    states: dict[int, Stacker] = field(default_factory=dict)
    sizes: dict[int, Mapping[str, int]] = field(default_factory=dict)
    _kept: int = 0
    _sized: int = 0

    def said(self, index: int) -> str:
        if self.analysis is not None:
            return self.analysis.layers[index].instruction
        return self.instructions[index] if index < len(self.instructions) else ""

    @property
    def layers(self) -> list[LayerInfo]:
        a = self.analysis
        return [
            LayerInfo(
                i,
                self.said(i),
                d.size,
                a.layers[i].wasted if a is not None else 0,
                d.members,
            )
            for i, d in enumerate(self.deltas)
        ]

    def attach(self, analysis: Analysis) -> None:
        """The analysis has arrived: the views shown so far learn what is wasted."""
        self.analysis = analysis
        for view in list(self.cache.values()):
            view.attach(analysis)

    def view(self, index: int) -> LayerView:
        """The tree as of layer ``index`` (the last few are kept), stacked on from the
        nearest layer below whose stacking is kept, else from the bottom."""
        found = self.cache.get(index)
        if found is None:
            states = self.states
            after, under = states.get(index), states.get(index - 1)
            if after is not None and (under is not None or index == 0):
                with paused_gc():
                    found = LayerView.between(
                        self.deltas[index], index, under, after, self.analysis,
                        self.sizes.get(index),
                    )  # fmt: skip
            else:
                below = [j for j in list(states) if j < index]
                start = states[max(below)] if below else None
                keep = self._keep if states else None  # the first view: no copies to wait for
                with paused_gc():  # many small acyclic objects: the collector only slows it
                    found = LayerView.build(
                        self.deltas, index, self.analysis, start, keep, self.sizes.get(index)
                    )
            found.said = self.said
            if self.analysis is not None and found.analysis is None:
                found.attach(self.analysis)  # it arrived while the view was being built
            if len(self.cache) >= 3:
                self.cache.pop(next(iter(self.cache)))
            self.cache[index] = found
        return found

    def keep_states(self) -> None:
        """Stack every layer once more, keeping each stacking (within the budget): run in
        the background once the first screen is up, so that moving to any layer then
        stacks only the layers between."""
        st = Stacker()
        sizes: Mapping[str, int] | None = {}
        with paused_gc():
            for i, d in enumerate(self.deltas):
                first_new = len(st.inodes)
                hidden = st.apply(d)
                if sizes is not None:
                    sizes = next_sizes(sizes, st, d, hidden, first_new)
                if sizes is None:
                    sizes = Tree(st.nodes, st.inodes).dir_sizes()
                if self._sized + len(sizes) <= SIZES_BUDGET:
                    self.sizes.setdefault(i, sizes)
                    self._sized += len(sizes)
                self._keep(i, st)

    def _keep(self, index: int, state: Stacker) -> None:
        """Keep the stacking after layer ``index`` while it fits ``STATES_BUDGET``
        entries in all: moving to another layer then stacks only the layers between."""
        size = len(state.nodes)
        if index in self.states or self._kept + size > STATES_BUDGET:
            return
        self.states[index] = fork(state)
        self._kept += size


def _packages(packages: Iterable[Package]) -> dict[str, str]:
    """Directory a package is recorded in -> "ecosystem name version" (npm, Python...)."""
    out: dict[str, str] = {}
    for p in packages:
        where = p.path.rstrip("/")
        if "/" in where and p.ecosystem not in ("deb", "dpkg", "apk"):
            where = parent(where) if where.endswith((".json", "METADATA", "RECORD")) else where
            out.setdefault(where, f"{p.ecosystem} {p.name} {p.version}")
    return out


class LayerView:
    """The merged tree after layer ``index``, with what that layer did to each path."""

    def __init__(
        self,
        index: int,
        nodes: dict[str, Node],
        children: dict[str, set[str]],
        tree: Tree,
        marks: dict[str, Mark],
        removed: dict[str, Node],
        analysis: Analysis | None,
        changed: set[str] | None = None,
        sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.index = index
        self.nodes = nodes
        self.children = children
        self.tree = tree
        self.marks = marks
        self.removed = removed
        self.changed = changed if changed is not None else set(marks)
        self.removed_children: dict[str, list[str]] = {}
        for path in removed:
            self.removed_children.setdefault(parent(path), []).append(path)
        self.sizes = sizes if sizes is not None else tree.dir_sizes()
        self.analysis: Analysis | None = None
        self.hidden: dict[tuple[str, int], WasteItem] = {}
        self.packages: dict[str, str] = {}
        self.said: Callable[[int], str] = lambda i: (
            self.analysis.layers[i].instruction
            if self.analysis is not None and 0 <= i < len(self.analysis.layers)
            else ""
        )
        self._visible: set[str] | None = None
        self.filter = Filter()
        if analysis is not None:
            self.attach(analysis)

    def attach(self, analysis: Analysis) -> None:
        """Waste and packages: mark W what a later layer hides, name packages."""
        self.analysis = analysis
        self.hidden = {(w.path, w.written_by): w for w in analysis.waste.items}
        self.packages = _packages(analysis.packages)
        for w in analysis.waste.items:
            node = self.nodes.get(w.path)
            if node is not None and node.layer == w.written_by:
                self.marks[w.path] = "W"

    @classmethod
    def build(
        cls,
        deltas: Sequence[LayerDelta],
        index: int,
        analysis: Analysis | None,
        start: Stacker | None = None,
        keep: Callable[[int, Stacker], None] | None = None,
        sizes: Mapping[str, int] | None = None,
    ) -> LayerView:
        """``start`` is a stacking of the layers below ``index`` (copied, not changed);
        ``keep`` is offered the stacking after each layer on the way."""
        st = fork(start) if start is not None else Stacker()
        for i in range(st.layer + 1, index):
            st.apply(deltas[i])
            if keep is not None:
                keep(i, st)
        delta = deltas[index]
        before = {e.path for e in delta.entries if e.path in st.nodes}
        hidden = st.apply(delta)
        marks: dict[str, Mark] = {}
        for e in delta.entries:
            marks[e.path] = "M" if e.path in before else "A"
        removed = {
            h.node.path: h.node
            for h in hidden
            if h.how != "replaced" and h.node.path not in st.nodes
        }
        for path in removed:
            marks[path] = "R"
        changed = set(marks)
        if keep is not None:
            keep(index, st)
        tree = Tree(st.nodes, st.inodes)
        return cls(index, st.nodes, st.children, tree, marks, removed, analysis, changed, sizes)

    @classmethod
    def between(
        cls,
        delta: LayerDelta,
        index: int,
        under: Stacker | None,
        after: Stacker,
        analysis: Analysis | None,
        sizes: Mapping[str, int] | None = None,
    ) -> LayerView:
        """The view of layer ``index`` from kept stackings (never changed): ``under``,
        the one below it (None for the bottom layer), and ``after``, its own. Costs what
        the layer's delta holds: the entries it writes, the paths it whites out."""
        nodes = under.nodes if under is not None else {}
        kids = under.children if under is not None else {}
        marks: dict[str, Mark] = {e.path: "M" if e.path in nodes else "A" for e in delta.entries}
        removed: dict[str, Node] = {}
        todo = [p for p in delta.whiteouts if p in nodes]
        todo += [c for p in delta.opaques for c in kids.get(p, ())]
        live, seen = after.nodes, set()
        while todo:  # what the whiteouts and opaque directories hid, and was not written again
            path = todo.pop()
            node = nodes.get(path)
            if node is None or path in seen:
                continue
            seen.add(path)
            if path not in live:
                removed[path] = node
            todo.extend(kids.get(path, ()))
        for path in removed:
            marks[path] = "R"
        tree = Tree(after.nodes, after.inodes)
        return cls(index, after.nodes, after.children, tree, marks, removed, analysis,
                   set(marks), sizes)  # fmt: skip

    # -- listing ---------------------------------------------------------------------

    def row(self, path: str) -> Row:
        node = self.nodes.get(path) or self.removed[path]
        is_dir = node.kind == "dir"
        size = self.sizes.get(path, 0) if is_dir else node.size
        if path in self.removed and is_dir:
            size = 0
        return Row(path, path.rpartition("/")[2], node.kind, size, self.marks.get(path, ""),
                   is_dir)  # fmt: skip

    def listing(self, path: str = ROOT, order: Order = "size") -> list[Row]:
        """The entries directly under ``path`` that pass the filter, in ``order``."""
        names = [*self.children.get(path, ()), *self.removed_children.get(path, ())]
        visible = self._visible
        if visible is not None:
            names = [n for n in names if n in visible]
        rows = [self.row(n) for n in names]
        if order == "size":
            rows.sort(key=lambda r: (-r.bytes, r.name))
        else:
            rows.sort(key=lambda r: r.name)
        return rows

    def set_filter(self, f: Filter) -> None:
        self.filter = f
        self._visible = self._matching(f) if f.active else None

    def _matching(self, f: Filter) -> set[str]:
        text = f.text.lower()
        tests: list[Callable[[str], bool]] = []
        if text:
            tests.append(lambda p: text in p.lower())
        if f.hide:
            tests.append(lambda p: self.marks.get(p, "") not in f.hide)
        if f.changes_only:
            tests.append(lambda p: p in self.changed)
        if f.category:
            cat = f.category
            tests.append(lambda p: (categorise(p) or ("", ""))[0] == cat)
        seen: set[str] = set()
        for path in [*self.nodes, *self.removed]:
            if path and all(t(path) for t in tests):
                p = path
                while p and p not in seen:
                    seen.add(p)
                    p = parent(p)
        return seen

    def largest(self) -> str | None:
        """The largest file that passes the filter."""
        best: tuple[int, str] | None = None
        visible = self._visible
        for path, node in self.nodes.items():
            if node.kind in ("file", "hardlink") and (visible is None or path in visible):
                key = (node.size, path)
                if best is None or key > best:
                    best = key
        return best[1] if best else None

    def details(self, path: str) -> Details:
        node = self.nodes.get(path) or self.removed[path]
        hid = self.hidden.get((path, node.layer))
        package = ""
        p = path
        while p:
            if p in self.packages:
                package = self.packages[p]
                break
            p = parent(p)
        found = categorise(path)
        return Details(
            path,
            node.kind,
            self.sizes.get(path, 0) if node.kind == "dir" and path in self.nodes else node.size,
            node.mode,
            node.uid,
            node.gid,
            node.link,
            node.layer,
            self.said(node.layer),
            hid.hidden_by if hid else (self.index if path in self.removed else -1),
            hid.hidden_instruction
            if hid
            else (self.said(self.index) if path in self.removed else ""),
            package,
            self.marks.get(path, ""),
            found[0] if found else "",
        )
