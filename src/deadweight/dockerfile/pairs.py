"""``KEY=value`` pairs of ENV, LABEL and ARG, with BuildKit's quoting rules."""

from __future__ import annotations


def words(text: str) -> list[str]:
    """Split on unquoted whitespace, removing quotes and backslash escapes."""
    words: list[str] = []
    cur: list[str] = []
    in_word = False
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(text) and text[i + 1] in '"\\$':
                i += 1
                cur.append(text[i])
            else:
                cur.append(ch)
        elif ch in "\"'":
            quote = ch
            in_word = True
        elif ch == "\\" and i + 1 < len(text):
            i += 1
            cur.append(text[i])
            in_word = True
        elif ch.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(ch)
            in_word = True
        i += 1
    if in_word:
        words.append("".join(cur))
    return words


def pairs(value: str) -> list[tuple[str, str]]:
    """``A=1 B="two words"`` or the legacy ``A one value`` form."""
    found = words(value)
    if found and "=" not in found[0]:
        key = found[0]
        rest = value.strip()[len(key) :].strip()
        return [(key, " ".join(words(rest)) if rest else "")]
    out = []
    for w in found:
        k, _, v = w.partition("=")
        out.append((k, v))
    return out


def arg_name(value: str) -> str | None:
    """The name an ``ARG`` declares, as hadolint reads it: the first word up to ``=``.
    ``ARG A=1 B=2`` declares ``A`` only to hadolint (its parser keeps one name; BuildKit
    declares both), and hadolint's rules and ShellCheck's predefined names follow it."""
    words = value.split(None, 1)
    return words[0].split("=", 1)[0] if words else None
