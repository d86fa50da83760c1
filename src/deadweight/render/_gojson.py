"""Go ``encoding/json`` output, byte for byte as Go 1.19 writes it (docker-formats.md §5.6).

* Strings: ``"`` and ``\\`` escaped, LF/CR/TAB as ``\\n``/``\\r``/``\\t``, every other byte
  below 0x20 as ``\\u00xx`` (lower-case hex; BS and FF too, as Go < 1.22 does), U+2028 and
  U+2029 always escaped, ``<``/``>``/``&`` escaped only when HTML escaping is on (the
  default of ``json.Marshal``; ``Encoder.SetEscapeHTML(false)`` turns it off). DEL and
  non-ASCII are written raw. Invalid UTF-8 (a lone surrogate here) becomes ``\\ufffd``.
* Objects keep the key order they are given: a Go struct's field order, or for a Go map
  the caller sorts the keys (Go sorts map keys bytewise; for valid text that is code
  point order, which Python's ``sorted`` gives).
* Indentation is ``json.MarshalIndent``/``json.Indent``: empty arrays and objects stay
  ``[]``/``{}``, ``": "`` after keys.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HTML = frozenset("<>&")


def _escape_char(ch: str, escape_html: bool) -> str:
    short = _SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code < 0x20 or code in (0x2028, 0x2029) or (escape_html and ch in _HTML):
        return f"\\u{code:04x}"
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    return ch


# the characters ``_escape_char`` changes; the others are written as they are
_ESCAPED = re.compile('["\\\\\x00-\x1f\u2028\u2029\ud800-\udfff]')
_ESCAPED_HTML = re.compile('["\\\\\x00-\x1f\u2028\u2029\ud800-\udfff<>&]')


def _escaped(m: re.Match[str]) -> str:
    return _escape_char(m.group(), False)


def _escaped_html(m: re.Match[str]) -> str:
    return _escape_char(m.group(), True)


def quote(text: str, *, escape_html: bool = True) -> str:
    """A Go JSON string literal (only the characters to escape are visited: a config of
    100,000 history rows is millions of characters, issue 16)."""
    if escape_html:
        return '"' + _ESCAPED_HTML.sub(_escaped_html, text) + '"'
    return '"' + _ESCAPED.sub(_escaped, text) + '"'


def _float(value: float) -> str:
    """``encodeState.floatEncoder`` for float64: shortest digits, 'f' or 'e' form."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {value!r}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        digits = repr(value)  # shortest round-trip, e.g. "1e+21", "1.5e-07"
        mantissa, _, exponent = digits.partition("e")
        sign = exponent[0]
        return f"{mantissa.removesuffix('.0')}e{sign}{int(exponent[1:]):02d}".replace("e-0", "e-")
    text = format(Decimal(repr(value)).normalize(), "f")
    return "-0" if text == "0" and math.copysign(1.0, value) < 0 else text


def _scalar(value: object, escape_html: bool) -> str | None:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return quote(value, escape_html=escape_html)
    return None


def encode(
    value: object,
    *,
    escape_html: bool = True,
    indent: str | None = None,
    prefix: str = "",
    _depth: int = 0,
) -> str:
    """``json.Marshal`` (``indent=None``) or ``json.MarshalIndent(v, prefix, indent)``."""
    scalar = _scalar(value, escape_html)
    if scalar is not None:
        return scalar
    if isinstance(value, Mapping):
        items = [(quote(str(k), escape_html=escape_html), v) for k, v in value.items()]
        open_, close = "{", "}"
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = [("", v) for v in value]
        open_, close = "[", "]"
    else:
        raise TypeError(f"json: unsupported type: {type(value).__name__}")
    if not items:
        return open_ + close
    separator = ":" if indent is None else ": "
    parts = []
    for key, item in items:
        encoded = encode(
            item, escape_html=escape_html, indent=indent, prefix=prefix, _depth=_depth + 1
        )
        parts.append(f"{key}{separator}{encoded}" if key else encoded)
    if indent is None:
        return open_ + ",".join(parts) + close
    inner = "\n" + prefix + indent * (_depth + 1)
    outer = "\n" + prefix + indent * _depth
    return open_ + inner + ("," + inner).join(parts) + outer + close
