"""Text shown on a terminal: what the terminal would act on instead of showing, escaped.

A file name, a tag, an instruction or a file's content an image holds may carry escape
sequences (``ESC [2J`` clears the screen, an OSC sequence sets the window title), C1
controls, bidi overrides (U+202E shows a name backwards) or bytes that are not UTF-8; the
CLI's text output on a terminal and the explorer show them as escapes instead.
"""

from __future__ import annotations

import re

# What a terminal would act on rather than show: C0 controls but tab and newline, DEL, C1
# controls (U+009B is a CSI by itself), bidi embeddings, overrides and isolates (they
# reorder what follows), and bytes that are not UTF-8 (surrogate escapes); and a colour
# sequence (SGR: ESC [ digits and semicolons m) unless colour is on and it conceals nothing.
_UNSAFE = re.compile(
    "\x1b\\[([0-9;]*)m|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\udc80-\udcff]"
)


def for_terminal(text: str, *, colour: bool = False) -> str:
    """``text`` made safe to write to a terminal: what the terminal would act on (a file
    name holding ``ESC [2J`` clears the screen; U+202E shows a name backwards) is written
    as an escape (``\\x1b``, ``\\u202e``, ``\\xe9`` for a byte that is not UTF-8);
    with ``colour``, colour sequences (the renderers' own) pass. Text with none of these
    comes back unchanged."""

    def escape(m: re.Match[str]) -> str:
        params = m.group(1)
        if params is not None and colour and "8" not in params.split(";"):
            return m.group(0)
        out = []
        for ch in m.group(0):
            code = ord(ch)
            if 0xDC80 <= code <= 0xDCFF:
                out.append(f"\\x{code - 0xDC00:02x}")
            elif code < 0x20 or 0x7F <= code <= 0x9F:
                out.append(f"\\x{code:02x}")
            elif code >= 0x2000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(ch)  # the rest of a colour sequence that is escaped
        return "".join(out)

    return _UNSAFE.sub(escape, text)
