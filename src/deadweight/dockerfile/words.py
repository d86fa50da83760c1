"""Words of history rows as the builders wrote them: Go-quoted lists (``CMD ["a" "b"]``),
``K=V`` pairs with unquoted values, and the Dockerfile quoting of a value."""

from __future__ import annotations

import re
from collections.abc import Mapping

_KEY = re.compile(r"(?:^|(?<= ))([A-Za-z_][A-Za-z0-9_.\-/]*)=")
_GO_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_PLAIN = re.compile(r"^[^\s\"'\\$`]+$")


def _go_unquote(body: str) -> str:
    """The value of a Go double-quoted string literal's body (strconv.Quote's escapes)."""
    out: list[str] = []
    i = 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 == len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
            i += 2 + width
        elif nxt in "01234567":
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def go_list(text: str) -> list[str] | None:
    """Go's ``%q`` of a []string (``["a" "b c"]``), or None when ``text`` is not one."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    inner = text[1:-1].strip()
    items: list[str] = []
    pos = 0
    while pos < len(inner):
        m = _GO_STRING.match(inner, pos)
        if m is None:
            return None
        items.append(_go_unquote(m.group(1)))
        pos = m.end()
        while pos < len(inner) and inner[pos] == " ":
            pos += 1
    return items


def quote(value: str) -> str:
    """A Dockerfile word for ``value``: bare when safe, else double-quoted with escapes."""
    if _PLAIN.match(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def pairs(text: str, known: Mapping[str, str], bare_keys: bool = False) -> list[tuple[str, str]]:
    """``K=V K2=V2`` as the builders write it (values unquoted, so spaces are ambiguous).

    A value runs to the next ``KEY=``; where the config knows a key's final value and it
    fits, that value decides where the next key starts.
    """
    starts = [m.start(1) for m in _KEY.finditer(text)]
    if bare_keys:
        return [
            (w.split("=", 1)[0], w.split("=", 1)[1]) if "=" in w else (w, "") for w in text.split()
        ]
    if not starts or starts[0] != 0:
        return [(text, "")] if text else []
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(starts):
        start = starts[i]
        eq = text.index("=", start)
        key = text[start:eq]
        j = i + 1
        want = known.get(key)
        if want is not None:
            end_at = eq + 1 + len(want)
            if text[eq + 1 : end_at] == want and (end_at == len(text) or end_at + 1 in starts):
                while j < len(starts) and starts[j] <= end_at:
                    j += 1
        end = starts[j] - 1 if j < len(starts) else len(text)
        out.append((key, text[eq + 1 : end]))
        i = j
    return out
