"""Which package owns each file, and what each package depends on: dpkg, apk, npm, Python.

- dpkg: ``var/lib/dpkg/status`` (installed packages, ``Depends``, ``Pre-Depends``,
  ``Provides``) and ``var/lib/dpkg/info/NAME[:ARCH].list`` (their files).
- apk: ``lib/apk/db/installed`` (``P:`` name, ``F:``/``R:`` files, ``D:`` dependencies,
  ``p:`` what it provides, such as ``so:libz.so.1`` or ``cmd:sh``).
- npm: every ``node_modules/NAME/package.json`` (``@scope/NAME`` too); a package owns its
  directory but not its own ``node_modules``; dependencies (``dependencies``,
  ``optionalDependencies``, ``peerDependencies``) resolve the way node does, from the
  package's directory up through each ``node_modules``.
- Python: ``*.dist-info/RECORD`` (files, relative to the site directory) and ``METADATA``
  (``Requires-Dist``, without the ones only an extra asks for).

A dependency is followed only to a package that is installed: of the alternatives
``a | b`` the first one installed (or provided by an installed package) is taken, and a
dependency nothing installed satisfies is dropped, so a closure never grows beyond what the
image holds. dpkg dependencies on ``Essential: yes`` packages and on the tools only
maintainer scripts use (:data:`INSTALL_TIME`) are not followed: Debian policy (3.5) has
packages declare a dependency on an essential package only for a version their scripts
need, and a minified image never runs a maintainer script again (``dash`` depends on
``dpkg``; keeping dpkg, tar and their libraries for it would keep what minify removes).
A package whose own files are used is still kept, and shared libraries are kept by the ELF
closure whatever the metadata says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from deadweight.analysis.packages import APK_INSTALLED, DPKG_STATUS, stanzas
from deadweight.errors import CorruptImage
from deadweight.filetree.resolve import Resolver
from deadweight.filetree.tree import Tree
from deadweight.spec.document import decode_text

INSTALL_TIME = frozenset(
    {"debconf", "debconf-2.0", "cdebconf", "adduser", "ucf", "init-system-helpers",
     "install-info", "lsb-base", "sysvinit-utils", "dpkg"}
)  # fmt: skip
# Packages for building or debugging (headers, static libraries, link-time .so links,
# debug symbols, docs), which no running program opens: never followed as a dependency
# (Debian's npm -> node-gyp -> libnode-dev -> libssl-dev -> libc6-dev), kept when used.
_BUILD_ONLY = re.compile(r"-(?:dev|dbg|dbgsym|doc)$")
_NPM_DEPS = ("dependencies", "optionalDependencies", "peerDependencies")
_DEP_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._+-]*)")
_PEP503 = re.compile(r"[-_.]+")


@dataclass(frozen=True, slots=True)
class Package:
    """An installed package: ``key`` is unique in the image (``dpkg:bash``,
    ``npm:app/node_modules/express``), ``files`` its non-directory tree paths."""

    key: str
    manager: str
    name: str
    files: tuple[str, ...]
    depends: tuple[str, ...] = ()


@dataclass
class PackageIndex:
    """Every package found, and the owner of each file."""

    packages: dict[str, Package] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)

    def add(self, package: Package) -> None:
        self.packages[package.key] = package
        for path in package.files:
            self.owner.setdefault(path, package.key)

    def closure(self, keys: Iterable[str]) -> set[str]:
        """``keys`` and every package they depend on, transitively."""
        out: set[str] = set()
        todo = [k for k in keys if k in self.packages]
        while todo:
            key = todo.pop()
            if key in out:
                continue
            out.add(key)
            todo.extend(d for d in self.packages[key].depends if d not in out)
        return out


def index(tree: Tree, resolver: Resolver, texts: Mapping[str, bytes]) -> PackageIndex:
    """The packages of ``tree``; ``texts`` holds the content of the metadata files."""
    out = PackageIndex()
    _dpkg(out, tree, resolver, texts)
    _apk(out, tree, texts)
    _npm(out, tree, texts)
    _python(out, tree, resolver, texts)
    return out


def _text(texts: Mapping[str, bytes], path: str) -> str | None:
    data = texts.get(path)
    return None if data is None else data.decode("utf-8", "replace")


def _owned(tree: Tree, resolver: Resolver, names: Iterable[str]) -> tuple[str, ...]:
    """Tree paths of the non-directories listed (parents resolved, the name itself not)."""
    out: dict[str, None] = {}
    for name in names:
        hit = resolver.resolve(name, follow=False)
        if hit.node is not None and hit.node.kind != "dir":
            out[hit.path] = None
    return tuple(out)


def _first_installed(groups: str, installed: Mapping[str, str]) -> list[str]:
    """Keys of the dependencies in a ``Depends`` value (``a (>= 1) | b, c:any``)."""
    out = []
    for group in groups.split(","):
        for alt in group.split("|"):
            m = _DEP_NAME.match(alt)
            if m is not None and m.group(1) in installed:
                out.append(installed[m.group(1)])
                break
    return out


def _dpkg(out: PackageIndex, tree: Tree, resolver: Resolver, texts: Mapping[str, bytes]) -> None:
    status = _text(texts, DPKG_STATUS)
    if status is None:
        return
    rows = [
        s for s in stanzas(status) if "Package" in s and s.get("Status", "").endswith(" installed")
    ]
    installed: dict[str, str] = {}
    skip: set[str] = set()  # essential, install-time and build-only packages: satisfy, never follow
    for s in rows:
        installed[s["Package"]] = f"dpkg:{s['Package']}"
        if (
            s.get("Essential", "").lower() == "yes"
            or s["Package"] in INSTALL_TIME
            or _BUILD_ONLY.search(s["Package"])
        ):
            skip.add(f"dpkg:{s['Package']}")
    for s in rows:  # a virtual package resolves to the first installed package providing it
        for name in re.split(r"\s*,\s*", s.get("Provides", "")):
            m = _DEP_NAME.match(name)
            if m is not None:
                installed.setdefault(m.group(1), f"dpkg:{s['Package']}")
                if m.group(1) in INSTALL_TIME:
                    skip.add(f"dpkg:{s['Package']}")
    for s in rows:
        name, arch = s["Package"], s.get("Architecture", "")
        listed = (
            _text(texts, f"var/lib/dpkg/info/{name}:{arch}.list")
            or _text(texts, f"var/lib/dpkg/info/{name}.list")
            or ""
        )
        deps = ",".join(v for v in (s.get("Pre-Depends", ""), s.get("Depends", "")) if v)
        key = f"dpkg:{name}"
        depends = tuple(d for d in _first_installed(deps, installed) if d != key and d not in skip)
        files = _owned(tree, resolver, listed.splitlines())
        out.add(Package(key, "dpkg", name, files, depends))


def _apk(out: PackageIndex, tree: Tree, texts: Mapping[str, bytes]) -> None:
    db = _text(texts, APK_INSTALLED)
    if db is None:
        return
    blocks: list[tuple[str, list[str], list[str], list[str]]] = []
    provides: dict[str, str] = {}
    for block in db.split("\n\n"):
        name, folder, files, deps = "", "", [], []
        for line in block.splitlines():
            tag, value = line[:2], line[2:]
            if tag == "P:":
                name = value
            elif tag == "F:":
                folder = value
            elif tag == "R:":
                files.append(f"{folder}/{value}" if folder else value)
            elif tag == "D:":
                deps.extend(value.split())
            elif tag == "p:" and name:
                for word in value.split():
                    provides.setdefault(word.split("=", 1)[0], f"apk:{name}")
        if name:
            provides.setdefault(name, f"apk:{name}")
            blocks.append((name, files, deps, []))
    owners: dict[str, str] = {}
    for name, files, _, _ in blocks:
        for f in files:
            owners.setdefault(f, f"apk:{name}")
    for name, files, deps, _ in blocks:
        keys: list[str] = []
        for dep in deps:
            if dep.startswith("!"):
                continue  # a conflict, not a dependency
            bare = re.split(r"[<>=~]", dep, maxsplit=1)[0]
            hit = provides.get(bare) or owners.get(bare.lstrip("/"))
            if hit is not None and hit != f"apk:{name}" and not _BUILD_ONLY.search(hit):
                keys.append(hit)
        present = tuple(f for f in files if f in tree.nodes and tree.nodes[f].kind != "dir")
        out.add(Package(f"apk:{name}", "apk", name, present, tuple(dict.fromkeys(keys))))


def npm_package_dir(path: str) -> str | None:
    """The deepest ``.../node_modules/NAME`` (or ``@scope/NAME``) directory holding
    ``path`` (or being it)."""
    at = path.rfind("node_modules/")
    while at >= 0:
        if at == 0 or path[at - 1] == "/":
            rest = path[at + len("node_modules/") :].split("/")
            if rest[0].startswith("@") and len(rest) >= 2:
                return path[: at + len("node_modules/")] + "/".join(rest[:2])
            if rest[0] and not rest[0].startswith("."):
                return path[: at + len("node_modules/")] + rest[0]
        at = path.rfind("node_modules/", 0, at)
    return None


def npm_resolve(start: str, name: str, dirs: Mapping[str, object]) -> str | None:
    """Where node finds package ``name`` required from directory ``start``."""
    d = start
    while True:
        if not d.endswith("node_modules") and not d.rpartition("/")[2].startswith("@"):
            candidate = f"{d}/node_modules/{name}" if d else f"node_modules/{name}"
            if candidate in dirs:
                return candidate
        if not d:
            return None
        d = d.rpartition("/")[0]


def npm_dependencies(data: bytes) -> list[str]:
    """The production dependencies' names of a package.json."""
    try:
        doc = decode_text(data, "package.json")
    except CorruptImage:  # not JSON, or nested past the limit: no dependencies to follow
        return []
    out: list[str] = []
    if isinstance(doc, dict):
        for key in _NPM_DEPS:
            deps = doc.get(key)
            if isinstance(deps, dict):
                out.extend(str(k) for k in deps)
    return list(dict.fromkeys(out))


def _npm(out: PackageIndex, tree: Tree, texts: Mapping[str, bytes]) -> None:
    dirs: dict[str, bytes] = {}
    for path, data in texts.items():
        if path.endswith("/package.json"):
            top = path[: -len("/package.json")]
            if npm_package_dir(top) == top:
                dirs[top] = data
    if not dirs:
        return
    files: dict[str, list[str]] = {d: [] for d in dirs}
    for path, node in tree.nodes.items():
        if node.kind == "dir" or "node_modules/" not in path:
            continue
        holder = npm_package_dir(path)
        while holder is not None and holder not in files:  # a folder without package.json
            up = holder.rpartition("/node_modules/")[0]
            holder = npm_package_dir(up) if up else None
        if holder is not None:
            files[holder].append(path)
    for top, data in dirs.items():
        deps = [npm_resolve(top, name, dirs) for name in npm_dependencies(data)]
        depends = tuple(f"npm:{d}" for d in dict.fromkeys(deps) if d is not None)
        name = top.rpartition("node_modules/")[2]
        out.add(Package(f"npm:{top}", "npm", name, tuple(sorted(files[top])), depends))


def pep503(name: str) -> str:
    return _PEP503.sub("-", name).lower()


def _requires(metadata: str) -> list[str]:
    out = []
    for line in metadata.splitlines():
        if not line.strip():
            break  # the headers end at the first blank line; the description follows
        if line.startswith("Requires-Dist:"):
            spec = line[len("Requires-Dist:") :]
            marker = spec.partition(";")[2]
            if "extra" in marker:
                continue  # only an extra asks for it
            m = _DEP_NAME.match(spec)
            if m is not None:
                out.append(pep503(m.group(1)))
    return out


def _python(out: PackageIndex, tree: Tree, resolver: Resolver, texts: Mapping[str, bytes]) -> None:
    dists: dict[str, tuple[str, str, list[str], tuple[str, ...]]] = {}
    for path, data in texts.items():
        if not path.endswith(".dist-info/RECORD"):
            continue
        meta_dir = path[: -len("/RECORD")]
        site = meta_dir.rpartition("/")[0]
        metadata = _text(texts, meta_dir + "/METADATA") or ""
        name = next(
            (ln[5:].strip() for ln in metadata.splitlines() if ln.startswith("Name:")),
            meta_dir.rpartition("/")[2].split("-")[0],
        )
        rows = data.decode("utf-8", "replace").splitlines()
        names = [
            "/".join(p for p in (site, r.rsplit(",", 2)[0].strip('"')) if p)
            for r in rows
            if r.strip()
        ]
        files = _owned(tree, resolver, names)
        dists[meta_dir] = (pep503(name), site, _requires(metadata), files)
    by_name: dict[tuple[str, str], str] = {}
    for meta_dir, (name, site, _, _) in dists.items():
        by_name.setdefault((site, name), meta_dir)
        by_name.setdefault(("", name), meta_dir)
    for meta_dir, (name, site, requires, files) in dists.items():
        deps = [by_name.get((site, r)) or by_name.get(("", r)) for r in requires]
        depends = tuple(f"python:{d}" for d in dict.fromkeys(deps) if d and d != meta_dir)
        out.add(Package(f"python:{meta_dir}", "python", name, files, depends))
