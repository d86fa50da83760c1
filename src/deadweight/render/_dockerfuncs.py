"""docker/cli's template functions (``templates.basicFunctions`` and ``HeaderFunctions``).

``json`` is an ``Encoder`` with HTML escaping off, except that a row context marshals
itself (``MarshalJSON`` → ``json.Marshal`` of a map), so its HTML escaping survives.
``split``/``join``/``title``/``lower``/``upper`` are Go's ``strings`` functions (rune by
rune: Go never changes a string's length in case mapping); ``pad`` surrounds a non-empty
string with spaces; ``truncate`` keeps bytes. The header set returns column titles as they
are (``pad`` is kept, to stay aligned with the cells).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from deadweight import limits
from deadweight.render import _gojson as gojson
from deadweight.render._gobuiltins import (
    MISSING,
    GoFunc,
    GoStruct,
    NilMap,
    NilSlice,
    StructValue,
)


def _go_map(value: object) -> object:
    """Template data as Go's encoder sees it. A row context marshals as a map (sorted keys);
    a ``dict`` keeps its order (a struct's field order, or a map the caller sorted)."""
    if isinstance(value, GoStruct):
        return {k: _go_map(value.fields[k]) for k in sorted(value.fields)}
    if isinstance(value, NilSlice | NilMap):
        return None
    if isinstance(value, StructValue):
        return {k: _go_map(v) for k, v in value.items() if k not in value.omit}
    if isinstance(value, Mapping):
        return {k: _go_map(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_go_map(v) for v in value]
    return None if value is MISSING else value


def _json(value: object) -> str:
    """docker's ``json``: an Encoder with HTML escaping off. A row context marshals itself
    (``MarshalJSON`` → ``json.Marshal`` of a map), so its HTML escaping survives."""
    return gojson.encode(_go_map(value), escape_html=isinstance(value, GoStruct))


def _map_runes(text: str, convert: str) -> str:
    """``strings.ToLower``/``ToUpper``/``ToTitle`` rune by rune (Go never changes length)."""
    out = []
    for ch in text:
        mapped = getattr(ch, convert)()
        out.append(mapped if len(mapped) == 1 else ch)
    return "".join(out)


def _is_separator(ch: str) -> bool:
    """``strings.isSeparator``."""
    if ch <= "\x7f":
        return not (ch.isascii() and (ch.isalnum() or ch == "_"))
    if ch.isalpha() or unicodedata.category(ch) == "Nd":
        return False
    return ch.isspace()


def _title(text: str) -> str:
    """``strings.Title``: title-case every rune that follows a separator."""
    out, previous = [], " "
    for ch in text:
        out.append(_map_runes(ch, "title") if _is_separator(previous) else ch)
        previous = ch
    return "".join(out)


def _split(text: str, sep: str) -> list[str]:
    """``strings.Split``; an empty separator splits after every rune."""
    pieces = len(text) if sep == "" else text.count(sep) + 1
    if pieces > limits.TEMPLATE_ITEMS:
        raise ValueError(f"split: more than {limits.TEMPLATE_ITEMS} pieces")
    if sep == "":
        return list(text)
    return text.split(sep)


def _pad(source: str, prefix: int, suffix: int) -> str:
    """docker's ``pad``: surround a non-empty string with spaces."""
    if prefix < 0 or suffix < 0:
        raise ValueError("strings: negative Repeat count")
    if source and prefix + len(source) + suffix > limits.TEMPLATE_TEXT:
        raise ValueError(f"pad: result longer than {limits.TEMPLATE_TEXT} characters")
    return source if source == "" else " " * prefix + source + " " * suffix


def _truncate(source: str, length: int) -> str:
    """docker's ``truncate``: the first ``length`` bytes (it can cut a UTF-8 sequence)."""
    raw = source.encode("utf-8", "surrogateescape")
    if len(raw) < length:
        return source
    if length < 0:
        raise ValueError(f"runtime error: slice bounds out of range [:{length}]")
    return raw[:length].decode("utf-8", "surrogateescape")


FUNCS: Mapping[str, GoFunc] = {
    "json": GoFunc(_json, ("any",)),
    "split": GoFunc(_split, ("string", "string")),
    "join": GoFunc(lambda items, sep: sep.join(items), ("[]string", "string")),
    "title": GoFunc(_title, ("string",)),
    "lower": GoFunc(lambda s: _map_runes(s, "lower"), ("string",)),
    "upper": GoFunc(lambda s: _map_runes(s, "upper"), ("string",)),
    "pad": GoFunc(_pad, ("string", "int", "int")),
    "truncate": GoFunc(_truncate, ("string", "int")),
}

# templates.HeaderFunctions: the header row keeps column titles intact (pad is kept).
HEADER_FUNCS: Mapping[str, GoFunc] = {
    "json": GoFunc(lambda v: v, ("string",)),
    "split": GoFunc(lambda v, _: v, ("string", "string")),
    "join": GoFunc(lambda v, _: v, ("string", "string")),
    "title": GoFunc(lambda v: v, ("string",)),
    "lower": GoFunc(lambda v: v, ("string",)),
    "upper": GoFunc(lambda v: v, ("string",)),
    "truncate": GoFunc(lambda v, _: v, ("string", "int")),
}
