"""JSON documents from images and registries, decoded the way Go decodes them, bounded.

Invalid UTF-8 becomes U+FFFD (Go's ``encoding/json``) instead of failing, and nesting
deeper than :data:`deadweight.limits.JSON_DEPTH` is refused before any recursive decoder
(msgspec's, ``json``'s, our renderers) meets it (issue 16). Every reader of a config,
manifest, index, ``manifest.json`` or registry answer goes through :func:`decode_json`, so
``optimize`` accepts exactly what ``inspect`` accepts.
"""

from __future__ import annotations

import codecs
import re
from array import array
from itertools import accumulate
from typing import Any

import msgspec

from deadweight import limits
from deadweight.errors import CorruptImage

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
# opening brackets count +1, closing ones -1 (0xFF as a signed byte)
_STEPS = bytes.maketrans(_BRACKETS, b"\x01\xff\x01\xff")


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    """Go replaces each invalid byte with U+FFFD; Python's "replace" does it per sequence."""
    assert isinstance(err, UnicodeDecodeError)
    return "\ufffd", err.start + 1


codecs.register_error("deadweight-go-utf8", _go_replace)


def _outside_strings(raw: bytes) -> bytes:
    """The text with every string literal cut out. Escapes go first (a backslash is only
    ever inside a string), then every other piece between quotes is a string; five times
    faster than the one regex, which stays for text whose quotes do not pair."""
    bare = _ESCAPE.sub(b"", raw) if b"\\" in raw else raw
    if bare.count(b'"') % 2:
        return _STRING.sub(b"", raw)
    return b"".join(bare.split(b'"')[::2])


def nesting(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets in strings ignored).

    Linear and in C but for one regex pass; exact for valid JSON, an upper bound otherwise.
    """
    if raw.count(b"[") + raw.count(b"{") <= limits.JSON_DEPTH:
        return raw.count(b"[") + raw.count(b"{")
    brackets = _outside_strings(raw).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(array("b", brackets.translate(_STEPS)))))


def decode_json(raw: bytes, what: str) -> Any:
    """Decode JSON the way Go does: invalid UTF-8 becomes U+FFFD instead of failing.

    :class:`CorruptImage` for text that is not JSON or nests deeper than the limit.
    """
    depth = nesting(raw)
    if depth > limits.JSON_DEPTH:
        raise CorruptImage(f"{what}: JSON nested deeper than {limits.JSON_DEPTH} levels")
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        pass
    except RecursionError as exc:  # a deep stack at the call; the scan above bounds depth
        raise CorruptImage(f"{what}: JSON nested too deeply") from exc
    try:
        text = raw.decode("utf-8", errors="deadweight-go-utf8")
        return msgspec.json.decode(text.encode("utf-8"))
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise CorruptImage(f"{what}: not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise CorruptImage(f"{what}: JSON nested too deeply") from exc


def decode_text(text: str | bytes, what: str) -> Any:
    """:func:`decode_json` for text read from a file in a layer (package.json, a lockfile)."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return decode_json(raw, what)
