"""Packages added, removed and at another version, with their installed bytes.

Packages are matched by ecosystem and name, and by where they live: the database of dpkg
and apk, an npm package's directory, a Python package's site directory (its dist-info
directory carries the version in its name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deadweight.analysis.packages import APK_INSTALLED, DPKG_STATUS, Package, inventory
from deadweight.compare.result import PackageChange
from deadweight.compare.view import BASE, View
from deadweight.filetree.paths import parent

DATABASES = {"dpkg": DPKG_STATUS, "apk": APK_INSTALLED}


@dataclass(frozen=True, slots=True)
class PackageDiff:
    changes: tuple[PackageChange, ...]
    unresolved: tuple[str, ...]


def _key(p: Package) -> tuple[str, str, str]:
    where = parent(p.path) if p.ecosystem == "python" else p.path
    return (p.ecosystem, p.name, where)


def _unknown(a: View, b: View) -> list[str]:
    """Databases one side writes while the other keeps the unread base's copy."""
    out = []
    for path in DATABASES.values():
        sa, sb = a.state(path), b.state(path)
        if (sa is BASE) != (sb is BASE):
            out.append(path)
    return out


def diff_packages(a: View, b: View) -> PackageDiff:
    return package_diff(
        _unknown(a, b), inventory(a.tree, a.captured), inventory(b.tree, b.captured)
    )


def package_diff(
    unknown: list[str], before: Iterable[Package], after: Iterable[Package]
) -> PackageDiff:
    """The changes from the packages ``before`` to ``after``; ``unknown``: the databases one
    side writes while the other keeps the unread base's copy (their packages left out)."""
    skip = {eco for eco, path in DATABASES.items() if path in unknown}
    olds = {_key(p): p for p in before if p.ecosystem not in skip}
    news = {_key(p): p for p in after if p.ecosystem not in skip}
    out: list[PackageChange] = []
    for key in sorted(set(olds) | set(news)):
        old, new = olds.get(key), news.get(key)
        if old is not None and new is not None and old.version == new.version:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        shown = new if new is not None else old
        assert shown is not None
        out.append(
            PackageChange(
                key[0],
                key[1],
                status,  # type: ignore[arg-type]
                old.version if old else "",
                new.version if new else "",
                old.bytes if old else 0,
                new.bytes if new else 0,
                shown.path,
            )
        )
    out.sort(key=lambda c: (-abs(c.delta), c.ecosystem, c.name, c.path))
    return PackageDiff(tuple(out), tuple(unknown))
