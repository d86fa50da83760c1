"""The package databases of a minified image, rewritten to list what remains.

Scanners (trivy, grype, syft, ``docker scout``) read an image's packages from the package
managers' own databases: ``var/lib/dpkg/status`` with ``var/lib/dpkg/info/NAME.list`` and
``.md5sums``, apk's ``lib/apk/db/installed``, a Python distribution's ``.dist-info``
``METADATA``. Dropping them would hide every package that remains (and its known
vulnerabilities); keeping them as they were would list packages minify removed. So the
databases are kept, rewritten: a package stays listed when at least one of its files is
kept, or when it owned no file in the image to begin with (a metapackage: minify changed
nothing about it). Records are copied byte for byte, in their order; only whole records
are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from deadweight.analysis.packages import APK_INSTALLED, DPKG_STATUS
from deadweight.minify.evidence import Reason
from deadweight.minify.keeper import Keeper

DPKG_INFO = "var/lib/dpkg/info"
# what dpkg keeps per package that scanners read (file lists and checksums)
DPKG_INFO_KEPT = (".list", ".md5sums")


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A package database written anew: ``path`` (absolute) now holds ``data``, listing
    ``listed`` of the ``total`` packages it listed before (``size`` bytes then)."""

    path: str
    manager: str
    data: bytes
    mode: int
    size: int
    listed: int
    total: int

    @property
    def changed(self) -> bool:
        """Whether a record was left out (records are copied whole, so the size tells)."""
        return len(self.data) != self.size


def keep_databases(k: Keeper) -> tuple[Rewrite, ...]:
    """Keep the databases of the packages that remain (call once the closures are done,
    before the structure): the rewritten dpkg status and apk database, the dpkg file lists
    and checksums and the Python ``METADATA`` of each package that stays listed."""
    out = []
    info = _dpkg_info(k)
    dpkg = _rewrite(k, DPKG_STATUS, "dpkg", _dpkg_name)
    if dpkg is not None:
        out.append(dpkg[0])
        for name in dpkg[1]:
            for path in info.get(name, ()):
                k.keep(path, Reason.DATABASE)
    apk = _rewrite(k, APK_INSTALLED, "apk", _apk_name)
    if apk is not None:
        out.append(apk[0])
    for key, package in k.ctx.packages.packages.items():
        if package.manager == "python" and _remains(k, key):
            k.keep(f"{key.partition(':')[2]}/METADATA", Reason.DATABASE)
    return tuple(out)


def _remains(k: Keeper, key: str) -> bool:
    package = k.ctx.packages.packages.get(key)
    if package is None:
        return True  # a record the index did not take: left as it was
    return not package.files or any(path in k.kept for path in package.files)


def _rewrite(
    k: Keeper, path: str, manager: str, name_of: Callable[[bytes], str | None]
) -> tuple[Rewrite, list[str]] | None:
    """The database at ``path`` without the records of packages that do not remain, and
    the names of those that do."""
    data = k.ctx.scan.texts.get(path)
    node = k.ctx.tree.nodes.get(path)
    if data is None or node is None or node.kind != "file":
        return None
    kept: list[bytes] = []
    names: list[str] = []
    total = 0
    for record in _records(data):
        name = name_of(record)
        if name is None:
            kept.append(record)  # not an installed package's record: copied as it is
            continue
        total += 1
        if _remains(k, f"{manager}:{name}"):
            kept.append(record)
            names.append(name)
    k.keep(path, Reason.DATABASE)
    mode = node.mode & 0o7777
    rewrite = Rewrite("/" + path, manager, b"".join(kept), mode, len(data), len(names), total)
    return rewrite, names


def _dpkg_info(k: Keeper) -> dict[str, list[str]]:
    """Package name -> its ``info/NAME[:ARCH].list`` and ``.md5sums`` paths."""
    out: dict[str, list[str]] = {}
    for path in k.ctx.below(DPKG_INFO):
        base = path.rpartition("/")[2]
        stem, dot, suffix = base.rpartition(".")
        if dot and "." + suffix in DPKG_INFO_KEPT:
            out.setdefault(stem.partition(":")[0], []).append(path)
    return out


def _records(data: bytes) -> Iterator[bytes]:
    """The records of a dpkg status or apk database (blank-line separated), each with the
    blank lines that end it, so that joining them gives ``data`` back."""
    start = offset = 0
    blank = False
    for line in data.splitlines(keepends=True):
        is_blank = not line.strip()
        if blank and not is_blank:
            yield data[start:offset]
            start = offset
        blank = is_blank
        offset += len(line)
    if start < len(data):
        yield data[start:]


def _dpkg_name(record: bytes) -> str | None:
    """The package name of an installed dpkg stanza (None for any other record: a
    package in another state, such as ``config-files``, is left as it was)."""
    name = status = None
    for line in record.splitlines():
        if line.startswith(b"Package:"):
            name = line[8:].strip().decode("utf-8", "replace")
        elif line.startswith(b"Status:"):
            status = line[7:].strip()
    if not name or status is None or not status.endswith(b" installed"):
        return None
    return name


def _apk_name(record: bytes) -> str | None:
    for line in record.splitlines():
        if line.startswith(b"P:"):
            return line[2:].strip().decode("utf-8", "replace") or None
    return None
