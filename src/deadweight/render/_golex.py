"""Lexer of the Go ``text/template`` subset in :mod:`deadweight.render.gotemplate`.

Follows Go 1.19's ``text/template/parse`` lexer: ``{{``/``}}`` delimiters, trim markers
that need a space (``{{- `` and `` -}}``), comments ``{{/* … */}}`` that must touch their
delimiters, newlines allowed inside actions. Messages are Go's, prefixed with
``template: :LINE:`` as ``template.New("")`` reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SPACE = " \t\r\n"
KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break"}
KEYWORDS |= {"continue"}
_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]+)
    |(?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
    |(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+
        |(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<dot>\.)
    |(?P<string>"(?:[^"\\\n]|\\.)*")
    |(?P<raw>`[^`]*`)
    |(?P<char>'(?:[^'\\\n]|\\.)+')
    |(?P<declare>:=)|(?P<assign>=)|(?P<pipe>\|)|(?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)""",
    re.X,
)
_UNTERMINATED = {
    '"': "unterminated quoted string",
    "`": "unterminated raw quoted string",
    "'": "unterminated character constant",
}


def _unicode(ch: str) -> str:
    """Go's ``%#U``: ``U+007D '}'``."""
    return f"U+{ord(ch):04X} '{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"


class TemplateError(Exception):
    """A parse or execution error; ``str()`` is Go's message."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


def _is_space(src: str, pos: int) -> bool:
    return pos < len(src) and src[pos] in SPACE


def line_of(src: str, pos: int) -> int:
    return 1 + src.count("\n", 0, pos)


def go_quote(text: str) -> str:
    """Go's ``%q`` of a simple string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe(token: Token) -> str:
    """Go's ``item.String()`` as used in "unexpected ..." messages."""
    if token.kind == "eof":
        return "EOF"
    if token.kind == "ident" and token.text in KEYWORDS:
        return f"<{token.text}>"
    return go_quote(token.text)


def lex(src: str) -> list[Token]:
    tokens: list[Token] = []
    pos, trim_next = 0, False
    while pos < len(src):
        start = src.find("{{", pos)
        text = src[pos:] if start < 0 else src[pos:start]
        body = start + 2
        if start >= 0 and src.startswith("-", body) and _is_space(src, body + 1):
            text, body = text.rstrip(SPACE), body + 2
        if trim_next:
            text, trim_next = text.lstrip(SPACE), False
        if text:
            tokens.append(Token("text", text, pos))
        if start < 0:
            break
        if src.startswith("/*", body):
            pos, trim_next = _comment(src, body)
            continue
        tokens.append(Token("left", "{{", start))
        pos, trim_next = _lex_action(src, body, tokens)
    tokens.append(Token("eof", "", len(src)))
    return tokens


def _comment(src: str, body: int) -> tuple[int, bool]:
    end = src.find("*/", body + 2)
    if end < 0:
        raise TemplateError(f"template: :{line_of(src, body)}: unclosed comment")
    end += 2
    trim = _is_space(src, end) and src.startswith("-}}", end + 1)
    if trim:
        end += 2
    if not src.startswith("}}", end):
        msg = "comment ends before closing delimiter"
        raise TemplateError(f"template: :{line_of(src, end)}: {msg}")
    return end + 2, trim


def _lex_action(src: str, pos: int, tokens: list[Token]) -> tuple[int, bool]:
    while True:
        if pos >= len(src):
            raise TemplateError(f"template: :{line_of(src, pos)}: unclosed action")
        if _is_space(src, pos) and src.startswith("-}}", pos + 1):
            tokens.append(Token("right", "}}", pos))
            return pos + 4, True
        if src.startswith("}}", pos):
            tokens.append(Token("right", "}}", pos))
            return pos + 2, False
        m = _TOKEN.match(src, pos)
        if m is None or m.lastgroup is None:
            ch = src[pos]
            msg = _UNTERMINATED.get(ch) or f"unrecognized character in action: {_unicode(ch)}"
            raise TemplateError(f"template: :{line_of(src, pos)}: {msg}")
        tokens.append(Token(m.lastgroup, m.group(), pos))
        pos = m.end()
