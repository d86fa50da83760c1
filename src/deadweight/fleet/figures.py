"""One image of a fleet in a few figures, taken from its full :class:`Analysis`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deadweight.analysis.packages import Package
from deadweight.analysis.report import Analysis

TOP_FIXES = 3
# Packages a runtime image rarely needs: compilers, headers and build tools (the
# ``toolchain`` bloat category's packages), and the package managers' own build helpers.
_BUILD_TOOLS = re.compile(
    r"^(?:gcc(?:-\d+)?|g\+\+(?:-\d+)?|cpp(?:-\d+)?|clang(?:-\d+)?|llvm(?:-\d+)?|binutils"
    r"|make|cmake|build-essential|autoconf|automake|libtool|pkg-config|pkgconf|bison|flex"
    r"|linux-headers(?:-.*)?|musl-dev|libc6?-dev|.+-dev|node-gyp|cython|setuptools-scm"
    r"|git|patch)$"
)


@dataclass(frozen=True, slots=True)
class NotablePackage:
    """A package worth a look in a runtime image, and why (``dev`` or ``build tool``)."""

    ecosystem: str
    name: str
    version: str
    bytes: int
    why: str


@dataclass(frozen=True, slots=True)
class Fix:
    id: str
    title: str
    bytes: int


@dataclass(frozen=True, slots=True)
class ImageFigures:
    """What ``deadweight analyze`` says of one image, in the figures a fleet compares.

    ``size`` is docker's (the sum of its layer sizes), ``reclaimable`` the bytes that later
    layers hide (``analyze``'s waste), ``causes`` those bytes by cause, ``bloat`` the bytes
    still in the final file system by category. ``diff_ids`` are its layers, bottom first.
    """

    name: str
    source: str
    image_id: str
    digest: str
    diff_ids: tuple[str, ...]
    size: int
    final_size: int
    reclaimable: int
    wasted_percent: float
    causes: tuple[tuple[str, int], ...]
    bloat: tuple[tuple[str, int], ...]
    fixes: tuple[Fix, ...]
    notable: tuple[NotablePackage, ...]


def image_figures(analysis: Analysis, *, name: str, source: str, digest: str) -> ImageFigures:
    causes = tuple(
        sorted(((c, b) for c, b in analysis.waste.by_cause if b), key=lambda cb: (-cb[1], cb[0]))
    )
    bloat = tuple(
        sorted(((c, b) for c, b in analysis.bloat.by_category if b), key=lambda cb: (-cb[1], cb[0]))
    )
    return ImageFigures(
        name=name,
        source=source,
        image_id=analysis.image_id,
        digest=digest,
        diff_ids=tuple(layer.diff_id for layer in analysis.layers),
        size=analysis.size,
        final_size=analysis.final_size,
        reclaimable=analysis.waste.reclaimable,
        wasted_percent=analysis.wasted_percent,
        causes=causes,
        bloat=bloat,
        fixes=tuple(Fix(r.id, r.title, r.bytes) for r in analysis.recommendations[:TOP_FIXES]),
        notable=notable_packages(analysis.packages),
    )


def notable_packages(packages: tuple[Package, ...]) -> tuple[NotablePackage, ...]:
    """Dev dependencies and build tools, largest first."""
    found: list[NotablePackage] = []
    for p in packages:
        why = "dev" if p.dev else "build tool" if _BUILD_TOOLS.match(p.name.lower()) else ""
        if why:
            found.append(NotablePackage(p.ecosystem, p.name, p.version, p.bytes, why))
    return tuple(sorted(found, key=lambda n: (-n.bytes, n.ecosystem, n.name, n.version)))
