"""What ``docker images`` knows about one image, and the order the daemon lists images in.

docker-formats.md §4.1: the daemon collects an image's references sorted by their full
normalized string, splits them into tagged (``RepoTags``) and digested (``RepoDigests``)
ones in familiar form, and sorts images by ``Created`` (whole seconds), newest first, with
Go's unstable sort — images created in the same second come out in an arbitrary order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from deadweight.errors import InvalidReference, NotFound, UsageError
from deadweight.image import Image
from deadweight.reference import Reference

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """One image of a ``docker images`` listing.

    ``repo_tags`` are familiar references with a tag (``"dfx-bk:latest"``),
    ``repo_digests`` familiar references with a digest (``"repo@sha256:…"``); both
    empty for an untagged image. ``created`` is Unix seconds (Go's zero time when the
    config has none) and ``size`` the sum of the layer sizes in bytes.
    """

    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    created: int
    size: int


def reference_key(text: str) -> str:
    """Sort key of a reference: its full normalized string, e.g.
    ``docker.io/library/dfx-bk:v1.10``; text that does not parse sorts as itself."""
    try:
        return str(Reference.parse(text, default_tag=False))
    except InvalidReference:
        return text


def _first_reference(item: ImageSummary) -> str:
    refs = sorted(map(reference_key, item.repo_tags + item.repo_digests))
    return refs[0] if refs else ""


def sort_summaries(items: Iterable[ImageSummary]) -> tuple[ImageSummary, ...]:
    """The daemon's listing order, made deterministic.

    Each image's ``repo_tags`` and ``repo_digests`` are put in the daemon's order (by
    :func:`reference_key`). Images are ordered by ``created``, newest first; ties — which
    docker breaks at random — by image ID, then by first reference. The ID tie-break is
    the one that matches most recorded outputs (docker-formats-examples 20-24 and 60 show
    it; 25, 26 and 62 show the other outcome of the same coin toss).
    """
    normalized = [
        ImageSummary(
            item.id,
            tuple(sorted(item.repo_tags, key=reference_key)),
            tuple(sorted(item.repo_digests, key=reference_key)),
            item.created,
            item.size,
        )
        for item in items
    ]
    return tuple(sorted(normalized, key=lambda s: (-s.created, s.id, _first_reference(s))))


# --- docker images --filter -------------------------------------------------------------
# The docker 20.10 daemon's filters (daemon/images/images.go): dangling, label, before,
# since, reference; the CLI parses each ``--filter name=value`` (filters.ParseFlag).
FILTER_NAMES = ("before", "dangling", "label", "reference", "since")
_FRACTION = re.compile(r"\.([0-9]+)(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$")


class BadPattern(UsageError):
    """A ``reference`` filter that is not a valid ``path.Match`` pattern."""


@dataclass(frozen=True, slots=True)
class ImageFilters:
    """What ``--filter`` asked for, each value as given (docker keeps them as sets)."""

    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, flags: Iterable[str]) -> ImageFilters:
        """``name=value`` flags: the name trimmed and lower-cased, the value trimmed."""
        pairs: list[tuple[str, str]] = []
        for flag in flags:
            if "=" not in flag:
                raise UsageError(
                    f'invalid argument "{flag}" for "-f, --filter" flag: '
                    "bad format of filter (expected name=value)"
                )
            name, value = flag.split("=", 1)
            pairs.append((name.strip().lower(), value.strip()))
        for name, _ in pairs:
            if name not in FILTER_NAMES:
                raise UsageError(f"Invalid filter '{name}'")
        found = cls(tuple(dict.fromkeys(pairs)))
        for pattern in found.get("reference"):
            go_path_match(pattern, "")  # a malformed pattern fails here, whatever is listed
        dangling = found.get("dangling")
        if dangling and not {"true", "false"} & set(dangling):
            raise UsageError(f"Invalid filter 'dangling=[{' '.join(sorted(dangling))}]'")
        return found

    def get(self, name: str) -> tuple[str, ...]:
        return tuple(v for n, v in self.values if n == name)

    def as_engine_filters(self) -> dict[str, list[str]]:
        """The filters as the engine's ``GET /images/json`` takes them."""
        out: dict[str, list[str]] = {}
        for name, value in self.values:
            out.setdefault(name, []).append(value)
        return out

    @property
    def dangling_only(self) -> bool:
        return "true" in self.get("dangling")


def _created_ns(image: Image) -> int:
    """``created`` in nanoseconds: before/since compare full times, not whole seconds."""
    raw = image.config.document.get("created")
    fraction = _FRACTION.search(raw) if isinstance(raw, str) else None
    nanos = int(fraction.group(1)[:9].ljust(9, "0")) if fraction else 0
    return image.created * 1_000_000_000 + nanos


def _find(images: Sequence[Image], wanted: str) -> Image:
    """The image ``wanted`` names, as the daemon's ``GetImage``: a reference, else an ID."""
    hexits = wanted.removeprefix("sha256:")
    if _HEX64.match(hexits):
        found = [i for i in images if i.id == "sha256:" + hexits]
        if found:
            return found[0]
        raise NotFound(f"No such image: sha256:{hexits}")
    ref = Reference.parse(wanted)
    for image in images:
        if any(reference_key(r) == str(ref) for r in image.repo_tags + image.repo_digests):
            return image
    by_id = {i.id: i for i in images if _HEX.match(hexits) and i.id[7:].startswith(hexits)}
    if len(by_id) == 1:
        return next(iter(by_id.values()))
    raise NotFound(f"No such image: {ref.familiar}")


def _go_field(doc: Mapping[str, object], name: str) -> object:
    """The value Go's decoder stores in field ``name``: the last key matching it in any case."""
    value: object = None
    for key, item in doc.items():
        if key.casefold() == name:
            value = item
    return value


def _labels(image: Image) -> dict[str, str] | None:
    """The config's ``Labels`` as Go decodes them (keys match in any case); None when the
    config has no ``config`` object at all."""
    config = _go_field(image.config.document, "config")
    if not isinstance(config, dict):
        return None
    labels = _go_field(config, "labels")
    if not isinstance(labels, dict):
        return {}
    return {str(k): v if isinstance(v, str) else "" for k, v in labels.items()}


def _labels_match(wanted: Sequence[str], labels: Mapping[str, str]) -> bool:
    """``filters.MatchKVList``: every ``key`` is present, every ``key=value`` equal."""
    if not labels:
        return False
    for item in wanted:
        key, eq, value = item.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


def _familiar_name(ref: str) -> str:
    return ref.split("@", 1)[0] if "@" in ref else re.sub(r":[^:/]*$", "", ref)


def reference_matches(pattern: str, ref: str) -> bool:
    """``reference.FamiliarMatch``: the pattern matches the familiar reference, or its
    name without tag or digest (so ``app`` matches ``app:1.0``)."""
    return go_path_match(pattern, ref) or go_path_match(pattern, _familiar_name(ref))


def select_images(
    images: Sequence[Image], filters: ImageFilters, *, show_all: bool
) -> list[tuple[Image, tuple[str, ...], tuple[str, ...]]]:
    """The images ``docker images`` lists, with the tags and digests it shows for each.

    docker-formats.md §4.1 and the daemon's filters: ``dangling=true`` keeps only images
    no other image names as its parent, and of those the untagged ones (an image with only
    digests stays); an untagged image that is another's parent shows only with ``-a``;
    ``reference`` keeps the references matching any pattern (``path.Match``) and drops
    images left without one; ``label`` needs every ``key`` / ``key=value``; ``before`` and
    ``since`` compare full creation times with the image they name (the last one given).
    """
    parents = {i.ancestors[0] for i in images if i.ancestors}
    patterns = filters.get("reference")
    wanted_labels = filters.get("label")
    bounds = {
        name: _created_ns(_find(images, values[-1]))
        for name in ("before", "since")
        if (values := filters.get(name))
    }
    out: list[tuple[Image, tuple[str, ...], tuple[str, ...]]] = []
    for image in images:
        if filters.dangling_only and image.id in parents:
            continue
        created = _created_ns(image) if bounds else 0
        if "before" in bounds and created >= bounds["before"]:
            continue
        if "since" in bounds and created <= bounds["since"]:
            continue
        if wanted_labels:
            labels = _labels(image)
            if labels is None or not _labels_match(wanted_labels, labels):
                continue
        tags, digests = image.repo_tags, image.repo_digests
        if patterns:
            tags = tuple(r for r in tags if any(reference_matches(p, r) for p in patterns))
            digests = tuple(r for r in digests if any(reference_matches(p, r) for p in patterns))
        if not tags and not digests:
            if not show_all and image.id in parents:
                continue  # an intermediate image
            if (filters.get("dangling") and not filters.dangling_only) or patterns:
                continue
        elif filters.dangling_only and tags:
            continue
        out.append((image, tags, digests))
    return out


def go_path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match`` (``*``, ``?``, ``[...]`` with ``^`` and ranges, ``\\`` escapes;
    neither ``*`` nor ``?`` crosses ``/``); a malformed pattern raises :class:`BadPattern`."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name  # a trailing * matches the rest unless it has a /
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if star and (skipped := _skip_to_match(chunk, name, last=not pattern)) is not None:
            name = skipped
            continue
        while pattern:  # fail, but only once the rest of the pattern proved well formed
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return not name


def _skip_to_match(chunk: str, name: str, *, last: bool) -> str | None:
    """After a ``*``: the rest of ``name`` once ``chunk`` matched past 1..n characters of
    it (never past a ``/``); the last chunk must use all of ``name``."""
    for i in range(len(name)):
        if name[i] == "/":
            break
        rest = _match_chunk(chunk, name[i + 1 :])
        if rest is not None and not (last and rest):
            return rest
    return None


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    stripped = pattern.lstrip("*")
    star, pattern = stripped != pattern, stripped
    in_range, i = False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1 if i + 1 < len(pattern) else 0
        elif ch == "[":
            in_range = True
        elif ch == "]":
            in_range = False
        elif ch == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _escaped(chunk: str) -> tuple[str, str]:
    """Go's ``getEsc``: one (possibly escaped) character of a class, and what follows."""
    if not chunk or chunk[0] in "-]":
        raise BadPattern("syntax error in pattern")
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern("syntax error in pattern")
    if len(chunk) < 2:
        raise BadPattern("syntax error in pattern")
    return chunk[0], chunk[1:]


def _match_chunk(chunk: str, s: str) -> str | None:
    """What is left of ``s`` after ``chunk`` (no ``*``) matched its start, else None;
    the whole chunk is checked for syntax even once the match has failed."""
    failed = False
    while chunk:
        failed = failed or not s
        ch = chunk[0]
        if ch == "[":
            r = ""
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = chunk.startswith("^")
            chunk = chunk[1:] if negated else chunk
            matched, ranges = False, 0
            while True:
                if chunk.startswith("]") and ranges:
                    chunk = chunk[1:]
                    break
                lo, chunk = _escaped(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _escaped(chunk[1:])
                matched = matched or lo <= r <= hi
                ranges += 1
            failed = failed or matched == negated
        elif ch == "?":
            if not failed:
                failed, s = s[0] == "/", s[1:]
            chunk = chunk[1:]
        else:
            if ch == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern("syntax error in pattern")
            if not failed:
                failed, s = chunk[0] != s[0], s[1:]
            chunk = chunk[1:]
    return None if failed else s
