"""The image config (OCI image-spec config.md; Docker image spec v1.2)."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from deadweight.errors import CorruptImage
from deadweight.spec.document import decode_json as decode_json  # its older home
from deadweight.spec.document import decode_typed

# Go's zero time.Time as Unix seconds: what docker shows for a missing "created".
GO_ZERO_TIME = -62135596800

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$"
)


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
# timestamps already read: the rows of one build often share one (100,000 rows, issue 16)
_SEEN: dict[str, int] = {}
_SEEN_MAX = 4096


def parse_created(value: object) -> int:
    """Unix seconds (floor) of an RFC 3339 timestamp; Go's zero time when absent."""
    if value is None or value == "":
        return GO_ZERO_TIME
    if not isinstance(value, str):
        raise CorruptImage(f"config: 'created' is not a string: {value!r}")
    seen = _SEEN.get(value)
    if seen is not None:
        return seen
    m = _RFC3339.match(value)
    if not m:
        raise CorruptImage(f"config: 'created' is not an RFC 3339 time: {value!r}")
    y, mo, d, h, mi, s = map(int, m.groups()[:6])
    zone = m.group(8)
    try:
        base = _dt.datetime(y, mo, d, h, mi, s, tzinfo=_dt.UTC)
    except ValueError as exc:
        raise CorruptImage(f"config: 'created' is not a valid time: {value!r}") from exc
    seconds = int((base - _EPOCH).total_seconds())
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    if len(_SEEN) >= _SEEN_MAX:
        _SEEN.clear()
    _SEEN[value] = seconds
    return seconds


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created: int
    created_by: str
    comment: str
    author: str
    empty_layer: bool


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of an image config deadweight reasons about, and the raw document.

    The whole decoded document is not kept: of an image with 100,000 history rows it
    would hold a dictionary per row beside :attr:`history` (about 430 bytes a row, issue
    16). The few readers of all of it (``inspect``, ``mutate``) decode it anew.
    """

    created: int
    architecture: str
    os: str
    variant: str
    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...] | None
    container_config: Mapping[str, Any]  # the document's ``config`` object ({} when none)
    raw: bytes = field(repr=False)

    @property
    def document(self) -> Mapping[str, Any]:
        """The whole config document, decoded from :attr:`raw` at each call."""
        doc: Mapping[str, Any] = decode_json(self.raw, "image config")
        return doc


def _str(doc: Mapping[str, Any], key: str, what: str) -> str:
    value = doc.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CorruptImage(f"{what}: {key!r} is not a string")
    return value


# the config read last: the CLI opens an image once to ask the layer store whether it holds
# every layer, and the command opens it again (100,000 history rows: 0.7 s a decode)
_last: tuple[bytes, ImageConfig] | None = None


def parse_config(raw: bytes) -> ImageConfig:
    """The config in ``raw``; the same :class:`ImageConfig` for the same bytes read twice."""
    global _last
    last = _last
    if last is not None and last[0] == raw:
        return last[1]
    config = _parse_config(raw)
    _last = (raw, config)
    return config


class _Row(msgspec.Struct, gc=False):
    """A history row as read, before its checks (``_parse_config`` says what they are)."""

    created: Any = None
    created_by: str | None = None
    comment: str | None = None
    author: str | None = None
    empty_layer: Any = False


class _RootFS(msgspec.Struct, gc=False):
    diff_ids: list[str] = msgspec.field(default_factory=list)


class _Document(msgspec.Struct):
    """The fields of a config deadweight reads; the others are left in the raw bytes."""

    rootfs: _RootFS
    created: Any = None
    architecture: str | None = None
    os: str | None = None
    variant: str | None = None
    history: list[_Row] | None = None
    config: Any = None


_DECODER = msgspec.json.Decoder(_Document)


def _parse_config(raw: bytes) -> ImageConfig:
    """Read into :class:`_Document` (no dictionary per history row: an image of 100,000
    rows held one each while it was read, issue 16); a document of other types is read
    untyped, which says what is wrong with it."""
    typed = decode_typed(raw, "image config", _DECODER)
    if typed is None:
        return _parse_untyped(raw)
    history = None
    if typed.history is not None:
        history = tuple(
            [
                HistoryEntry(
                    parse_created(row.created),
                    row.created_by or "",
                    row.comment or "",
                    row.author or "",
                    bool(row.empty_layer),
                )
                for row in typed.history
            ]
        )
    typed.history = None  # the rows are gone before the next is made
    config = typed.config
    return ImageConfig(
        created=parse_created(typed.created),
        architecture=typed.architecture or "",
        os=typed.os or "",
        variant=typed.variant or "",
        diff_ids=tuple(typed.rootfs.diff_ids),
        history=history,
        container_config=config if isinstance(config, dict) else {},
        raw=raw,
    )


def _parse_untyped(raw: bytes) -> ImageConfig:
    doc = decode_json(raw, "image config")
    if not isinstance(doc, dict):
        raise CorruptImage("image config: not a JSON object")
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids", []), list):
        raise CorruptImage("image config: missing or malformed 'rootfs'")
    diff_ids = tuple(rootfs.get("diff_ids") or ())
    if not all(isinstance(d, str) for d in diff_ids):
        raise CorruptImage("image config: 'rootfs.diff_ids' holds a non-string")
    history: tuple[HistoryEntry, ...] | None = None
    raw_history = doc.get("history")
    if raw_history is not None:
        if not isinstance(raw_history, list):
            raise CorruptImage("image config: 'history' is not a list")
        entries = []
        for item in raw_history:
            if not isinstance(item, dict):
                raise CorruptImage("image config: a 'history' entry is not an object")
            entries.append(
                HistoryEntry(
                    created=parse_created(item.get("created")),
                    created_by=_str(item, "created_by", "image config history"),
                    comment=_str(item, "comment", "image config history"),
                    author=_str(item, "author", "image config history"),
                    empty_layer=bool(item.get("empty_layer", False)),
                )
            )
        history = tuple(entries)
    return ImageConfig(
        created=parse_created(doc.get("created")),
        architecture=_str(doc, "architecture", "image config"),
        os=_str(doc, "os", "image config"),
        variant=_str(doc, "variant", "image config"),
        diff_ids=diff_ids,
        history=history,
        container_config=container if isinstance(container := doc.get("config"), dict) else {},
        raw=raw,
    )
