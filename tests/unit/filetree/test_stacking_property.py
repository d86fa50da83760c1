"""Property: stacking read deltas equals a naive flat model of overlayfs, bytes included."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight import static
from deadweight.analysis.waste import waste_events
from deadweight.filetree import read_delta, stack

PATHS = ["a", "a/b", "a/b/c", "a/d", "e", "e/f"]
DATA = [b"", b"1", b"22", b"333", b"4444"]


def ops(paths: list[str]) -> st.SearchStrategy[static.Entry]:
    """One member of a layer, of any kind, at one of ``paths``."""
    path = st.sampled_from(paths)
    return st.one_of(
        st.builds(static.File, path, st.sampled_from(DATA), st.sampled_from([0o644, 0o755])),
        st.builds(static.Dir, path),
        st.builds(static.Symlink, path, st.sampled_from(["x", "../yy"])),
        st.builds(static.Hardlink, path, path),
        st.builds(static.Whiteout, path),
        st.builds(static.Opaque, path),
    )


layers = st.lists(st.lists(ops(PATHS), max_size=7), min_size=1, max_size=4)


def _parent(p: str) -> str:
    return p.rpartition("/")[0]


def _below(fs: dict[str, tuple[str, object]], top: str) -> list[str]:
    return [p for p in fs if p.startswith(top + "/")] if top else list(fs)


class Model:
    """The file system as a flat dict: path -> (kind, inode or None)."""

    def __init__(self) -> None:
        self.fs: dict[str, tuple[str, object]] = {}
        self.bytes: dict[object, int] = {}

    def drop(self, path: str) -> None:
        for p in [*_below(self.fs, path), path]:
            self.fs.pop(p, None)

    def apply(self, n: int, entries: list[static.Entry]) -> None:
        for e in entries:
            if isinstance(e, static.Whiteout) and e.path in self.fs:
                self.drop(e.path)
        for e in entries:
            if isinstance(e, static.Opaque):
                for p in _below(self.fs, e.path):
                    self.fs.pop(p, None)
        for i, e in enumerate(entries):
            if isinstance(e, static.Whiteout | static.Opaque):
                continue
            ancestors = []
            p = _parent(e.path)
            while p:
                ancestors.append(p)
                p = _parent(p)
            for a in reversed(ancestors):
                if a in self.fs and self.fs[a][0] == "dir":
                    continue
                self.drop(a)
                self.fs[a] = ("dir", None)
            old = self.fs.get(e.path)
            if isinstance(e, static.Dir):
                if old is not None and old[0] != "dir":
                    self.drop(e.path)
                self.fs[e.path] = ("dir", None)
                continue
            self.drop(e.path)
            if isinstance(e, static.File):
                self.bytes[(n, i)] = len(e.data)
                self.fs[e.path] = ("file", (n, i))
            elif isinstance(e, static.Symlink):
                self.bytes[(n, i)] = len(e.target)
                self.fs[e.path] = ("symlink", (n, i))
            elif isinstance(e, static.Hardlink):
                target = self.fs.get(e.target)
                self.fs[e.path] = ("hardlink", target[1] if target else None)

    def live_bytes(self) -> int:
        inodes = {ino for _, ino in self.fs.values() if ino is not None}
        return sum(self.bytes[i] for i in inodes)


@settings(max_examples=400, deadline=None)
@given(layers)
def test_stacking_matches_the_naive_model(spec: list[list[static.Entry]]) -> None:
    deltas = [read_delta(io.BytesIO(static.tar_bytes(entries)), hash="sha256") for entries in spec]
    model = Model()
    for n, entries in enumerate(spec):
        model.apply(n, entries)
    tree = stack(deltas)
    assert {p: n.kind for p, n in tree.nodes.items()} == {p: k for p, (k, _) in model.fs.items()}
    assert tree.size() == model.live_bytes()
    # every byte shipped is either live at the end or wasted exactly once
    events, final = waste_events(deltas)
    assert sum(held for _, _, held in events) == sum(d.size for d in deltas) - final.size()
    # directory sizes: each live inode once, at its first path, in every directory above it
    first: dict[object, str] = {}
    for p, (_, ino) in sorted(model.fs.items()):
        if ino is not None and ino in model.bytes:
            first.setdefault(ino, p)
    naive: dict[str, int] = {}
    for ino, p in first.items():
        while p:
            p = _parent(p)
            naive[p] = naive.get(p, 0) + model.bytes[ino]
    assert dict(tree.dir_sizes()) == naive
