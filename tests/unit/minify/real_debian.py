"""Real Debian 12 (bookworm) files for the ELF closure tests, never mocks.

The story tests build a debootstrap ``bookworm`` root (``tests/integration/story_fixtures.py``,
``rootfs-debian-slim/rootfs.tar`` in ``DEADWEIGHT_TEST_FIXTURES``, default
``~/.cache/deadweight/test-fixtures``). Unit tests run before those fixtures exist in CI, so
when that tarball is absent the files come from this machine's own root file system, if it
is Debian 12 (the same distribution and release). Which one was used is the test's
``SOURCE``. With neither, tests fail under ``CI=true`` and are skipped (saying why)
elsewhere.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
from functools import cache
from pathlib import Path

import pytest

from deadweight import static

FIXTURE = "rootfs-debian-slim/rootfs.tar"


def _fixture_tar() -> Path | None:
    root = Path(
        os.environ.get("DEADWEIGHT_TEST_FIXTURES")
        or Path.home() / ".cache" / "deadweight" / "test-fixtures"
    )
    tar = root / FIXTURE
    return tar if tar.is_file() else None


def _host_is_bookworm() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return "VERSION_CODENAME=bookworm" in text and "ID=debian" in text


def source() -> str:
    """Where the real files come from: "debootstrap fixture", "host bookworm", or ""."""
    if _fixture_tar() is not None:
        return "debootstrap fixture"
    if _host_is_bookworm():
        return "host bookworm"
    return ""


def require() -> str:
    found = source()
    if not found:
        why = "no debootstrap fixture and this machine is not Debian 12"
        if os.environ.get("CI") == "true":
            pytest.fail(f"real Debian binaries needed: {why}")
        pytest.skip(why)
    return found


@cache
def _tar_members() -> dict[str, tarfile.TarInfo]:
    tar_path = _fixture_tar()
    assert tar_path is not None
    with tarfile.open(tar_path) as tar:
        return {m.name.removeprefix("./"): m for m in tar.getmembers()}


def entry(path: str) -> static.Entry | None:
    """The file system object at ``path`` (no leading slash), as a static entry: a file
    with its real bytes and mode, a symlink, or a directory; None if absent."""
    if _fixture_tar() is not None:
        m = _tar_members().get(path)
        if m is None:
            return None
        if m.issym():
            return static.Symlink(path, m.linkname)
        if m.isdir():
            return static.Dir(path, m.mode)
        tar_path = _fixture_tar()
        assert tar_path is not None
        with tarfile.open(tar_path) as tar:
            f = tar.extractfile(m)
            assert f is not None
            return static.File(path, f.read(), m.mode)
    host = Path("/") / path
    if host.is_symlink():
        return static.Symlink(path, os.readlink(host))
    if host.is_dir():
        return static.Dir(path, host.stat().st_mode & 0o7777)
    if host.is_file():
        return static.File(path, host.read_bytes(), host.stat().st_mode & 0o7777)
    return None


def canonical(path: str) -> str:
    """``path`` with every symlink in it resolved within the source root."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        e = entry("/".join([*done, part]))
        if isinstance(e, static.Symlink) and hops < 40:
            hops += 1
            if e.target.startswith("/"):
                done = []
            parts = [p for p in e.target.split("/") if p not in ("", ".")] + parts
            continue
        done.append(part)
    return "/".join(done)


def entries(paths: list[str]) -> list[static.Entry]:
    """Entries for ``paths``, their parent directories (parents first) and the targets of
    the symlinks among them; absent paths fail the test (the distribution changed)."""
    out: list[static.Entry] = []
    seen: set[str] = set()
    todo = list(paths)
    while todo:
        path = todo.pop(0)
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p in seen:
                continue
            seen.add(p)
            e = entry(p)
            if e is None:
                pytest.fail(f"/{p} is not in the {source()} root")
            if i < len(parts) and isinstance(e, static.Symlink):
                pytest.fail(f"/{p} is a symlink; list the path through its target instead")
            out.append(e)
            if i == len(parts) and isinstance(e, static.Symlink):
                todo.append(canonical(posixpath.join(posixpath.dirname(p), e.target)))
    return out
