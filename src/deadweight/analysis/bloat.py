"""Bloat still in the final file system: bytes that a runtime image rarely needs.

Each live file is assigned to the first category whose rule matches its path, and grouped
under the directory (or file) the rule names, so a finding reads "var/lib/apt/lists:
41 MB in 312 files". Bytes are counted per inode, as docker counts them. Identical files
at different paths are reported separately and may overlap the categories.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from deadweight.filetree.tree import Node, Tree

_HOME = r"(?:root|home/[^/]+)"


def _rules() -> tuple[tuple[str, re.Pattern[str]], ...]:
    table = [
        ("vcs", r"((?:.*/)?\.(?:git|svn|hg|bzr))/"),
        ("apt-cache", r"(var/lib/apt/lists)/(?!lock$|partial$)"),
        ("apt-cache", r"(var/cache/apt)/"),
        ("apk-cache", r"(var/cache/apk|etc/apk/cache)/"),
        ("pip-cache", rf"({_HOME}/\.cache/pip)/"),
        ("poetry-cache", rf"({_HOME}/\.cache/pypoetry)/"),
        ("uv-cache", rf"({_HOME}/\.cache/uv)/"),
        ("npm-cache", rf"({_HOME}/\.npm)/"),
        (
            "yarn-cache",
            rf"({_HOME}/\.cache/yarn|{_HOME}/\.yarn/berry/cache|usr/local/share/\.cache/yarn)/",
        ),
        (
            "pnpm-store",
            rf"({_HOME}/\.local/share/pnpm/store|{_HOME}/\.pnpm-store|{_HOME}/\.cache/pnpm)/",
        ),
        ("go-build-cache", rf"({_HOME}/\.cache/go-build|{_HOME}/go/pkg/mod|go/pkg/mod)/"),
        ("maven-cache", rf"({_HOME}/\.m2/repository)/"),
        ("gradle-cache", rf"({_HOME}/\.gradle/(?:caches|wrapper))/"),
        (
            "package-extras",
            r"(.*?/node_modules/(?:@[^/]+/)?[^/]+/(?:tests?|__tests__|docs?|examples?))/",
        ),
        ("package-extras", r"(.*?/node_modules/(?:@[^/]+/)?[^/]+)/.*\.(?:js|mjs|cjs|css)\.map$"),
        ("package-extras", r"(.*?/(?:site|dist)-packages/.*?/tests?)/"),
        ("docs", r"(usr/(?:local/)?share/doc)/"),
        ("man", r"(usr/(?:local/)?share/man)/"),
        ("info", r"(usr/share/info)/"),
        ("locales", r"(usr/share/locale|usr/share/i18n/locales)/"),
        ("toolchain", r"(usr/(?:local/)?include|usr/lib/gcc|usr/libexec/gcc|usr/lib/llvm-[^/]+)/"),
        ("toolchain", r"(.*?/node_modules/node-gyp|" + _HOME + r"/\.(?:cache/)?node-gyp)/"),
        (
            "toolchain",
            r"(usr/bin/(?:[\w.-]+-)?(?:gcc|g\+\+|cc1(?:plus)?|c\+\+|cpp|ld(?:\.bfd|\.gold)?|as|make|clang(?:\+\+)?)(?:-[\d.]+)?)$",
        ),
        ("temp", r"(tmp|var/tmp)/"),
    ]
    return tuple((name, re.compile(pattern)) for name, pattern in table)


RULES = _rules()
# Package managers' caches and stores: safe to drop from a runtime image.
CACHE_CATEGORIES = (
    "apt-cache",
    "apk-cache",
    "pip-cache",
    "poetry-cache",
    "uv-cache",
    "npm-cache",
    "yarn-cache",
    "pnpm-store",
    "go-build-cache",
    "maven-cache",
    "gradle-cache",
)
CATEGORIES = (
    *CACHE_CATEGORIES,
    "docs",
    "man",
    "info",
    "locales",
    "toolchain",
    "npm-dev-dependencies",
    "package-extras",
    "vcs",
    "temp",
    "core-dump",
    "duplicates",
)
CORE_NAME = re.compile(r"(?:^|/)core(?:\.\d+)?$")
# ELF header: magic, then e_type (offset 16, 2 bytes) == ET_CORE (4), either byte order.
_ELF = b"\x7fELF"


def is_core_dump(head: bytes) -> bool:
    if len(head) < 18 or not head.startswith(_ELF):
        return False
    return int.from_bytes(head[16:18], "little" if head[5] == 1 else "big") == 4


@dataclass(frozen=True, slots=True)
class BloatItem:
    """``bytes`` in ``files`` files under ``path`` (a directory or one file)."""

    category: str
    path: str
    bytes: int
    files: int
    layer: int = -1  # the layer that wrote most of these bytes


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Identical files at different paths: ``bytes`` would be saved by keeping one."""

    digest: str
    size: int
    paths: tuple[str, ...]

    @property
    def bytes(self) -> int:
        return self.size * (len(self.paths) - 1)


@dataclass(frozen=True, slots=True)
class Bloat:
    items: tuple[BloatItem, ...]
    by_category: tuple[tuple[str, int], ...]
    duplicates: tuple[DuplicateGroup, ...]

    @property
    def total(self) -> int:
        return sum(b for _, b in self.by_category)


def _combined() -> re.Pattern[str]:
    """Every rule in one alternation, tried in order as the rules are: one match per path.

    Each rule's pattern opens with its one capturing group, renamed ``r<index>`` here, so
    the group that matched names the rule.
    """
    parts = []
    for i, (_, rule) in enumerate(RULES):
        assert rule.pattern.startswith("(") and rule.groups == 1, rule.pattern
        parts.append(f"(?P<r{i}>{rule.pattern[1:]}")
    return re.compile("|".join(parts))


_ANY_RULE = _combined()


# Every rule's match starts with one of these prefixes, or holds "node_modules/",
# "-packages/" or a name starting with "." (.git, .svn, .hg, .bzr): a path with none of
# them (most paths) is not tried against the rules at all. test_bloat checks the rules.
_RULE_PREFIXES = (".", "var/", "etc/", "usr/", "tmp/", "root/", "home/", "go/")


def may_match(path: str) -> bool:
    """False only for a path that no rule can match."""
    return (
        path.startswith(_RULE_PREFIXES)
        or "/." in path
        or "node_modules/" in path
        or "-packages/" in path
    )


def categorise(path: str) -> tuple[str, str] | None:
    """(category, group path) of a live path, by the first rule that matches."""
    if not may_match(path):
        return None
    m = _ANY_RULE.match(path)
    if m is None:
        return None
    group = m.lastgroup
    assert group is not None
    return RULES[int(group[1:])][0], m.group(group)


def _core_name(path: str) -> bool:
    if not (path.endswith("core") or (path[-1:].isdigit() and "core." in path)):
        return False
    return CORE_NAME.search(path) is not None


def bloat(
    tree: Tree,
    *,
    dev_packages: Iterable[str] = (),
    core_heads: Mapping[str, bytes] | None = None,
    ignore: Callable[[str], bool] | None = None,
    from_layer: int = 0,
) -> Bloat:
    """Bloat in ``tree``. ``dev_packages`` are directories of npm devDependencies;
    ``core_heads`` the first bytes of files named like core dumps; files last written by
    a layer below ``from_layer`` (the base image's, when it is left out) do not count."""
    counter = BloatCounter(dev_packages, from_layer=from_layer)
    counter.add(tree, core_heads=core_heads, ignore=ignore)
    return counter.result(dev_packages)


class BloatCounter:
    """:func:`bloat` of a tree given in parts (:mod:`deadweight.filetree.partition`): each
    part's tree is added with the paths it does not own ignored, and the result asked for
    once all are in.

    Which npm packages are devDependencies may be known only at the end (the lockfiles'
    packages are looked up in the whole tree), so a file below any of the ``candidates``
    is counted under the chain of candidates it lies below and its own category, and given
    to the deepest real one (as :func:`bloat` walks up from the file) by :meth:`result`.
    """

    def __init__(
        self, candidates: Iterable[str] = (), *, from_layer: int = 0, spill: bool = False
    ) -> None:
        self.candidates = set(candidates)
        self.from_layer = from_layer
        # ``spill``: files with content are kept for the duplicates in a temporary SQLite
        # database on disk (deleted when closed), not a map of every distinct digest, and
        # grouped by it at the end (a tree in parts: memory flat in the files, issue 16)
        self._spill = sqlite3.connect("") if spill else None
        if self._spill is not None:
            self._spill.execute("CREATE TABLE f (digest TEXT, size INTEGER, path BLOB)")
        # (chain of candidate tops, deepest first; (category, group)) -> [bytes, files]
        self.groups: dict[tuple[tuple[str, ...], tuple[str, str] | None], list[int]] = {}
        self.writers: dict[tuple[tuple[str, ...], tuple[str, str] | None], dict[int, int]] = {}
        # a digest seen once maps to its node, a list only once a second node shares it: a
        # list per file of a million distinct files was ~70 bytes each (issue 16)
        self.by_digest: dict[str, Node | list[Node]] = {}

    def add(
        self,
        tree: Tree,
        *,
        core_heads: Mapping[str, bytes] | None = None,
        ignore: Callable[[str], bool] | None = None,
    ) -> None:
        dev, from_layer = self.candidates, self.from_layer
        heads = core_heads or {}
        groups, writers, by_digest = self.groups, self.writers, self.by_digest
        held_by = tree.held  # a stacked tree's inode column: no Inode made per node
        spill = self._spill
        spilled: list[tuple[str, int, bytes]] = []
        for path, node in tree.first_names():
            if node.layer < from_layer or (ignore is not None and ignore(path)):
                continue
            held = held_by(node.inode)
            digest = node.digest
            if digest and node.size and (node.kind == "file" or node.kind == "hardlink"):
                if spill is None:
                    same = by_digest.get(digest)
                    if same is None:
                        by_digest[digest] = node
                    elif isinstance(same, list):
                        same.append(node)
                    else:
                        by_digest[digest] = [same, node]
                else:
                    # a path that is no UTF-8 holds surrogates, which SQLite cannot store
                    spilled.append((digest, node.size, path.encode("utf-8", "surrogateescape")))
                    if len(spilled) >= 65536:
                        spill.executemany("INSERT INTO f VALUES (?, ?, ?)", spilled)
                        spilled.clear()
            if not held:
                continue  # counted in no category (but maybe a duplicate: see above)
            chain: tuple[str, ...] = ()
            found: tuple[str, str] | None = None
            if _core_name(path) and is_core_dump(heads.get(path, b"")):
                found = ("core-dump", path)
            else:
                if dev and "node_modules/" in path:
                    chain = _chain(path, dev)
                found = categorise(path)
            if found is None and not chain:
                continue
            at = (chain, found)
            row = groups.get(at)
            if row is None:
                row = groups[at] = [0, 0]
                writers[at] = {}
            row[0] += held
            row[1] += 1
            w = writers[at]
            w[node.layer] = w.get(node.layer, 0) + held
        if spill is not None and spilled:
            spill.executemany("INSERT INTO f VALUES (?, ?, ?)", spilled)

    def result(self, dev_packages: Iterable[str] = ()) -> Bloat:
        """The bloat of every part added; ``dev_packages``: the candidates that are
        devDependencies indeed."""
        dev = set(dev_packages)
        rows: dict[tuple[str, str], list[int]] = {}
        layers: dict[tuple[str, str], dict[int, int]] = {}
        for (chain, own), (b, n) in self.groups.items():
            top = next((t for t in chain if t in dev), None)
            found = ("npm-dev-dependencies", top) if top is not None else own
            if found is None:
                continue
            row = rows.setdefault(found, [0, 0])
            row[0] += b
            row[1] += n
            w = layers.setdefault(found, {})
            for layer, held in self.writers[(chain, own)].items():
                w[layer] = w.get(layer, 0) + held
        items = [
            BloatItem(
                cat, path, b, n, max(layers[(cat, path)].items(), key=lambda kv: (kv[1], -kv[0]))[0]
            )
            for (cat, path), (b, n) in rows.items()
        ]
        items.sort(key=lambda i: (-i.bytes, i.path, i.category))
        dups = [
            DuplicateGroup(d, nodes[0].size, tuple(sorted(n.path for n in nodes)))
            for d, nodes in self.by_digest.items()
            if isinstance(nodes, list)
        ]
        if self._spill is not None:
            dups += self._spilled_duplicates()
        dups.sort(key=lambda g: (-g.bytes, g.paths[0]))
        totals = dict.fromkeys(CATEGORIES, 0)
        for item in items:
            totals[item.category] += item.bytes
        totals["duplicates"] = sum(g.bytes for g in dups)
        return Bloat(
            tuple(items),
            tuple((c, totals[c]) for c in CATEGORIES if totals[c]),
            tuple(dups),
        )

    def _spilled_duplicates(self) -> list[DuplicateGroup]:
        assert self._spill is not None
        rows = self._spill.execute(
            "SELECT digest, size, path FROM f WHERE digest IN "
            "(SELECT digest FROM f GROUP BY digest HAVING COUNT(*) > 1) ORDER BY digest, rowid"
        )
        out = []
        for digest, files in itertools.groupby(rows, key=lambda row: row[0]):
            group = list(files)
            paths = sorted(r[2].decode("utf-8", "surrogateescape") for r in group)
            out.append(DuplicateGroup(digest, group[0][1], tuple(paths)))
        return out

    def close(self) -> None:
        """Delete the spilled files' database (a counter without one has nothing to do)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def _chain(path: str, tops: set[str]) -> tuple[str, ...]:
    """The ``tops`` ``path`` lies below (or is), deepest first."""
    out = []
    p = path
    while p:
        if p in tops:
            out.append(p)
        p = p.rpartition("/")[0]
    return tuple(out)
