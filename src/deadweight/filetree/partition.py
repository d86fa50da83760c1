"""The merged file system in path ranges, so that no stacking holds every path (issue 16).

Paths are ordered by :func:`key` (a path's ``/`` made the lowest character), in which a
directory's whole subtree follows it without a gap. The image's paths are cut into ranges
of about ``size`` members each; a :class:`Part` holds, for every layer, what that layer
does to the paths of one range, plus what the range's stacking needs from outside it:

- its **spine**: the ancestors of the range's first path, which sort before it. Whatever
  the layers do to an ancestor (a whiteout, an opaque marker, a file put in place of the
  directory) they do to the range's paths below it.
- the directories of the range, and of its spine, that paths of other ranges lie below.
  A layer that writes such a path creates those directories where they are missing, as
  overlayfs does (``implied``): applied after the layer's whiteouts and before its
  entries, which for a layer that writes nothing below a non-directory of its own is the
  same as at the entry's turn.
- every hardlink and the path it names, with their ancestors (the **hardlink world**): an
  inode's bytes are wasted only when its last name goes, and its names may lie in any
  range.

A path is *owned* by the one range it falls in: what a part's stacking reports of other
paths (spine, hardlink world) is the business of the part that owns them. Stacking a
part with :class:`~deadweight.filetree.tree.Stacker` thus gives, for the paths it owns,
exactly what stacking the whole image gives. A layer that writes a non-directory and
also a path below it, links to a directory it creates, or creates one where a hardlinked
name is (tar order then decides, which a range cannot see) is :class:`Irregular`: the
caller stacks the image whole.

The layers' entries are read twice whatever the number of parts: once to choose the cuts
(:func:`survey`), once to write each entry into the spill file of every part that holds it
(an unnamed temporary file per part, a batch at a time); a part is then read back from
its own file alone. Reading every layer again for each part made the work grow with the
square of the files.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import msgspec

from deadweight import scratch
from deadweight.filetree.delta import LayerDelta, Sharing
from deadweight.filetree.entry import Entry
from deadweight.filetree.record import StoredEntries
from deadweight.filetree.tree import Stacker, Tree, stack

__all__ = [
    "SIZE",
    "Irregular",
    "Layout",
    "Part",
    "View",
    "Views",
    "hardlinks",
    "key",
    "large",
    "parts",
    "stack_part",
    "stacked_parts",
    "survey",
    "view",
]

# Members (entries, whiteouts, opaque markers) of an image's layers above which the
# commands that need its merged tree (``analyze``, ``lint IMAGE``, ``diff``) stack it a
# part at a time, and about how many a part holds: no stacking holds more paths (issue 16).
SIZE = 200_000
# Members sampled per part when choosing the bounds.
_SAMPLES = 64


def _each(entries: Sequence[Entry]) -> Iterator[Entry]:
    """``entries`` for a pass that keeps none of them, or shares those it keeps."""
    return entries.unshared() if isinstance(entries, StoredEntries) else iter(entries)


def large(deltas: Sequence[LayerDelta]) -> bool:
    """Whether the layers hold more than :data:`SIZE` members: too many to stack whole."""
    return sum(d.members for d in deltas) > SIZE


def key(path: str) -> str:
    """``path``'s place in subtree order: every path below a directory comes right after
    it, before any path that only shares a prefix of its name (``a/b`` < ``a-b``)."""
    return path.replace("/", "\x00")


def ancestors(path: str) -> list[str]:
    """The directories above ``path``, nearest first (the root, "", left out)."""
    out = []
    up = path.rpartition("/")[0]
    while up:
        out.append(up)
        up = up.rpartition("/")[0]
    return out


class Irregular(Exception):
    """A layer does what only tar order decides, which a part cannot see: writes a
    non-directory and also a path below it, links to a directory it creates, or creates
    one where a hardlinked name is."""


@dataclass(frozen=True, slots=True)
class Part:
    """One range of paths (keys ``lo`` <= key < ``hi``; None: unbounded) and, per layer,
    what stacking it needs (see the module's docstring)."""

    lo: str | None
    hi: str | None
    deltas: tuple[LayerDelta, ...]
    implied: tuple[frozenset[str], ...]
    # per layer, the part's own directories that the layer's members in later parts lie
    # below (entries, whiteouts and opaque markers: dive's tree makes every path's parents)
    inner: tuple[frozenset[str], ...] = ()
    # the part's directories that later parts' paths lie below
    later: frozenset[str] = frozenset()

    # the paths the part holds but does not own: its spine, the hardlink world outside it
    foreign: frozenset[str] = frozenset()

    def owns(self, path: str) -> bool:
        k = path.replace("/", "\x00")
        return (self.lo is None or k >= self.lo) and (self.hi is None or k < self.hi)

    def holds_own(self, path: str) -> bool:
        """:meth:`owns`, for a path the part's stacking holds (one of its deltas' paths or
        their parents): one set lookup."""
        return path not in self.foreign


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the parts of an image's layers are cut (:func:`survey`), and its hardlink
    world: every hardlink and the path it names (``names``), with their ancestors."""

    cuts: tuple[str, ...] = ()
    names: frozenset[str] = frozenset()
    world: frozenset[str] = frozenset()


# Called with each layer's index and each of its entries, by :func:`survey`.
Visit = Callable[[int, Entry], None]


def survey(deltas: Sequence[LayerDelta], size: int, visit: Visit | None = None) -> Layout:
    """In one pass over the layers' members: keys cutting them into ranges of about
    ``size`` each (none when they hold no more), from a sample of their paths, and the
    hardlink world; ``visit`` is called with every entry on the way (a caller's own
    figures, without another pass over a layer whose entries are decoded for each)."""
    total = sum(d.members for d in deltas)
    step = max(1, size // _SAMPLES)  # members a sample stands for
    per = max(1, size // step)  # samples a part holds
    sample: set[str] = set()
    names: set[str] = set()
    seen = 0
    for index, d in enumerate(deltas):
        for e in _each(d.entries):
            if seen % step == 0:
                sample.add(key(e.path))
            seen += 1
            if e.kind == "hardlink":
                names.add(e.path)
                names.add(e.link)
            if visit is not None:
                visit(index, e)
        for path in (*d.whiteouts, *d.opaques):
            if seen % step == 0:
                sample.add(key(path))
            seen += 1
    world = set(names)
    for name in names:
        world.update(ancestors(name))
    cuts = tuple(sorted(sample)[per::per]) if total > size else ()
    return Layout(cuts, frozenset(names), frozenset(world))


def parts(deltas: Sequence[LayerDelta], layout: Layout) -> Iterator[Part]:
    """The parts between the ``layout``'s cuts, in path order; with no cuts, one part
    holding the deltas as they are. Raises :class:`Irregular` (see the module)."""
    if not layout.cuts:
        none = tuple(frozenset[str]() for _ in deltas)
        yield Part(None, None, tuple(deltas), none, none)
        return
    edges: list[str | None] = [None, *layout.cuts, None]
    ranges = [_Range(lo, hi, layout) for lo, hi in itertools.pairwise(edges)]
    with _distributed(deltas, layout, ranges) as (spills, made, below):
        for j, (where, spill) in enumerate(zip(ranges, spills, strict=True)):
            yield where.part(deltas, spill.entries(len(deltas)), made[j], below)


class _Range:
    """One part's range of paths and what it holds from outside it (see the module)."""

    def __init__(self, lo: str | None, hi: str | None, layout: Layout) -> None:
        self.lo, self.hi, self.names, self.world = lo, hi, layout.names, layout.world
        self.spine = (
            frozenset(ancestors(lo.replace("\x00", "/"))) if lo is not None else frozenset()
        )
        # the range's directories that paths after it lie below, shallowest first
        self.above = (
            [a for a in reversed(ancestors(hi.replace("\x00", "/"))) if self.inside(a)]
            if hi is not None
            else []
        )

    def inside(self, path: str) -> bool:
        k = key(path)
        return (self.lo is None or k >= self.lo) and (self.hi is None or k < self.hi)

    def wanted(self, path: str) -> bool:
        return self.inside(path) or path in self.spine or path in self.world

    def part(
        self,
        deltas: Sequence[LayerDelta],
        kept: Iterable[list[Entry]],
        made: Sequence[set[str]],
        below: Sequence[set[str]],
    ) -> Part:
        """The part, from what each layer keeps of it (``kept``, in tar order) and the
        directories each makes for paths outside it (``made``)."""
        above, hi = self.above, self.hi
        top = above[0] + "/" if above else None
        out: list[LayerDelta] = []
        implied: list[frozenset[str]] = []
        inner: list[frozenset[str]] = []
        for d, entries, made_here, in_world in zip(deltas, kept, made, below, strict=True):
            making = made_here | in_world
            under = set(making)
            if top is not None and hi is not None:
                for path in (*d.whiteouts, *d.opaques):
                    if path.startswith(top) and key(path) >= hi:
                        under.update(a for a in above if path.startswith(a + "/"))
            inner.append(frozenset(a for a in under if a in above or a in in_world))
            if making:
                _check(entries, making, self.names)
            out.append(
                LayerDelta(
                    tuple(entries),
                    tuple(p for p in d.whiteouts if self.wanted(p)),
                    tuple(p for p in d.opaques if self.wanted(p)),
                    size=d.size,
                )
            )
            implied.append(frozenset(making))
        foreign = frozenset(p for p in (*self.spine, *self.world) if not self.inside(p))
        return Part(
            self.lo, self.hi, tuple(out), tuple(implied), tuple(inner), frozenset(above), foreign
        )


class _Spill:
    """One part's entries, a batch at a time, in an unnamed file (never whole in memory):
    each batch (layer, entry) pairs, msgpack, or pickle for one that is no UTF-8."""

    def __init__(self) -> None:
        self.file = scratch.unnamed()[0]
        self.batch: list[tuple[int, Entry]] = []

    def add(self, layer: int, entry: Entry) -> None:
        batch = self.batch
        batch.append((layer, entry))
        if len(batch) >= _SPILL_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        try:
            data, how = _PACK.encode(self.batch), b"m"
        except UnicodeEncodeError:  # a name that is no UTF-8: its surrogates pickled
            data, how = pickle.dumps(self.batch, pickle.HIGHEST_PROTOCOL), b"p"
        self.file.write(how + len(data).to_bytes(8, "little") + data)
        self.batch = []

    def close(self) -> None:
        self.file.close()

    def entries(self, layers: int) -> list[list[Entry]]:
        """Each layer's entries, in tar order, shared a batch at a time as a decode shares
        them (the file read back from its start, then closed)."""
        self.flush()
        out: list[list[Entry]] = [[] for _ in range(layers)]
        sharing = Sharing()
        file = self.file
        file.seek(0)
        with file:
            while head := file.read(9):
                data = file.read(int.from_bytes(head[1:], "little"))
                batch = _UNPACK.decode(data) if head[:1] == b"m" else pickle.loads(data)
                sharing.share([e for _, e in batch])
                for layer, entry in batch:
                    out[layer].append(entry)
        return out


class _Dropped(_Spill):
    """A part no one reads (:func:`view`): its entries are not kept, no file is made."""

    def __init__(self) -> None:
        self.batch = []

    def add(self, layer: int, entry: Entry) -> None:
        pass

    def close(self) -> None:
        pass


_PACK = msgspec.msgpack.Encoder()
_UNPACK = msgspec.msgpack.Decoder(list[tuple[int, Entry]])
# (layer, entry) pairs a part's spill holds in memory before writing them.
_SPILL_BATCH = 4096


@contextlib.contextmanager
def _distributed(
    deltas: Sequence[LayerDelta],
    layout: Layout,
    ranges: Sequence[_Range],
    only: int | None = None,
) -> Iterator[tuple[list[_Spill], list[list[set[str]]], list[set[str]]]]:
    """Every layer's entries read once and written to the spill of each part that holds
    them (the part owning the path; the parts whose spine it is; all, for the hardlink
    world), and per part and layer the directories of the part that the layer's entries
    in other parts lie below (the part's own spine and the ancestors of the next part's
    first path); and per layer, the paths of the hardlink world it writes something below:
    every part holds the world, so each must make those directories too (a hardlink's name
    replaced by a directory for a path another part owns frees its inode everywhere). The
    spills are deleted on leaving. With ``only``, the other parts' entries are dropped
    (:func:`view`)."""
    cuts = list(layout.cuts)
    spine_of: dict[str, list[int]] = {}
    cover: dict[str, list[int]] = {}
    for j, where in enumerate(ranges):
        for path in where.spine:
            spine_of.setdefault(path, []).append(j)
            cover.setdefault(path, []).append(j)
        for path in where.above:
            cover.setdefault(path, []).append(j)
    every = range(len(ranges))
    spills: list[_Spill] = []
    try:
        spills = [_Spill() if only in (None, j) else _Dropped() for j in range(len(ranges))]
        made = [[set[str]() for _ in deltas] for _ in ranges]
        world = layout.world
        below = [set[str]() for _ in deltas]
        for i, d in enumerate(deltas):
            for e in _each(d.entries):
                path = e.path
                owner = bisect.bisect_right(cuts, path.replace("/", "\x00"))
                if path in world:
                    for j in every:
                        spills[j].add(i, e)
                else:
                    spills[owner].add(i, e)
                    for j in spine_of.get(path, ()):
                        spills[j].add(i, e)
                up = path.rpartition("/")[0]
                while up:
                    for j in cover.get(up, ()):
                        if j != owner:
                            made[j][i].add(up)
                    if up in world:
                        below[i].add(up)
                    up = up.rpartition("/")[0]
        yield spills, made, below
    finally:
        for spill in spills:
            spill.close()


def _check(kept: Sequence[Entry], made: set[str], names: frozenset[str]) -> None:
    """Raise :class:`Irregular` if the layer writes a non-directory at a directory it also
    creates for a path below it, or above one, or links to one (a hardlink names what is
    there at its turn in tar order), or creates it where a name of a hardlinked inode may
    be (which of the inode's names goes last is then a matter of tar order)."""
    over = set(made)
    for a in made:
        over.update(ancestors(a))
    if not over.isdisjoint(names):
        raise Irregular(min(over & names))
    for e in kept:
        if (e.kind != "dir" and e.path in over) or (e.kind == "hardlink" and e.link in over):
            raise Irregular(e.path)


def stacked_parts(deltas: Sequence[LayerDelta], size: int) -> Iterator[tuple[Part, Tree]]:
    """Each part of about ``size`` members (:func:`survey`) and its final tree, in path
    order, for a caller that needs only the final tree of the paths each part owns.
    Raises :class:`Irregular`."""
    for part in parts(deltas, survey(deltas, size)):
        yield part, stack_part(part)


def stack_part(part: Part) -> Tree:
    """The final tree of ``part``'s deltas (of the paths it owns and those it holds)."""
    stacker = Stacker(bounded=False)
    for delta, implied in zip(part.deltas, part.implied, strict=True):
        stacker.apply(delta, implied)
    return stacker.tree(last=True)


@dataclass(frozen=True, slots=True)
class View:
    """The part of one path's range (the path and everything below it), and its final
    tree: for the paths the part owns (:meth:`Part.owns`), what stacking the whole image
    gives, and for the ancestors of its first path what that stacking needs of them."""

    part: Part
    tree: Tree


def view(deltas: Sequence[LayerDelta], path: str, world: Layout | None = None) -> View:
    """The :class:`View` of ``path`` (a tree key, not the root), holding no other path but
    its ancestors and the hardlink world: for a command that looks a few paths up in an
    image too large to stack whole (``cat``, ``export PATH``). Two passes over the layers
    (the hardlink world, unless ``world`` is :func:`hardlinks`' answer already, then the
    range's entries). Raises :class:`Irregular`."""
    if world is None:
        world = hardlinks(deltas)
    lo = key(path)
    hi = lo + "\x01"  # the first key after every path below ``path``
    layout = Layout((lo, hi), world.names, world.world)
    ranges = [_Range(None, lo, layout), _Range(lo, hi, layout), _Range(hi, None, layout)]
    with _distributed(deltas, layout, ranges, only=1) as (spills, made, below):
        part = ranges[1].part(deltas, spills[1].entries(len(deltas)), made[1], below)
    return View(part, stack_part(part))


def hardlinks(deltas: Sequence[LayerDelta]) -> Layout:
    """The hardlink world of the layers, in a layout of no cuts (one pass)."""
    return survey(deltas, sum(d.members for d in deltas))


class Views:
    """Trees to look an image's paths up in (``cat``, ``export PATH``): the whole image's,
    stacked once, when its layers hold at most :data:`SIZE` members; else the
    :class:`View` of the path asked for, made again only when a path outside it is asked
    for (so memory does not grow with the image's files, issue 16). An image whose layers
    are :class:`Irregular` is stacked whole. ``bounded``: see ``Stacker.apply``."""

    def __init__(self, deltas: Sequence[LayerDelta], *, bounded: bool = True) -> None:
        self.deltas, self.bounded = deltas, bounded
        self.large = large(deltas)
        self._whole: Tree | None = None
        self._last: View | None = None
        self._world: Layout | None = None  # found once for every view

    def whole(self) -> Tree:
        """The whole image's tree (stacked on the first call)."""
        if self._whole is None:
            self._whole = stack(self.deltas, bounded=self.bounded)
        return self._whole

    def __call__(self, path: str) -> Tree:
        """A tree that holds ``path`` (a tree key), what lies below it and its ancestors
        as the whole image's does."""
        if not self.large or self._whole is not None:
            return self.whole()
        if not path:  # the root is no node: nothing to look up there
            return _EMPTY
        last = self._last
        if last is None or not last.part.owns(path):
            try:
                if self._world is None:
                    self._world = hardlinks(self.deltas)
                last = self._last = view(self.deltas, path, self._world)
            except Irregular:
                self._last = None
                return self.whole()
        return last.tree


_EMPTY = Stacker().tree()
