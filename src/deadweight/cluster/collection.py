"""SOURCE arguments of ``deadweight scan`` → images, opened (manifest and config only).

Besides every single-image source, a SOURCE may be a collection: ``docker://HOST`` (every
repository of the registry's catalog, every tag), ``docker://HOST/REPO`` (every tag), a
text file listing sources one per line, a folder of archives and layouts, or
``docker-daemon:`` (every image of the local engine). What cannot be opened is a
:class:`Problem` with its reason; the rest of the fleet is still scanned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from deadweight.errors import DeadweightError, UsageError
from deadweight.image import Image
from deadweight.limits import LISTING_LINE
from deadweight.platform import Platform
from deadweight.reference import Reference
from deadweight.sources import Location, list_images, locate

OPENERS = 8  # manifests and configs fetched side by side (registry round trips)
LIST_SNIFF = 4096
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".oci")


@dataclass(frozen=True, slots=True)
class Member:
    """An opened image of the fleet; ``reader`` is the source a worker opens to reach its
    layers (an image pinned by digest or ID, or the archive or layout that holds it)."""

    name: str
    image: Image
    reader: str


@dataclass(frozen=True, slots=True)
class Problem:
    name: str
    reason: str


Found = Member | Problem
# An image still to open: its name, and how to open it (the images of one source).
_Pending = tuple[str, Callable[[], list[tuple[str, Image, str]]]]


def collect(sources: Sequence[str], *, platform: Platform | None, insecure: bool) -> list[Found]:
    """Every image of ``sources``, each name once (the first source naming it wins)."""
    pending: list[_Pending] = []
    problems: list[Problem] = []
    for source in sources:
        for item in _expand(source, platform, insecure, depth=0):
            (problems.append(item) if isinstance(item, Problem) else pending.append(item))
    found: list[Found] = list(problems)
    with ThreadPoolExecutor(max_workers=OPENERS) as pool:
        for (label, _), result in zip(pending, pool.map(_attempt, pending), strict=True):
            if isinstance(result, str):
                found.append(Problem(label, result))
            else:
                found.extend(Member(n, i, r) for n, i, r in result)
    return _unique(found)


def _attempt(item: _Pending) -> list[tuple[str, Image, str]] | str:
    try:
        return item[1]()
    except DeadweightError as exc:
        return exc.message
    except OSError as exc:
        return f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}"


def _unique(found: list[Found]) -> list[Found]:
    seen: set[str] = set()
    out: list[Found] = []
    for item in found:
        if item.name not in seen:
            seen.add(item.name)
            out.append(item)
    return out


def _expand(
    source: str, platform: Platform | None, insecure: bool, depth: int
) -> Iterator[_Pending | Problem]:
    if source.startswith("docker://"):
        yield from _registry(source[len("docker://") :].rstrip("/"), platform, insecure)
        return
    if source == "docker-daemon:":
        yield from _daemon()
        return
    path = Path(source)
    if path.is_file() and _is_listing(path):
        if depth:
            yield Problem(source, "a list of sources may not name another list")
            return
        for line in _lines(path):
            if isinstance(line, Problem):
                yield line
            else:
                yield from _expand(line, platform, insecure, depth + 1)
        return
    if path.is_dir() and not _is_image_dir(path):
        yield from _folder(path, platform, insecure)
        return
    yield source, partial(_local, source, platform, insecure)


def _registry(rest: str, platform: Platform | None, insecure: bool) -> Iterator[_Pending | Problem]:
    from deadweight.sources import registry

    if "/" not in rest:  # docker://HOST: the whole catalog
        try:
            repositories = registry.repositories(rest, insecure=insecure)
        except DeadweightError as exc:
            yield Problem(f"docker://{rest}", exc.message)
            return
        for repo in repositories:
            yield from _registry(f"{rest}/{repo}", platform, insecure)
        return
    try:
        ref = Reference.parse(rest, default_tag=False)
    except UsageError as exc:
        yield Problem(f"docker://{rest}", exc.message)
        return
    if ref.tag or ref.digest:
        yield str(ref), partial(_pinned, ref, platform, insecure)
        return
    try:
        tags = registry.tags(ref, insecure=insecure)
    except DeadweightError as exc:
        yield Problem(ref.name, exc.message)
        return
    for tag in tags:
        tagged = ref.with_tag(tag)
        yield str(tagged), partial(_pinned, tagged, platform, insecure)


def _pinned(
    ref: Reference, platform: Platform | None, insecure: bool
) -> list[tuple[str, Image, str]]:
    from deadweight.sources import registry

    image = registry.read(ref, platform=platform, insecure=insecure)
    # Workers open the manifest by digest: a tag moved meanwhile cannot change their layers.
    return [(str(ref), image, f"docker://{ref.name}@{image.digest}")]


def _daemon() -> Iterator[_Pending | Problem]:
    from deadweight.sources import engine

    try:
        rows = engine.list_summaries()
    except DeadweightError as exc:
        yield Problem("docker-daemon:", exc.message)
        return
    for row in sorted(rows, key=lambda r: str(r.get("Id", ""))):
        image_id = str(row.get("Id", ""))
        tags = sorted(str(t) for t in row.get("RepoTags") or () if t != "<none>:<none>")
        name = tags[0] if tags else image_id
        yield name, partial(_engine_image, name, image_id)


def _engine_image(name: str, image_id: str) -> list[tuple[str, Image, str]]:
    from deadweight.sources import engine

    return [(name, engine.read(image_id), f"docker-daemon:{image_id}")]


def _local(source: str, platform: Platform | None, insecure: bool) -> list[tuple[str, Image, str]]:
    loc = locate(source)
    images = list_images(loc, platform=platform, insecure=insecure)
    if loc.transport == "docker":
        repo = Reference.parse(loc.target).name
        return [(i.source, i, f"docker://{repo}@{i.digest}") for i in images]
    if loc.transport == "docker-daemon":
        return [(loc.target, i, f"docker-daemon:{i.id}") for i in images]
    whole = str(Location(loc.transport, loc.target))
    return [(_local_name(loc, i, len(images)), i, whole) for i in images]


def _local_name(loc: Location, image: Image, count: int) -> str:
    where = str(Location(loc.transport, loc.target))
    if image.repo_tags:
        return f"{where}:{image.repo_tags[0]}"
    return where if count == 1 else f"{where}@{image.id}"


def _folder(path: Path, platform: Platform | None, insecure: bool) -> Iterator[_Pending | Problem]:
    entries = sorted(path.iterdir(), key=lambda p: p.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if (entry.is_dir() and _is_image_dir(entry)) or (
            entry.is_file() and entry.name.lower().endswith(_ARCHIVE_SUFFIXES)
        ):
            yield str(entry), partial(_local, str(entry), platform, insecure)


def _is_image_dir(path: Path) -> bool:
    return any((path / name).exists() for name in ("index.json", "oci-layout", "manifest.json"))


def _is_listing(path: Path) -> bool:
    """A text file (no NUL byte, UTF-8) rather than an archive (tar, gzip, zstd)."""
    try:
        with path.open("rb") as f:
            head = f.read(LIST_SNIFF)
    except OSError:
        return False
    if not head or b"\0" in head or head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd":
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return len(head) == LIST_SNIFF  # a multi-byte character cut at the end
    return True


def _lines(path: Path) -> Iterator[str | Problem]:
    """The sources a listing names, one a line, read a line at a time; a line that is not
    UTF-8, holds a NUL byte or is longer than ``limits.LISTING_LINE`` (no path or
    reference is) is a :class:`Problem`, and the rest are read on."""
    try:
        f = path.open("rb")
    except OSError as exc:
        yield Problem(str(path), exc.strerror or str(exc))
        return
    with f:
        number = 0
        while raw := f.readline(LISTING_LINE + 1):
            number += 1
            where = f"{path} line {number}"
            if len(raw) > LISTING_LINE and not raw.endswith(b"\n"):
                while (rest := f.readline(LISTING_LINE)) and not rest.endswith(b"\n"):
                    pass  # the rest of the line, a piece at a time
                if not raw.lstrip().startswith(b"#"):  # a long comment is still one
                    yield Problem(where, f"longer than {LISTING_LINE} bytes: no source")
                continue
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                yield Problem(where, "not UTF-8")
                continue
            if "\0" in line:
                yield Problem(where, "holds a NUL byte")
            elif line and not line.startswith("#"):
                yield line
