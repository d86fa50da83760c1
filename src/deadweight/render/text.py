"""Text cutting and measuring as docker CLI 20.10 does it (docker-formats.md §5.3, §5.4, §6.2).

Strings may carry undecodable bytes as ``surrogateescape`` code points (U+DC80..U+DCFF);
each one stands for one byte, which is also how Go counts an invalid byte (one rune).
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
_SHORT_ID_BYTES = 12


def truncate_id(id_: str) -> str:
    """``stringid.TruncateID``: drop up to the first ``:``, keep the first 12 bytes."""
    colon = id_.find(":")
    if colon >= 0:
        id_ = id_[colon + 1 :]
    raw = id_.encode("utf-8", "surrogateescape")
    if len(raw) > _SHORT_ID_BYTES:
        return raw[:_SHORT_ID_BYTES].decode("utf-8", "surrogateescape")
    return id_


def char_width(ch: str) -> int:
    """Columns of one code point for ``formatter.Ellipsis``: 2 for East Asian W/F, else 1."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _is_single_byte(text: str) -> bool:
    """Go's fast path test ``len(s) == utf8.RuneCountInString(s)``."""
    return all(ch < "\x80" or "\udc80" <= ch <= "\udcff" for ch in text)


def ellipsis(text: str, max_width: int) -> str:
    """``formatter.Ellipsis`` of CLI 20.10: cut to ``max_width`` display columns with ``…``.

    A wide character that would straddle the last column is dropped too, so the result
    can be one column narrower than ``max_width``. When even the first character does not
    fit before the ellipsis, Go's loop finds no cut and returns the text unchanged.
    """
    if max_width <= 0:
        return ""
    if max_width == 1:
        return text[:1]
    if _is_single_byte(text):
        return text if len(text) <= max_width else text[: max_width - 1] + ELLIPSIS
    cumulative: list[int] = []
    total = 0
    for ch in text:
        total += char_width(ch)
        cumulative.append(total)
    if total <= max_width:
        return text
    limit = max_width - 1
    for i in range(len(cumulative) - 1):
        if cumulative[i] <= limit < cumulative[i + 1]:
            return text[: i + 1] + ELLIPSIS
    return text


def codepoint_width(text: str) -> int:
    """Cell width in Go's ``text/tabwriter`` (CLI ≤ 22): the number of runes."""
    return len(text)


def middle_cut(path: str, max_width: int) -> str:
    """``path`` in at most ``max_width`` columns: the middle is cut (``…``), never the file
    name, which is what a reader looks for; a name longer than the room keeps its start
    and its end (``…/numpy-2.2.6-cp3…x86_64.whl``: which package, and what kind of file)."""
    if len(path) <= max_width:
        return path
    if max_width <= 1:
        return ELLIPSIS[:max_width]
    name = path.rpartition("/")[2]
    tail = len(name) + 1 if "/" in path else len(name)
    if tail > max_width - 1:  # not even "…/NAME" fits: the name's own middle goes
        prefix = ELLIPSIS + "/" if "/" in path and max_width >= 12 else ""
        room = max_width - len(prefix) - 1
        head = (room + 1) // 2
        return prefix + name[:head] + ELLIPSIS + name[len(name) - (room - head) :]
    head = max(0, min((max_width - 1) // 2, max_width - 1 - tail))
    return path[:head] + ELLIPSIS + path[len(path) - (max_width - 1 - head) :]
