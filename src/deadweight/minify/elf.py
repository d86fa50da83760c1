"""ELF files: what each one asks the dynamic loader for, and the closure of those asks in a
merged tree.

pyelftools reads the program headers and the dynamic section: ``PT_INTERP`` (the loader an
executable names), ``DT_NEEDED``, ``DT_RPATH``, ``DT_RUNPATH`` and ``DT_SONAME``. The closure
searches the way glibc's ld.so does (ld.so(8)): a name with a slash is a path;
otherwise ``DT_RPATH`` of the object and of its loaders when it has no ``DT_RUNPATH``,
``LD_LIBRARY_PATH``, ``DT_RUNPATH``, the directories of ``/etc/ld.so.conf`` (what
``ld.so.cache`` was built from; the cache itself is kept as a file), then the default and
multiarch directories. musl reads ``/etc/ld-musl-ARCH.path`` instead. ``$ORIGIN``,
``$LIB`` and ``$PLATFORM`` are expanded; a library of another class or machine is skipped,
as the loader skips it.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO

from deadweight.errors import CorruptImage
from deadweight.filetree.resolve import Resolver
from deadweight.limits import LD_CONF_MATCHES, LD_LOOKUPS

# e_machine -> Debian multiarch triplet and ld.so's $PLATFORM
_MULTIARCH = {
    "EM_X86_64": ("x86_64-linux-gnu", "x86_64"),
    "EM_AARCH64": ("aarch64-linux-gnu", "aarch64"),
    "EM_386": ("i386-linux-gnu", "i686"),
    "EM_ARM": ("arm-linux-gnueabihf", "v7l"),
    "EM_PPC64": ("powerpc64le-linux-gnu", "powerpc64le"),
    "EM_S390": ("s390x-linux-gnu", "s390x"),
    "EM_RISCV": ("riscv64-linux-gnu", "riscv64"),
    "EM_MIPS": ("mips64el-linux-gnuabi64", "mips64"),
}
_TAGS = {"DT_NEEDED": "needed", "DT_RPATH": "rpath", "DT_RUNPATH": "runpath", "DT_SONAME": "soname"}
_HWCAPS = ("x86-64-v4", "x86-64-v3", "x86-64-v2", "power10", "power9", "z16", "z15", "z14")


@dataclass(frozen=True, slots=True)
class ElfInfo:
    """The loader's view of one ELF file."""

    bits: int  # 32 or 64
    machine: str  # pyelftools' e_machine name, e.g. "EM_X86_64"
    interp: str = ""
    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    soname: str = ""


def read_elf(stream: IO[bytes]) -> ElfInfo | None:
    """The dynamic-loading facts of the seekable ELF file ``stream``; None if it is not a
    readable ELF file."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSegment
    from elftools.elf.elffile import ELFFile
    from elftools.elf.segments import InterpSegment

    try:
        elf = ELFFile(stream)
        interp, soname = "", ""
        needed: list[str] = []
        rpath: list[str] = []
        runpath: list[str] = []
        for segment in elf.iter_segments():
            if isinstance(segment, InterpSegment):
                interp = str(segment.get_interp_name())
            elif isinstance(segment, DynamicSegment):
                for tag in segment.iter_tags():
                    t = tag.entry.d_tag
                    attr = _TAGS.get(t)
                    if attr is None:
                        continue
                    value = str(getattr(tag, attr))  # pyelftools sets these per tag
                    if t == "DT_NEEDED":
                        needed.append(value)
                    elif t == "DT_RPATH":
                        rpath.extend(p for p in value.split(":") if p)
                    elif t == "DT_RUNPATH":
                        runpath.extend(p for p in value.split(":") if p)
                    else:
                        soname = value
        return ElfInfo(
            elf.elfclass,
            str(elf["e_machine"]),
            interp,
            tuple(needed),
            tuple(rpath),
            tuple(runpath),
            soname,
        )
    # a damaged or hostile file: pyelftools raises ELFError, but also struct, value, index,
    # key and unicode errors from the fields it decodes. Such a file is kept with no asks.
    except (ELFError, ValueError, KeyError, IndexError, UnicodeError, OSError, AssertionError):
        return None
    except Exception:
        return None


@dataclass(frozen=True, slots=True)
class Need:
    """One ask of ``owner`` the loader satisfies with ``path`` (a tree path) through ``links``;
    ``path`` is "" when nothing in the image satisfies it."""

    owner: str
    name: str
    path: str
    links: tuple[str, ...] = ()


def conf_dirs(texts: Mapping[str, bytes], tree_paths: Iterable[str]) -> tuple[str, ...]:
    """Library directories of ``etc/ld.so.conf`` and what it includes (``texts`` holds the
    content of the files under ``etc/``), then of musl's ``etc/ld-musl-*.path``.

    The image controls the files, so the includes are followed with a stack, never by
    recursion (a chain of included files is as deep as it likes), each pattern is expanded
    once, over the files it can name (those read, under the pattern's literal prefix), and
    the matching done is bounded by ``LD_CONF_MATCHES``."""
    live = set(tree_paths)
    readable = sorted(p for p in texts if p in live)  # only a read file can be included
    out: list[str] = []
    seen: set[str] = set()
    expanded: set[str] = set()
    budget = [LD_CONF_MATCHES]

    def hits(pattern: str) -> list[str]:
        if pattern in expanded:
            return []  # already expanded: its files are read or on their way
        expanded.add(pattern)
        magic = min((i for i in map(pattern.find, "*?[") if i >= 0), default=len(pattern))
        if magic == len(pattern):  # no wildcard: the file itself
            return [pattern] if pattern in texts and pattern in live else []
        prefix, found = pattern[:magic], []
        match = re.compile(fnmatch.translate(pattern)).match
        for i in range(bisect_left(readable, prefix), len(readable)):
            name = readable[i]
            if not name.startswith(prefix):
                break
            budget[0] -= 1
            if budget[0] < 0:
                raise CorruptImage(
                    "etc/ld.so.conf: its include patterns are compared with more than "
                    f"{LD_CONF_MATCHES} file names; refused"
                )
            if match(name):
                found.append(name)
        return found

    def lines(path: str) -> Iterator[tuple[str, str]]:
        for raw in texts[path].decode("utf-8", "replace").splitlines():
            yield path, raw

    # each frame yields ("", a file to read) or (the file being read, one of its lines)
    stack: list[Iterator[tuple[str, str]]] = [iter([("", "etc/ld.so.conf")])]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        path, text = item
        if not path:
            if text not in seen and text in texts:
                seen.add(text)
                stack.append(lines(text))
            continue
        line = text.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include "):
            found: list[str] = []
            for pattern in line[8:].split():
                pattern = (
                    pattern.lstrip("/")
                    if pattern.startswith("/")
                    else (posixpath.join(posixpath.dirname(path), pattern))
                )
                found.extend(hits(pattern))
            stack.append(iter([("", hit) for hit in found]))
        elif not line.startswith("hwcap "):
            out.extend(d for d in line.replace(",", " ").replace(":", " ").split())

    for path in sorted(texts):
        if fnmatch.fnmatch(path, "etc/ld-musl-*.path"):
            for word in texts[path].decode("utf-8", "replace").replace(":", "\n").split():
                out.append(word)
    return tuple(dict.fromkeys(out))


class Loader:
    """The closure of ELF files in one tree, as the dynamic loader would load them.

    The files are input: their search lists and names may run to thousands each, and the
    search costs their product, so the lookups one loader makes (over all its closures,
    one image) are bounded by ``LD_LOOKUPS``."""

    def __init__(
        self,
        resolver: Resolver,
        elf: Mapping[str, ElfInfo],
        *,
        conf: tuple[str, ...] = (),
        library_path: tuple[str, ...] = (),
    ) -> None:
        self.resolver = resolver
        self.elf = elf
        self.conf = conf
        self.library_path = library_path
        self.needs: dict[str, tuple[Need, ...]] = {}
        self.budget = LD_LOOKUPS

    def _spend(self, work: int, path: str) -> None:
        self.budget -= work
        if self.budget < 0:
            raise CorruptImage(
                "ELF files: the loader's search for the libraries they need (DT_NEEDED names "
                "in DT_RPATH, DT_RUNPATH and the library directories) takes more than "
                f"{LD_LOOKUPS:,} lookups (at /{path}); refused"
            )

    def closure(self, roots: Iterable[str]) -> list[Need]:
        """Every ask of ``roots`` (tree paths of ELF files) and, transitively, of the
        libraries that satisfy them."""
        out: list[Need] = []
        todo: list[tuple[str, tuple[str, ...]]] = [(r, ()) for r in roots if r in self.elf]
        done: set[str] = set()
        while todo:
            path, inherited = todo.pop()
            if path in done:
                continue
            done.add(path)
            info = self.elf[path]
            own = () if info.runpath else self._expand(path, info.rpath, info)
            self._spend(len(own) + len(inherited), path)
            # the first of a repeated directory is the one searched: the rest can go
            rpaths = tuple(dict.fromkeys((*own, *inherited)))
            for need in self._asks(path, info, rpaths):
                out.append(need)
                if need.path and need.path not in done and need.path in self.elf:
                    todo.append((need.path, rpaths))
        return out

    def _asks(self, path: str, info: ElfInfo, rpaths: tuple[str, ...]) -> list[Need]:
        out: list[Need] = []
        if info.interp:
            self._spend(1, path)
            hit = self.resolver.resolve(info.interp)
            out.append(Need(path, info.interp, hit.path if hit.node else "", hit.links))
        runpath = self._expand(path, info.runpath, info)
        every = (*rpaths, *self.library_path, *runpath, *self.conf, *self._defaults(info))
        self._spend(len(every), path)
        dirs = tuple(dict.fromkeys(every))  # the same for each of its names
        for name in info.needed:
            if "/" in name:
                self._spend(1, path)
                hit = self.resolver.resolve(name)
                out.append(Need(path, name, hit.path if hit.node else "", hit.links))
                continue
            out.extend(self._search(path, name, dirs, info))
        return out

    def _search(self, owner: str, name: str, dirs: tuple[str, ...], info: ElfInfo) -> list[Need]:
        found: list[Need] = []
        for d in dirs:
            for sub in ("", *(f"glibc-hwcaps/{h}/" for h in _HWCAPS)):
                self._spend(1, owner)
                hit = self.resolver.resolve(f"{d}/{sub}{name}")
                if hit.node is None or hit.node.kind not in ("file", "hardlink"):
                    continue
                lib = self.elf.get(hit.path)
                if lib is not None and (lib.bits, lib.machine) != (info.bits, info.machine):
                    continue  # ld.so skips a library of another class or machine
                found.append(Need(owner, name, hit.path, hit.links))
                if not sub:
                    return found  # the plain hit ends the search; hwcaps variants ride along
        return found or [Need(owner, name, "")]

    def _expand(self, path: str, dirs: tuple[str, ...], info: ElfInfo) -> tuple[str, ...]:
        origin = "/" + posixpath.dirname(path)
        triplet, platform = _MULTIARCH.get(info.machine, ("", ""))
        out: list[str] = []
        for d in dirs:
            d = d.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
            d = d.replace("${PLATFORM}", platform).replace("$PLATFORM", platform)
            if "$LIB" in d or "${LIB}" in d:
                for lib in (f"lib/{triplet}", "lib64" if info.bits == 64 else "lib32", "lib"):
                    out.append(d.replace("${LIB}", lib).replace("$LIB", lib))
            else:
                out.append(d)
        return tuple(posixpath.normpath(d) if d.startswith("/") else "/" + d for d in out)

    @staticmethod
    def _defaults(info: ElfInfo) -> tuple[str, ...]:
        triplet, _ = _MULTIARCH.get(info.machine, ("", ""))
        wide = ("/lib64", "/usr/lib64") if info.bits == 64 else ("/lib32", "/usr/lib32")
        multi = (f"/lib/{triplet}", f"/usr/lib/{triplet}") if triplet else ()
        # musl's default path (/lib:/usr/local/lib:/usr/lib) is covered too
        return (*multi, *wide, "/lib", "/usr/local/lib", "/usr/lib")
