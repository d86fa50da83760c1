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
from typing import Any, TypeVar

import msgspec

from deadweight import limits
from deadweight.errors import CorruptImage

# a string literal, "unrolled" (runs of plain characters, then one escape): three times
# faster than one character per step, and no copy but the result (issue 16)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# text outside strings, then a string, as often as both fit (where a window may be cut)
_STRINGS_WITHIN = re.compile(rb'(?:[^"]*"[^"\\]*(?:\\.[^"\\]*)*")*', re.DOTALL)
_WINDOW = 1 << 18
_BRACKETS = b"[]{}"
T = TypeVar("T")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
# opening brackets count +1, closing ones -1 (0xFF as a signed byte)
_STEPS = bytes.maketrans(_BRACKETS, b"\x01\xff\x01\xff")


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    """Go replaces each invalid byte with U+FFFD; Python's "replace" does it per sequence."""
    assert isinstance(err, UnicodeDecodeError)
    return "\ufffd", err.start + 1


codecs.register_error("deadweight-go-utf8", _go_replace)


def _outside_brackets(raw: bytes) -> bytes:
    """The brackets of ``raw`` that are not in a string, in order.

    Read a window at a time, cut after the last string that ends in it: cutting every
    string out of the whole text at once held a piece per string (90 MB for a config of
    100,000 history rows, issue 16). A string that never ends (not JSON) stops the
    reading of strings there: the decoder refuses the text at that quote, so what
    follows it cannot nest it deeper.
    """
    pieces: list[bytes] = []
    pos, size = 0, len(raw)
    while pos < size:
        cut = _STRINGS_WITHIN.match(raw, pos, pos + _WINDOW).end()  # type: ignore[union-attr]
        if cut == pos:  # no string ends in the window: none starts in it, or a long one
            quote = raw.find(b'"', pos, pos + _WINDOW)
            string = _STRING.match(raw, quote) if quote >= 0 else None
            if quote >= 0 and string is None:
                pieces.append(raw[pos:].translate(None, _NOT_BRACKETS))
                break
            cut = string.end() if string is not None else min(size, pos + _WINDOW)
        pieces.append(_STRING.sub(b"", raw[pos:cut]).translate(None, _NOT_BRACKETS))
        pos = cut
    return b"".join(pieces)


def nesting(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets in strings ignored).

    Linear and in C but for one regex pass; exact for valid JSON, an upper bound otherwise.
    """
    if raw.count(b"[") + raw.count(b"{") <= limits.JSON_DEPTH:
        return raw.count(b"[") + raw.count(b"{")
    brackets = _outside_brackets(raw)
    if not brackets:
        return 0
    return max(0, max(accumulate(array("b", brackets.translate(_STEPS)))))


_ANY: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def decode_json(raw: bytes, what: str) -> Any:
    """Decode JSON the way Go does: invalid UTF-8 becomes U+FFFD instead of failing.

    :class:`CorruptImage` for text that is not JSON or nests deeper than the limit.
    """
    return _decode(raw, what, _ANY)


def decode_typed(raw: bytes, what: str, decoder: msgspec.json.Decoder[T]) -> T | None:
    """:func:`decode_json` into the msgspec type of ``decoder``, without a dictionary per
    object; None when the document is not of that type or not read at all: the caller
    then reads it untyped, which says what is wrong in the words it always used."""
    try:
        return _decode(raw, what, decoder)
    except (msgspec.ValidationError, CorruptImage):
        return None


def _decode(raw: bytes, what: str, decoder: msgspec.json.Decoder[T]) -> T:
    depth = nesting(raw)
    if depth > limits.JSON_DEPTH:
        raise CorruptImage(f"{what}: JSON nested deeper than {limits.JSON_DEPTH} levels")
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError:
        raise
    except (msgspec.DecodeError, UnicodeDecodeError):
        pass
    except RecursionError as exc:  # a deep stack at the call; the scan above bounds depth
        raise CorruptImage(f"{what}: JSON nested too deeply") from exc
    try:
        text = raw.decode("utf-8", errors="deadweight-go-utf8")
        return decoder.decode(text.encode("utf-8"))
    except msgspec.ValidationError:
        raise
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise CorruptImage(f"{what}: not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise CorruptImage(f"{what}: JSON nested too deeply") from exc


def decode_text(text: str | bytes, what: str) -> Any:
    """:func:`decode_json` for text read from a file in a layer (package.json, a lockfile)."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return decode_json(raw, what)
