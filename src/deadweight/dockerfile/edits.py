"""Text edits behind the safe fixes: small, exact changes to one instruction's source."""

from __future__ import annotations

import re
from collections.abc import Callable

from deadweight.dockerfile.findings import Edit, Fix
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.syntax import Instruction

_SEGMENT = r"(?:\\\r?\n|`\r?\n|[^&|;\n])*"


def add_flag(
    source: str,
    ins: Instruction,
    tool: str,
    sub: str,
    flag: str,
    present: Callable[[str], bool],
) -> Fix | None:
    """Insert `` flag`` after ``sub`` in every ``tool ... sub`` command lacking it.

    ``tool`` is a regular expression for the command name; the command runs to the next
    ``&&``, ``||``, ``;``, ``|`` or unescaped newline.
    """
    if ins.exec_form is not None:
        return None
    raw = source[ins.start : ins.end]
    pattern = lazy(rf"(?<![\w./-])(?:{tool})(?![\w.-]){_SEGMENT}")
    out: list[str] = []
    last = 0
    changed = False
    for m in pattern.finditer(raw):
        segment = m.group(0)
        s = re.search(rf"(?<![\w-]){re.escape(sub)}(?![\w-])", segment)
        if s is None or present(segment):
            continue
        at = m.start() + s.end()
        out.append(raw[last:at] + " " + flag)
        last = at
        changed = True
    if not changed:
        return None
    out.append(raw[last:])
    return Fix(f"add {flag}", (Edit(ins.start, ins.end, "".join(out)),))


def append_command(source: str, ins: Instruction, command: str) -> Fix | None:
    """Append `` && command`` to a shell-form RUN without heredocs."""
    if ins.exec_form is not None or ins.heredocs or ins.trigger is not None:
        return None
    raw = source[ins.start : ins.end]
    return Fix(f"append `{command}`", (Edit(ins.start, ins.end, f"{raw} && {command}"),))


def apply(source: str, fixes: list[Fix]) -> str:
    """Apply fixes whose edits do not overlap one already taken, first come first served.

    Edits to the same instruction are chained: a later fix sees the text the earlier
    one produced only when both replace exactly the same span, which is how every
    fix here is written (one instruction, whole).
    """
    spans: dict[tuple[int, int], str] = {}
    taken: list[tuple[int, int]] = []
    for fix in fixes:
        for e in fix.edits:
            key = (e.start, e.end)
            if key in spans:
                spans[key] = _merge(source[e.start : e.end], spans[key], e.text)
                continue
            if any((e.start < b and a < e.end) or (e.start == e.end == a) for a, b in taken):
                continue
            spans[key] = e.text
            taken.append(key)
    out: list[str] = []
    pos = 0
    for (start, end), text in sorted(spans.items()):
        out.append(source[pos:start])
        out.append(text)
        pos = end
    out.append(source[pos:])
    return "".join(out)


def _merge(original: str, first: str, second: str) -> str:
    """Combine two rewrites of the same text when both only insert characters."""
    import difflib

    result = first
    matcher = difflib.SequenceMatcher(a=original, b=second, autojunk=False)
    inserts = [
        (i1, second[j1:j2]) for tag, i1, _i2, j1, j2 in matcher.get_opcodes() if tag == "insert"
    ]
    if any(tag not in ("equal", "insert") for tag, *_ in matcher.get_opcodes()):
        return first
    # map original positions into ``first`` by replaying its own inserts
    m1 = difflib.SequenceMatcher(a=original, b=first, autojunk=False)
    shift: list[tuple[int, int]] = []
    for tag, i1, _i2, j1, j2 in m1.get_opcodes():
        if tag == "insert":
            shift.append((i1, j2 - j1))
        elif tag != "equal":
            return first
    for pos, text in sorted(inserts, reverse=True):
        offset = sum(n for p, n in shift if p <= pos)
        result = result[: pos + offset] + text + result[pos + offset :]
    return result
