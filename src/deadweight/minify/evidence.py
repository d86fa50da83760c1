"""Evidence of use: the files a running container opened and executed, per run or probe."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trace:
    """What one run or probe touched. ``source`` says what produced it (``"run: npm
    start"``, ``"probe-http http://..."``, ``"life"``); paths are absolute, as the container
    saw them (the kernel resolved their symlinks)."""

    source: str
    opened: frozenset[str] = frozenset()
    executed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Every trace of a minify run; the plan keeps what any of them touched."""

    traces: tuple[Trace, ...] = ()

    def paths(self) -> frozenset[str]:
        """Every path opened or executed by any trace."""
        out: set[str] = set()
        for t in self.traces:
            out |= t.opened
            out |= t.executed
        return frozenset(out)

    def union(self, other: Evidence) -> Evidence:
        return Evidence((*self.traces, *(t for t in other.traces if t not in self.traces)))


class Reason(enum.Enum):
    """Why a path is kept; the values are the report's words."""

    ENTRYPOINT = "entrypoint"  # the command line, its interpreters and scripts
    ELF = "elf"  # the dynamic loader and libraries of a kept ELF file
    TRACED = "traced"  # a run or probe opened or executed it
    COPIED = "copied"  # a COPY or ADD of the image's own build put it there
    PACKAGE = "package"  # part of a package (or a dependency of one) that is used
    ESSENTIAL = "essential"  # what apps break without: passwd, CA certificates, /tmp...
    USER = "user"  # --keep, --keep-file
    STRUCTURE = "structure"  # a directory or symlink on the way to a kept path
    DATABASE = "package-db"  # a package database, rewritten to list what remains
