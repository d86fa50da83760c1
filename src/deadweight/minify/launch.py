"""The static closure of what the container starts: its command lines followed through the
image (``analysis.entrypoint``), the files they name, the app directory, and what an
interpreter needs beside its binary (Python's standard library and the distributions on
its path; node carries its own library inside the binary)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from deadweight.analysis.entrypoint import (
    command_lines,
    env_of,
    health_line,
    path_dirs,
    read_command,
)
from deadweight.analysis.packages import parse_lock
from deadweight.minify.evidence import Reason
from deadweight.minify.packages import npm_dependencies, npm_resolve

if TYPE_CHECKING:
    from deadweight.minify.keeper import Keeper

# A WORKDIR that is one of these is not an app directory: keeping it whole would keep the
# system.
SYSTEM_DIRS = frozenset(
    [
        "bin",
        "sbin",
        "lib",
        "lib32",
        "lib64",
        "usr",
        "usr/bin",
        "usr/sbin",
        "usr/lib",
        "usr/lib64",
        "usr/local",
        "usr/local/bin",
        "usr/local/sbin",
        "usr/local/lib",
        "usr/share",
        "usr/local/share",
        "usr/include",
        "etc",
        "var",
        "var/lib",
        "var/cache",
        "var/log",
        "opt",
        "root",
        "home",
        "srv",
        "tmp",
        "var/tmp",
        "run",
        "dev",
        "proc",
        "sys",
        "mnt",
        "media",
        "boot",
    ]
)
_PYTHON = re.compile(r"python(?:\d(?:\.\d+)?)?")
_SITES = ("site-packages", "dist-packages")
_NOT_RUNTIME = ("-dev", "-dbg", "-testsuite", "-doc")
_LIBRARIES = {
    "perl": re.compile(r"perl(?:\d[\d.]*)?"),
    "ruby": re.compile(r"ruby(?:\d[\d.]*)?"),
    "java": re.compile(r"java"),
}
_JAVA_SOURCES = ("/src.zip",)  # a JDK's sources, never read at run time
_MODULES = (".pm", ".pl", ".pmc", ".al", ".ix", ".so", ".rb", ".gemspec")
_USED = frozenset({Reason.TRACED, Reason.ENTRYPOINT, Reason.USER})  # not essentials
_INSTALLERS = frozenset({"pip", "setuptools", "wheel", "distribute"})


def static_closure(k: Keeper, runs: Sequence[Sequence[str]], deps_whole: bool) -> None:
    """Keep the command lines' programs (the ``HEALTHCHECK``'s too: the engine runs it in
    the container), the files they name and the app directory; with
    ``deps_whole`` also the app's production npm tree: its ``package.json`` dependencies
    and the lockfiles' entries not marked ``dev`` (``devOptional`` counts as dev, as
    ``parse_lock`` reads it), with what they depend on."""
    ctx = k.ctx
    config = ctx.config
    workdir = str(config.get("WorkingDir") or "/")
    entrypoint = config.get("Entrypoint")
    args_from = len(entrypoint) if isinstance(entrypoint, list) and entrypoint else None
    health = health_line(config)
    for line in [*command_lines(config, runs), *([health] if health else [])]:
        reading = read_command(
            line,
            resolver=ctx.resolver,
            read=ctx.scan.read,
            path=path_dirs(config),
            workdir=workdir,
            args_from=None if line is health else args_from,
        )
        for program in reading.programs:
            for link in program.links:
                k.add(link, Reason.STRUCTURE)
            k.add(program.path, Reason.ENTRYPOINT)
        for name in reading.missing:
            k.missing[f"command {name}"] = None
        for word in line[1:]:  # files the command line names: node server.js
            if word.startswith("-") or "$" in word or "\n" in word:
                continue
            hit = ctx.resolver.resolve(posixpath.join(workdir, word))
            if hit.node is not None and hit.node.kind in ("file", "hardlink"):
                k.keep(hit.path, Reason.ENTRYPOINT)
    app = workdir.strip("/")
    node = ctx.tree.get(app)
    if app and app not in SYSTEM_DIRS and node is not None and node.kind == "dir":
        k.add(app, Reason.ENTRYPOINT)
        start = len(app) + 1
        venvs = tuple(
            p[: -len("/pyvenv.cfg")] + "/" for p in ctx.below(app) if p.endswith("/pyvenv.cfg")
        )
        for path in ctx.below(app):
            if "node_modules" in path[start:].split("/") or path.startswith(venvs):
                continue  # dependencies: the package closure and the interpreter decide
            k.add(path, Reason.ENTRYPOINT)
        manifest = ctx.scan.texts.get(f"{app}/package.json")
        if manifest is not None and deps_whole:
            npm_dirs = {key[4:] for key in ctx.packages.packages if key.startswith("npm:")}
            found = (
                npm_resolve(app, name, dict.fromkeys(npm_dirs))
                for name in npm_dependencies(manifest)
            )
            keys = [f"npm:{d}" for d in found if d is not None]
            for lock in (f"{app}/package-lock.json", f"{app}/node_modules/.package-lock.json"):
                text = ctx.scan.texts.get(lock)
                if text is None:
                    continue  # the lockfile's production entries: installed, not declared
                for key, _, _, dev in parse_lock(text.decode("utf-8", "replace")):
                    if not dev and f"{app}/{key}" in npm_dirs:
                        keys.append(f"npm:{app}/{key}")
            for key in ctx.packages.closure(keys):
                k.keep_package(key)
    for d in env_of(config).get("PYTHONPATH", "").split(":"):
        if d.strip("/") and d.strip("/") not in SYSTEM_DIRS:
            k.keep(posixpath.join(workdir, d), Reason.ENTRYPOINT, whole=True)


def copied(k: Keeper) -> None:
    """Keep the whole of what one ``COPY`` or ``ADD`` of the image's own build put in the
    image (still there, a later ``RUN chown`` included) when the app used any of it: one
    instruction copies one thing (a static site, templates, a configuration directory),
    read on paths no probe took (nginx's document root, of which the probe fetched one
    page). What nothing used is left out (a ``COPY`` of files the app never opens), but
    with ``--static`` nothing tells what was used, and every ``COPY`` stays. Files a
    package manager owns are left to the package closure (``COPY node_modules``, a copied
    virtual environment's distributions), and so is all of a ``node_modules`` tree: its
    ``.bin`` links name devDependencies' scripts, which would make the whole dev tree
    used; directories count only when empty."""
    ctx = k.ctx
    for layer in sorted(ctx.copied):
        if layer >= len(ctx.deltas):
            continue
        wrote = []
        for entry in ctx.deltas[layer].entries:
            node = ctx.tree.get(entry.path)
            if node is None or entry.path in ctx.packages.owner:
                continue
            if "node_modules" in entry.path.split("/"):
                continue
            if node.kind != "dir" or not ctx.below(entry.path):
                wrote.append(entry.path)
        if not k.traced or any(k.kept.get(path, set()) & _USED for path in wrote):
            for path in wrote:
                k.add(path, Reason.COPIED)


def interpreter(k: Keeper, path: str) -> None:
    """For a Python interpreter at ``path`` (a file, or a venv's link to one): its standard
    library (``PREFIX/lib/pythonX.Y`` beside ``PREFIX/bin``) and a venv's ``pyvenv.cfg``,
    then the distributions on its path (see :func:`_sites`). Debian's interpreter in
    ``/usr`` also reads ``/usr/local/lib/pythonX.Y/dist-packages``, where ``pip``
    installs.

    Where the system's package manager installed the standard library (Debian's
    ``libpython3.11-minimal``, ``-stdlib``), the packages owning its modules (``.py`` files
    and ``lib-dynload``) are kept whole, but not the ones Debian names for development,
    debugging, tests or docs (``-dev``, ``-dbg``, ``-testsuite``, ``-doc``: static
    libraries, headers, the test suite), which hold files of the same directory; compiled
    ``__pycache__`` files follow their sources."""
    if _PYTHON.fullmatch(posixpath.basename(path)) is None:
        _library(k, path)
        return
    ctx = k.ctx
    prefix = posixpath.dirname(posixpath.dirname(path))
    k.keep(f"{prefix}/pyvenv.cfg", Reason.ENTRYPOINT)
    sites: list[str] = []
    owners: set[str] = set()
    for d in _python_dirs(k, f"{prefix}/lib" if prefix else "lib"):
        k.add(d, Reason.ENTRYPOINT)
        for below in ctx.below(d):
            rest = below[len(d) + 1 :]
            if rest.split("/", 1)[0] in _SITES:
                continue
            owner = ctx.packages.owner.get(below)
            if owner is not None:
                if rest.endswith(".py") or rest.startswith("lib-dynload/"):
                    owners.add(owner)  # a package of modules, not of build files
            elif "__pycache__/" not in rest:
                k.add(below, Reason.ENTRYPOINT)
        sites += [f"{d}/{s}" for s in _SITES]
    for owner in sorted(owners):
        if not owner.endswith(_NOT_RUNTIME):
            k.keep_package(owner)
            for key in ctx.packages.closure([owner]):
                k.keep_package(key)
    if prefix == "usr":
        sites += [f"{d}/{s}" for d in _python_dirs(k, "usr/local/lib") for s in _SITES]
    _sites(k, [s for s in sites if s in ctx.tree.nodes])


def _library(k: Keeper, path: str) -> None:
    """For a Perl, Ruby or Java runtime at ``PREFIX/bin/NAME``: its library, which a lazy
    ``require`` reads (or the JVM ``dlopen``s: ``libawt.so`` for the first image) only on
    the path that needs it (``require JSON::PP`` in a handler no probe called). Where a
    package manager installed it (Debian splits Perl's across ``perl-base``,
    ``perl-modules-X.Y`` and ``libperlX.Y``), the packages owning its modules are kept
    whole, but not the ``-dev``, ``-dbg`` or ``-doc`` ones; files no package owns (a build
    from source, a JDK unpacked from a tarball as the official Java images do, ``cpanm``
    and ``gem`` installs) are kept as they are. A Java home is ``PREFIX`` when it holds
    ``lib/modules`` (or ``lib/rt.jar``): its ``lib`` and ``conf``, not a JDK's
    ``lib/src.zip``. Debian's separately packaged Perl modules (``/usr/share/perl5``) are
    left to the package closure."""
    up, _, name = path.rpartition("/")
    language = next((lang for lang, rx in _LIBRARIES.items() if rx.fullmatch(name)), None)
    if language is None or posixpath.basename(up) != "bin":
        return
    ctx = k.ctx
    prefix = posixpath.dirname(up)
    lib, share = (f"{prefix}/lib", f"{prefix}/share") if prefix else ("lib", "share")
    if language == "java":
        node = ctx.tree.get(path)
        home = node is not None and node.kind in ("file", "hardlink")
        if not home or not any(f"{lib}/{f}" in ctx.tree.nodes for f in ("modules", "rt.jar")):
            return  # a link to the real one (followed), or not a Java home
    tops = {"perl": (f"{lib}/perl5", f"{share}/perl", f"{lib}/*/perl", f"{lib}/*/perl-base"),
            "ruby": (f"{lib}/ruby", f"{lib}/*/ruby"),
            "java": (lib, f"{prefix}/conf" if prefix else "conf")}[language]  # fmt: skip
    modules = () if language == "java" else _MODULES  # "" ends every name
    owners: set[str] = set()
    for top in tops:
        for d in _dirs(k, top):
            for below in ctx.below(d):
                if below.endswith(_JAVA_SOURCES):
                    continue  # nor does it make its package a runtime's (Debian's JDK)
                owner = ctx.packages.owner.get(below)
                if owner is None:
                    if ctx.tree.nodes[below].kind != "dir":
                        k.add(below, Reason.ENTRYPOINT)
                elif not modules or below.endswith(modules):
                    owners.add(owner)
    for owner in sorted(owners):
        if not owner.endswith(_NOT_RUNTIME):
            for key in ctx.packages.closure([owner]):
                k.keep_package(key)


def _dirs(k: Keeper, pattern: str) -> list[str]:
    """The directories ``pattern`` names (one ``*`` for one path component)."""
    ctx = k.ctx
    head, star, tail = pattern.partition("/*/")
    if not star:
        node = ctx.tree.get(pattern)
        return [pattern] if node is not None and node.kind == "dir" else []
    depth = head.count("/") + 1
    out = []
    for d in ctx.below(head):
        if d.count("/") == depth and ctx.tree.nodes[d].kind == "dir":
            out += _dirs(k, f"{d}/{tail}")
    return out


def _sites(k: Keeper, sites: list[str]) -> None:
    """The site directories: with ``--static`` whole; with evidence and ``--packages
    touched`` every distribution installed there by its RECORD (with its dependencies)
    but the installers (pip, setuptools, wheel: kept when used), and the files no package
    owns; otherwise nothing (what was traced is kept)."""
    ctx = k.ctx
    if not k.deps_whole:
        return
    if not k.traced:
        for site in sites:
            k.keep(site, Reason.PACKAGE, whole=True)
    tops = tuple(s + "/" for s in sites)
    for key, pkg in ctx.packages.packages.items():
        if pkg.manager != "python" or not key[7:].startswith(tops):
            continue
        if k.traced and pkg.name.lower() in _INSTALLERS:
            continue
        for dep in ctx.packages.closure([key]):
            k.keep_package(dep)
    if k.traced:
        for site in sites:
            for below in ctx.below(site):
                if ctx.tree.nodes[below].kind != "dir" and below not in ctx.packages.owner:
                    k.add(below, Reason.PACKAGE)


def _python_dirs(k: Keeper, lib: str) -> list[str]:
    """The ``python*`` directories directly in ``lib``."""
    ctx = k.ctx
    depth = lib.count("/") + 1
    return [
        d
        for d in ctx.below(lib)
        if d.count("/") == depth
        and d.rpartition("/")[2].startswith("python")
        and ctx.tree.nodes[d].kind == "dir"
    ]
