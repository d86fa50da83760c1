"""Template values, Go's builtin template functions and the corner of ``fmt`` they use.

Values are the template data of :mod:`deadweight.render.gotemplate`. Of ``fmt`` only
``%v``, Sprint, Sprintln and the Sprintf verbs a ``--format`` string plausibly uses are
implemented (``v s d q t x X c f e g``, flags ``-+# 0``, width, precision); misuse prints
Go's ``%!v(type=value)`` markers.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final


class _Missing:
    """Go's invalid ``reflect.Value``: what a missing map key evaluates to."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class GoStruct:
    """A pointer to a Go struct; ``fields`` are its exported zero-argument methods."""

    type_name: str
    fields: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class GoFunc:
    """A template function with Go's parameter types: ``string``, ``int``, ``[]string``,
    ``any`` (an ``interface{}``: a missing value becomes nil) or ``value`` (a
    ``reflect.Value``: passed as is)."""

    call: Callable[..., object]
    params: tuple[str, ...]
    variadic: str | None = None


class NilSlice(tuple[object, ...]):
    """A Go nil slice: empty and false, printed ``[]``, marshalled as ``null``."""

    __slots__ = ()


class NilMap(dict[str, object]):
    """A Go nil map: empty and false, printed ``map[]``, marshalled as ``null``."""


class StructValue(dict[str, object]):
    """A Go struct value, its fields in declaration order: printed ``{v1 v2 ...}``, always
    true; ``omit`` names the ``omitempty`` fields ``json.Marshal`` leaves out."""

    def __init__(self, fields: Mapping[str, object] | None = None, omit: Iterable[str] = ()):
        super().__init__(fields or {})
        self.omit = frozenset(omit)


class Duration(int):
    """A ``time.Duration`` (nanoseconds): printed as Go's ``String`` (``1m30s``, ``5ms``)."""

    __slots__ = ()


class TimeText(str):
    """A ``time.Time`` given as RFC 3339 text (marshalled as that text): printed as Go's
    ``Time.String`` (``2026-12-07 08:02:12.059404301 +0000 UTC``)."""

    __slots__ = ()


def _fraction(value: int, digits: int) -> tuple[str, int]:
    """Go's ``fmtFrac``: ``.123`` without trailing zeros (nothing when zero), the rest."""
    if digits == 0:
        return "", value
    frac = str(value % 10**digits).rjust(digits, "0").rstrip("0")
    return ("." + frac if frac else ""), value // 10**digits


def duration_string(ns: int) -> str:
    """``time.Duration.String``."""
    if ns == 0:
        return "0s"
    u = abs(ns)
    if u < 1_000_000_000:
        unit, digits = ("ns", 0) if u < 1000 else ("\u00b5s", 3) if u < 1_000_000 else ("ms", 6)
        frac, u = _fraction(u, digits)
        text = f"{u}{frac}{unit}"
    else:
        frac, u = _fraction(u, 9)
        text = f"{u % 60}{frac}s"
        if u >= 60:
            u //= 60
            text = f"{u % 60}m{text}"
            if u >= 60:
                text = f"{u // 60}h{text}"
    return "-" + text if ns < 0 else text


_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def time_text_string(text: str) -> str:
    """``Time.String`` of a time parsed from RFC 3339 (UTC for ``Z``, else a zone with no
    name, which Go writes as its offset)."""
    m = _TIME.match(text)
    if not m:
        return text
    day, clock, frac, zone = m.groups()
    frac = (frac or "")[:9].rstrip("0")
    offset = (
        "+0000 UTC" if zone in ("Z", "z") else f"{zone.replace(':', '')} {zone.replace(':', '')}"
    )
    return f"{day} {clock}{'.' + frac if frac else ''} {offset}"


_MAX_WIDTH = 1_000_000  # fmt's tooLarge
_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d*))?(.)", re.S)
_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_QUOTE_ESCAPES |= {"\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_type(value: object) -> str:
    """The Go type name a template error message shows for ``value``."""
    name = getattr(value, "type_name", None)
    if isinstance(name, str):
        return name
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]string"
    return "[]string"


def _float_v(value: float) -> str:
    """``%v`` of a float64: shortest digits, exponent form below 1e-4 or from 1e6 on."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)
    head = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{head}{mantissa}e{'-' if point < 1 else '+'}{abs(point - 1):02d}"
    return head + format(Decimal(repr(abs(value))).normalize(), "f")


def format_v(value: object) -> str:
    """``fmt.Sprint`` of one value (``%v``)."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Duration):
        return duration_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_v(value)
    if isinstance(value, TimeText):
        return time_text_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, StructValue):
        return "{" + " ".join(format_v(v) for v in value.values()) + "}"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{format_v(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, Sequence):
        return "[" + " ".join(format_v(item) for item in value) + "]"
    fields = getattr(value, "fields", {})
    return "&{" + " ".join(format_v(v) for v in fields.values()) + "}"


def fprint(values: Sequence[object], *, spaces: bool = False) -> str:
    """``Sprint`` (a space only between two non-strings) or, with ``spaces``, ``Sprintln``."""
    out: list[str] = []
    for i, value in enumerate(values):
        previous_is_text = i > 0 and isinstance(values[i - 1], str)
        if i > 0 and (spaces or not (isinstance(value, str) or previous_is_text)):
            out.append(" ")
        out.append(format_v(value))
    return "".join(out)


def quote(text: str) -> str:
    """``strconv.Quote``."""
    out = []
    for ch in text:
        if ch in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80 or "\udc80" <= ch <= "\udcff":  # a byte that is not UTF-8
            out.append(f"\\x{ord(ch) & 0xFF:02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _bad(verb: str, value: object) -> str:
    return f"%!{verb}({go_type(value)}={format_v(value)})"


def _verb(verb: str, value: object, precision: str | None, flags: str) -> str:
    if isinstance(value, list | tuple) and verb in "sdqxX":
        return "[" + " ".join(_verb(verb, item, precision, flags) for item in value) + "]"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if verb == "v":
        return format_v(value)
    if verb == "s" and isinstance(value, str):
        return value if precision is None else value[: int(precision or 0)]
    if verb == "q" and isinstance(value, str):
        return quote(value)
    if verb == "t" and isinstance(value, bool):
        return format_v(value)
    if verb == "c" and isinstance(value, int) and not isinstance(value, bool):
        # Go prints an invalid rune (negative, a surrogate, past U+10FFFF) as U+FFFD
        valid = 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF
        return chr(value) if valid else "\ufffd"
    if verb in "dxX" and isinstance(value, int) and not isinstance(value, bool):
        text = {"d": f"{value:d}", "x": f"{value:x}", "X": f"{value:X}"}[verb]
        return ("+" + text if "+" in flags and value >= 0 else text) if verb == "d" else text
    if verb in "xX" and isinstance(value, str):
        text = value.encode("utf-8", "surrogateescape").hex()
        return text.upper() if verb == "X" else text
    if verb in "feg" and number:
        if verb == "g" and precision is None:
            return _float_v(float(value))  # type: ignore[arg-type]
        return f"{float(value):.{int(precision or 6) if precision is not None else 6}{verb}}"  # type: ignore[arg-type]
    return _bad(verb, value)


def sprintf(fmt: str, args: Sequence[object]) -> str:
    """``fmt.Sprintf`` for the verbs listed in the module docstring."""
    out: list[str] = []
    pos = used = 0
    while (start := fmt.find("%", pos)) >= 0:
        out.append(fmt[pos:start])
        match = _VERB.match(fmt, start)
        if match is None:
            out.append("%!(NOVERB)")
            pos = len(fmt)
            break
        flags, width, precision, verb = match.groups()
        pos = match.end()
        # Go's fmt refuses a width or precision above 1e6 (tooLarge) and goes on without it
        if width is not None and (len(width) > 7 or int(width) > _MAX_WIDTH):
            out.append("%!(BADWIDTH)")
            width = None
        if precision and (len(precision) > 7 or int(precision) > _MAX_WIDTH):
            out.append("%!(BADPREC)")
            precision = None
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        text = _verb(verb, args[used], precision, flags)
        used += 1
        pad = max(0, int(width or 0) - len(text))
        if "-" in flags:
            text += " " * pad
        elif "0" in flags and verb in "dxXfeg" and text[:1] in "+-":
            text = text[0] + "0" * pad + text[1:]
        else:
            text = ("0" if "0" in flags and verb in "dxXfeg" else " ") * pad + text
        out.append(text)
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join(f"{go_type(a)}={format_v(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def truth(value: object) -> bool:
    """Go's ``isTrue``: the zero value of its type is false."""
    if value is MISSING or value is None:
        return False
    if isinstance(value, GoStruct | StructValue):
        return True
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return bool(value)


def _index_arg(index: object, length: int) -> int:
    """Go's ``indexArg``: an integer in 0..length."""
    if index is None or index is MISSING:
        raise ValueError("cannot index slice/array with nil")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ValueError(f"cannot index slice/array with type {go_type(index)}")
    if not 0 <= index <= length:
        raise ValueError(f"index out of range: {index}")
    return index


def _index(item: object, *keys: object) -> object:
    for key in keys:
        if isinstance(item, str | list | tuple):
            seq = item.encode("utf-8", "surrogateescape") if isinstance(item, str) else item
            x = _index_arg(key, len(seq))
            if x == len(seq):  # go1.19 lets it through to reflect, which panics
                kind = "string" if isinstance(item, str) else "slice"
                raise ValueError(f"reflect: {kind} index out of range")
            item = seq[x]  # a string indexes to a byte
        elif isinstance(item, Mapping):
            item = item.get(key, "")
        else:
            raise ValueError(f"can't index item of type {go_type(item)}")
    return item


def _compare(a: object, b: object) -> int:
    kinds = (type(a) is bool, isinstance(a, str), isinstance(b, str), type(b) is bool)
    if a is MISSING or b is MISSING or kinds[0] != kinds[3] or kinds[1] != kinds[2]:
        raise ValueError("incompatible types for comparison")
    if not isinstance(a, int | float | str) or not isinstance(b, int | float | str):
        raise ValueError("invalid type for comparison")
    return (a > b) - (a < b)  # type: ignore[operator]


def _slice(item: object, *indexes: object) -> object:
    """Go's ``slice``: ``item[i:j]`` (or ``[i:j:k]``); a string is sliced by bytes."""
    if item is None or item is MISSING:
        raise ValueError("slice of untyped nil")
    if len(indexes) > 3:
        raise ValueError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise ValueError("cannot 3-index slice a string")
        seq: bytes | Sequence[object] = item.encode("utf-8", "surrogateescape")
    elif isinstance(item, list | tuple):
        seq = item
    else:
        raise ValueError(f"can't slice item of type {go_type(item)}")
    bounds = [0, len(seq), len(seq)]
    for i, index in enumerate(indexes):
        bounds[i] = _index_arg(index, len(seq))
    for low, high in ((bounds[0], bounds[1]), (bounds[1], bounds[2])):
        if low > high:
            raise ValueError(f"invalid slice index: {low} > {high}")
    part = seq[bounds[0] : bounds[1]]
    return part.decode("utf-8", "surrogateescape") if isinstance(part, bytes) else list(part)


def _eval_args(args: Sequence[object]) -> str:
    """text/template's ``evalArgs``: one string as is, else ``Sprint`` (nil is ``<no value>``)."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return fprint(["<no value>" if a is None or a is MISSING else a for a in args])


_HTML_ESCAPES = {"'": "&#39;", '"': "&#34;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
_JS_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E"}
_JS_ESCAPES |= {"&": "\\u0026", "=": "\\u003D"}


def _html(*args: object) -> str:
    """``html``: Go's ``HTMLEscapeString`` of the arguments."""
    return "".join(_HTML_ESCAPES.get(ch, ch) for ch in _eval_args(args))


def _js_char(ch: str) -> str:
    if ch in _JS_ESCAPES:
        return _JS_ESCAPES[ch]
    if ch < " ":
        return f"\\u00{ord(ch):02X}"
    if ch < "\x80" or ch.isprintable() or "\udc80" <= ch <= "\udcff":
        return ch  # Go writes a byte that is not UTF-8 (its U+FFFD is printable) as is
    return f"\\u{ord(ch):04X}"


def _js(*args: object) -> str:
    """``js``: Go's ``JSEscapeString`` of the arguments."""
    return "".join(_js_char(ch) for ch in _eval_args(args))


def _urlquery(*args: object) -> str:
    """``urlquery``: Go's ``url.QueryEscape`` of the arguments."""
    return urllib.parse.quote_plus(_eval_args(args).encode("utf-8", "surrogateescape"), safe="~")


def _length(item: object) -> int:
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogateescape"))
    if isinstance(item, list | tuple | dict):
        return len(item)
    raise ValueError(f"len of type {go_type(item)}")


BUILTINS: Mapping[str, GoFunc] = {
    "and": GoFunc(lambda *a: a[-1], ("value",), "value"),
    "or": GoFunc(lambda *a: a[-1], ("value",), "value"),
    "not": GoFunc(lambda a: not truth(a), ("value",)),
    "len": GoFunc(_length, ("value",)),
    "index": GoFunc(_index, ("value",), "value"),
    "slice": GoFunc(_slice, ("value",), "value"),
    "html": GoFunc(_html, (), "any"),
    "js": GoFunc(_js, (), "any"),
    "urlquery": GoFunc(_urlquery, (), "any"),
    "print": GoFunc(lambda *a: fprint(a, spaces=False), (), "any"),
    "println": GoFunc(lambda *a: fprint(a, spaces=True) + "\n", (), "any"),
    "printf": GoFunc(lambda f, *a: sprintf(f, a), ("string",), "any"),
    "eq": GoFunc(lambda a, *b: any(_compare(a, x) == 0 for x in b), ("value",), "value"),
    "ne": GoFunc(lambda a, b: _compare(a, b) != 0, ("value", "value")),
    "lt": GoFunc(lambda a, b: _compare(a, b) < 0, ("value", "value")),
    "le": GoFunc(lambda a, b: _compare(a, b) <= 0, ("value", "value")),
    "gt": GoFunc(lambda a, b: _compare(a, b) > 0, ("value", "value")),
    "ge": GoFunc(lambda a, b: _compare(a, b) >= 0, ("value", "value")),
}
