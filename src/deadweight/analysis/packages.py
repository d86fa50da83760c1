"""Package inventories from the metadata package managers leave in the file system.

dpkg (``var/lib/dpkg/status``), apk (``lib/apk/db/installed``), npm (``package-lock.json``
v2/v3 and ``node_modules/.package-lock.json``) and Python (``*.dist-info/METADATA`` with
``RECORD``, ``*.egg-info/PKG-INFO``). The files are small; the layer reader keeps their
content (see :func:`capture`) while it streams each layer once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from deadweight.errors import CorruptImage
from deadweight.filetree.paths import lexical
from deadweight.filetree.tree import Tree
from deadweight.spec.document import decode_text

DPKG_STATUS = "var/lib/dpkg/status"
APK_INSTALLED = "lib/apk/db/installed"
_METADATA = re.compile(
    r"(?:^|/)[^/]+\.dist-info/(?:METADATA|RECORD)$|(?:^|/)[^/]+\.egg-info/PKG-INFO$"
)
_LOCK = re.compile(r"(?:^|/)\.?package-lock\.json$")
_CORE = re.compile(r"(?:^|/)core(?:\.\d+)?$")

MAX_DB = 32 << 20
MAX_LOCK = 32 << 20
MAX_RECORD = 4 << 20
MAX_HEADERS = 16 << 10


# Every path kept ends like one of these (or like "core.123"): one test for most files.
_TAILS = (
    "/status",
    "/installed",
    "package-lock.json",
    "/METADATA",
    "/RECORD",
    "/PKG-INFO",
    "core",
    "package.json",
    "etc/passwd",
    "etc/group",
    "entrypoint.sh",
)
# What ``optimize`` reads besides the lockfiles (a project's package.json, the user
# databases, the usual entrypoint scripts), kept by the same first read so that its plan
# opens no layer (issue 11); a script of another name is read when the plan needs it.
ACCOUNTS = ("etc/passwd", "etc/group")
ENTRYPOINTS = ("docker-entrypoint.sh", "entrypoint.sh")
MAX_PROJECT = 1 << 20


def capture(path: str) -> int:
    """How many bytes of ``path`` the layer reader should keep for the analyses."""
    if not path.endswith(_TAILS) and not (path[-1:].isdigit() and "core." in path):
        return 0
    if path in (DPKG_STATUS, APK_INSTALLED):
        return MAX_DB
    if path in ACCOUNTS or path.rpartition("/")[2] in ENTRYPOINTS:
        return MAX_PROJECT
    if path == "package.json" or path.endswith("/package.json"):
        return MAX_PROJECT if "node_modules/" not in path else 0
    if _LOCK.search(path):
        return MAX_LOCK if _project_lock(path) else 0
    if _METADATA.search(path):
        return MAX_RECORD if path.endswith("/RECORD") else MAX_HEADERS
    if _CORE.search(path):
        return 32
    return 0


def _project_lock(path: str) -> bool:
    """A project's lockfile, or its node_modules/.package-lock.json; not a dependency's."""
    if path.endswith("node_modules/.package-lock.json"):
        return path.count("node_modules/") == 1
    return "node_modules/" not in path


@dataclass(frozen=True, slots=True)
class Package:
    """An installed package: ``bytes`` installed (``declared`` when the manager says so
    rather than the files being counted), the layer that installed it, where it is recorded."""

    ecosystem: str
    name: str
    version: str
    bytes: int
    layer: int
    path: str
    declared: bool = False
    dev: bool = False


def stanzas(text: str) -> list[dict[str, str]]:
    """The paragraphs of a deb822 file (dpkg's status) as field -> value; continuation
    lines are joined to their field with newlines."""
    out: list[dict[str, str]] = []
    # each field's lines, joined when its paragraph ends: appending to the joined string
    # copied it once per continuation line (a field of a million lines: minutes)
    cur: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append({k: "\n".join(v) for k, v in cur.items()})
            cur, lines = {}, None
        elif line[0] in " \t":
            if lines is not None:
                lines.append(line.strip())
        else:
            key, _, value = line.partition(":")
            lines = cur[key] = [value.strip()]
    if cur:
        out.append({k: "\n".join(v) for k, v in cur.items()})
    return out


def parse_dpkg(text: str) -> list[tuple[str, str, int]]:
    """(name, version, installed bytes declared) of installed dpkg packages."""
    rows = []
    for s in stanzas(text):
        if "Package" in s and s.get("Status", "").endswith(" installed"):
            size = s.get("Installed-Size", "0").strip()
            name = s["Package"] + (f":{s['Architecture']}" if s.get("Multi-Arch") == "same" else "")
            # ASCII digits, as dpkg writes them, and no more than an int64 holds: a field of
            # 5,000 digits raised (Python's int-digits limit), "²" too (a digit to isdigit)
            known = size.isascii() and size.isdigit() and len(size) <= 18
            rows.append((name, s.get("Version", ""), int(size) * 1024 if known else 0))
    return rows


def parse_apk(text: str) -> list[tuple[str, str, int]]:
    rows = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if len(line) > 1 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" in fields:
            size = fields.get("I", "0")
            known = size.isascii() and size.isdigit() and len(size) <= 18  # as for dpkg
            rows.append((fields["P"], fields.get("V", ""), int(size) if known else 0))
    return rows


def parse_lock(text: str) -> list[tuple[str, str, str, bool]]:
    """(node_modules dir relative to the project, name, version, dev) of a v2/v3 lockfile."""
    try:
        doc = decode_text(text, "package-lock.json")
    except CorruptImage:
        return []
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, dict):
        return []
    rows = []
    for key, meta in packages.items():
        if not key or "node_modules/" not in key or not isinstance(meta, dict):
            continue
        name = meta.get("name") or key.rpartition("node_modules/")[2]
        dev = bool(meta.get("dev") or meta.get("devOptional"))
        rows.append((key, str(name), str(meta.get("version", "")), dev))
    return rows


def _headers(text: str) -> tuple[str, str]:
    name = version = ""
    for line in text.splitlines():
        if not line.strip():
            break
        if line.startswith("Name:") and not name:
            name = line[5:].strip()
        elif line.startswith("Version:") and not version:
            version = line[8:].strip()
    return name, version


def _bytes_under(tree: Tree, top: str) -> int:
    return tree.dir_sizes().get(top, 0)


def _installed_in(history: Sequence[tuple[int, list[tuple[str, str, int]]]]) -> dict[str, int]:
    """Layer in which each package's current version first appeared and stayed since."""
    since: dict[str, tuple[str, int]] = {}
    for layer, rows in history:
        current = {name: version for name, version, _ in rows}
        since = {
            n: (v, since[n][1] if n in since and since[n][0] == v else layer)
            for n, v in current.items()
        }
    return {n: layer for n, (_, layer) in since.items()}


def _db_packages(
    ecosystem: str, path: str, tree: Tree, texts: Sequence[tuple[int, str, str]], parse: object
) -> list[Package]:
    node = tree.get(path)
    if node is None or node.kind != "file":
        return []
    assert callable(parse)
    history = [
        (layer, parse(text)) for layer, p, text in texts if p == path and layer <= node.layer
    ]
    if not history:
        return []
    final = history[-1][1]
    first = _installed_in(history)
    return [Package(ecosystem, n, v, b, first[n], path, declared=True) for n, v, b in final]


def inventory(tree: Tree, captured: Sequence[tuple[int, str, bytes]]) -> tuple[Package, ...]:
    """Packages installed in ``tree``; ``captured`` is (layer, path, content), bottom first."""
    texts = [(layer, path, data.decode("utf-8", "replace")) for layer, path, data in captured]
    latest: dict[str, tuple[int, str]] = {}
    for layer, path, text in texts:
        node = tree.get(path)
        if node is not None and node.layer == layer:
            latest[path] = (layer, text)
    out = _db_packages("dpkg", DPKG_STATUS, tree, texts, parse_dpkg)
    out += _db_packages("apk", APK_INSTALLED, tree, texts, parse_apk)
    for path, (layer, text) in sorted(latest.items()):
        if _LOCK.search(path):
            out += _npm(tree, path, text)
        elif path.endswith(("/METADATA", "/PKG-INFO")):
            out += _python(tree, path, layer, text, latest)
    out.sort(key=lambda p: (-p.bytes, p.ecosystem, p.name, p.path))
    return tuple(out)


def _lock_rows(path: str, text: str) -> list[tuple[str, str, str, bool]]:
    """(package directory, name, version, dev) of the lockfile at ``path``."""
    project = path.rpartition("/")[0]
    if project.endswith("node_modules"):
        project = project.rpartition("/")[0]
    return [
        (f"{project}/{key}" if project else key, name, version, dev)
        for key, name, version, dev in parse_lock(text)
    ]


def _record_paths(meta_dir: str, text: str) -> list[str]:
    """The paths a dist-info ``RECORD`` lists, relative to the image root."""
    site = meta_dir.rpartition("/")[0]
    out = []
    for line in text.splitlines():
        rel = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
        out.append(lexical(site + "/" + rel.strip('"')))
    return out


def _npm(tree: Tree, path: str, text: str) -> list[Package]:
    rows = []
    for top, name, version, dev in _lock_rows(path, text):
        node = tree.get(top)
        if node is None or node.kind != "dir":
            continue
        rows.append(
            Package("npm", name, version, _bytes_under(tree, top), node.layer, top, dev=dev)
        )
    return rows


def _python(
    tree: Tree, path: str, layer: int, text: str, latest: Mapping[str, tuple[int, str]]
) -> list[Package]:
    name, version = _headers(text)
    if not name:
        return []
    meta_dir = path.rpartition("/")[0]
    record = latest.get(meta_dir + "/RECORD")
    total, declared = 0, False
    if record is not None:
        seen: set[int] = set()
        for listed in _record_paths(meta_dir, record[1]):
            node = tree.get(listed)
            if node is not None and node.inode >= 0 and node.inode not in seen:
                seen.add(node.inode)
                total += tree.inodes[node.inode].bytes
    else:
        total, declared = _bytes_under(tree, meta_dir), True
    return [Package("python", name, version, total, layer, meta_dir, declared=declared)]


def lookups(captured: Sequence[tuple[int, str, bytes]]) -> tuple[frozenset[str], frozenset[str]]:
    """Every path :func:`inventory` may look up in the tree for ``captured`` (the files'
    own, the package databases', the directories of lockfiles' packages and of Python
    distributions' metadata, the files their ``RECORD`` lists), and the package
    directories that some lockfile says are devDependencies: what a tree stacked in parts
    (:mod:`deadweight.filetree.partition`) keeps for the inventory and the bloat."""
    paths = {DPKG_STATUS, APK_INSTALLED}
    dev: set[str] = set()
    for _, path, data in captured:
        paths.add(path)
        if _LOCK.search(path):
            for top, _, _, is_dev in _lock_rows(path, data.decode("utf-8", "replace")):
                paths.add(top)
                if is_dev:
                    dev.add(top)
        elif path.endswith("/RECORD"):
            paths.update(_record_paths(path.rpartition("/")[0], data.decode("utf-8", "replace")))
        if path.endswith(("/METADATA", "/PKG-INFO")):
            paths.add(path.rpartition("/")[0])  # its size, without a RECORD
    return frozenset(paths), frozenset(dev)


def dev_dirs(packages: Sequence[Package]) -> tuple[str, ...]:
    """node_modules directories of npm devDependencies."""
    return tuple(sorted(p.path for p in packages if p.ecosystem == "npm" and p.dev))
