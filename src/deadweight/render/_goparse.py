"""Parser of the Go ``text/template`` subset in :mod:`deadweight.render.gotemplate`.

Follows Go 1.19's ``text/template/parse``: ``{{else if}}`` nests an ``if`` sharing one
``{{end}}``, functions must be known at parse time, variables are scoped to their control
structure, adjacent fields chain onto a term. Messages are Go's (``template: :LINE: …``).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from deadweight import limits
from deadweight.render._golex import (
    KEYWORDS,
    TemplateError,
    Token,
    describe,
    go_quote,
    lex,
    line_of,
)

_CONSTANTS = {"true": True, "false": False, "nil": None}


@dataclass(frozen=True, slots=True)
class Node:
    """One parse node.

    ``kind`` is text, field, var, dot, ident, const, pipe, chain, action, if, with, range or
    cmd. ``value``: the text, literal, field names (field, chain), variable name and
    fields (var) or, for a pipe, whether its declarations are assignments (``=``).
    ``branches`` of a control node: (body, else-body)."""

    kind: str
    pos: int
    source: str
    value: object = None
    children: tuple[Node, ...] = ()
    branches: tuple[tuple[Node, ...], ...] = ()
    decls: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Template:
    source: str
    root: tuple[Node, ...]
    funcs: Mapping[str, object]


class _Parser:
    def __init__(self, src: str, funcs: Mapping[str, object]) -> None:
        self.src, self.funcs = src, funcs
        self.tokens = lex(src)
        self.i = 0
        self.depth = 0
        self.vars: list[str] = ["$"]

    def error(self, token: Token, msg: str) -> TemplateError:
        return TemplateError(f"template: :{line_of(self.src, token.pos)}: {msg}")

    def peek(self, skip_space: bool = True) -> Token:
        while skip_space and self.tokens[self.i].kind == "space":
            self.i += 1
        return self.tokens[self.i]

    def next(self, skip_space: bool = True) -> Token:
        token = self.peek(skip_space)
        self.i += 1
        return token

    def items(self, ends: frozenset[str]) -> tuple[tuple[Node, ...], str, Token]:
        """Nodes up to one of the keywords ``ends`` (or EOF when ``ends`` is empty)."""
        nodes: list[Node] = []
        while True:
            token = self.next()
            if token.kind == "eof":
                if ends:
                    raise self.error(token, "unexpected EOF")
                return tuple(nodes), "", token
            if token.kind == "text":
                nodes.append(Node("text", token.pos, token.text, token.text))
                continue
            if token.kind != "left":
                raise self.error(token, f"unexpected {describe(token)}")
            word = self.peek()
            if word.kind == "ident" and word.text in ("end", "else"):
                if word.text not in ends:
                    raise self.error(word, f"unexpected {{{{{word.text}}}}}")
                self.next()
                return tuple(nodes), word.text, word
            nodes.append(self.action(token))

    def action(self, left: Token) -> Node:
        word = self.peek()
        if word.kind == "ident" and word.text in ("if", "with", "range"):
            self.next()
            return self.control(word, left)
        if word.kind == "ident" and word.text in KEYWORDS:
            raise self.error(word, f"{{{{{word.text}}}}} is not supported")
        pipe = self.pipeline("command", "right")
        return Node("action", word.pos, pipe.source, children=(pipe,))

    def nest(self, token: Token) -> None:
        """One level deeper (an action, a parenthesized pipeline): bounded, since each level
        is a frame of this recursive parser and of the executor."""
        self.depth += 1
        if self.depth > limits.TEMPLATE_DEPTH:
            raise self.error(token, f"nesting deeper than {limits.TEMPLATE_DEPTH} levels")

    def control(self, word: Token, left: Token) -> Node:
        self.nest(word)
        try:
            return self._control(word, left)
        finally:
            self.depth -= 1

    def _control(self, word: Token, left: Token) -> Node:
        depth = len(self.vars)
        pipe = self.pipeline(word.text, "right")
        body, end, token = self.items(frozenset({"end", "else"}))
        other: tuple[Node, ...] = ()
        if end == "else":
            nested = self.peek()
            if nested.kind == "ident" and nested.text == "if":
                self.next()  # {{else if ...}}: a nested if that shares our {{end}}
                other = (self.control(nested, left),)
            else:
                self.expect_right(token)
                other, _, _ = self.items(frozenset({"end"}))
                self.expect_right(token)
        else:
            self.expect_right(token)
        del self.vars[depth:]
        # Go reports a control node at its pipeline, showing the whole {{if …}}…{{end}}.
        source = self.src[left.pos : self.tokens[self.i - 1].pos + 2]
        return Node(word.text, pipe.pos, source, children=(pipe,), branches=(body, other))

    def expect_right(self, token: Token) -> None:
        if self.next().kind != "right":
            raise self.error(token, f"unexpected token in {{{{{token.text}}}}}")

    def pipeline(self, context: str, end: str) -> Node:
        self.nest(self.peek())
        try:
            return self._pipeline(context, end)
        finally:
            self.depth -= 1

    def _pipeline(self, context: str, end: str) -> Node:
        start = self.peek()
        decls: list[str] = []
        assign = False
        save = self.i
        while self.peek().kind == "var" and "." not in self.peek().text:
            var = self.next()
            follow = self.next()
            if follow.kind in ("declare", "assign") or (
                follow.kind == "comma" and context == "range"
            ):
                decls.append(var.text)
                assign = follow.kind == "assign"
                if follow.kind == "declare" or follow.kind == "comma":
                    self.vars.append(var.text)
                if follow.kind != "comma":
                    break
                continue
            self.i, decls = save, []
            break
        cmds: list[Node] = []
        while True:
            token = self.peek()
            if token.kind == end:
                self.next()
                break
            if token.kind in ("pipe", "right", "rparen", "eof", "declare", "assign", "comma"):
                raise self.error(token, f"unexpected {describe(token)} in {context}")
            cmds.append(self.command())
        if not cmds:
            raise self.error(start, f"missing value for {context}")
        for i, cmd in enumerate(cmds[1:]):
            if cmd.children[0].kind in ("const", "dot"):
                raise self.error(start, f"non executable command in pipeline stage {i + 2}")
        source = self.src[start.pos : self.tokens[self.i - 1].pos]
        return Node(
            "pipe", start.pos, source.strip(), assign, children=tuple(cmds), decls=tuple(decls)
        )

    def command(self) -> Node:
        start = self.peek()
        args: list[Node] = []
        while True:
            args.append(self.operand())
            token = self.peek(skip_space=False)
            if token.kind == "space":
                following = self.peek()
                if following.kind in ("right", "rparen", "pipe"):
                    if following.kind == "pipe":
                        self.next()
                    break
                continue
            if token.kind == "pipe":
                self.next()
                break
            if token.kind in ("right", "rparen"):
                break
            raise self.error(token, f"unexpected {describe(token)} in operand")
        return Node("cmd", start.pos, start.text, children=tuple(args))

    def operand(self) -> Node:
        node = self.term()
        follow = self.peek(skip_space=False)
        if follow.kind != "field":
            return node
        self.next(skip_space=False)
        names = tuple(follow.text[1:].split("."))
        if node.kind in ("const", "dot"):
            raise self.error(follow, f"unexpected . after term {go_quote(node.source)}")
        return Node("chain", follow.pos, node.source + follow.text, names, children=(node,))

    def term(self) -> Node:
        token = self.next()
        kind, text, pos = token.kind, token.text, token.pos
        if kind == "ident":
            if text in _CONSTANTS:
                return Node("const", pos, text, _CONSTANTS[text])
            if text not in self.funcs:
                raise self.error(token, f"function {go_quote(text)} not defined")
            return Node("ident", pos, text, text)
        if kind == "dot":
            return Node("dot", pos, text)
        if kind == "field":
            names = tuple(text[1:].split("."))
            # Go makes .A.B a chain of .A and .B: the node sits where .B starts
            at = pos + 1 + len(names[0]) if len(names) > 1 else pos
            return Node("field", at, text, names)
        if kind == "var":
            name, _, rest = text.partition(".")
            if name not in self.vars:
                raise self.error(token, f"undefined variable {go_quote(name)}")
            at = pos + len(name) if rest else pos
            return Node("var", at, text, (name, *(rest.split(".") if rest else ())))
        if kind == "lparen":
            return self.pipeline("parenthesized pipeline", "rparen")
        if kind in ("string", "raw", "char", "number"):
            return Node("const", pos, text, _literal(kind, text, self.error, token))
        raise self.error(token, f"unexpected {describe(token)} in operand")


def _literal(
    kind: str, text: str, error: Callable[[Token, str], TemplateError], token: Token
) -> object:
    try:
        if kind == "raw":
            return text[1:-1]
        if kind == "string":
            value = ast.literal_eval(text)
            return value if isinstance(value, str) else str(value)
        if kind == "char":
            return ord(ast.literal_eval(text))
        clean = text.replace("_", "")
        if len(clean) > limits.TEMPLATE_NUMBER_DIGITS:
            raise ValueError(text)
        if re.fullmatch(r"[+-]?(0[xXbBoO][0-9a-fA-F]+|\d+)", clean):
            based = clean.lstrip("+-")[:2].lower() in ("0x", "0b", "0o")
            number = int(clean, 0) if based else int(clean)
            if -(1 << 63) <= number < 1 << 64:  # Go's int64 or uint64
                return number
            if based:  # Go reads it as a float, and "0x…" without a "p" exponent is none
                raise ValueError(text)
        value = float(clean)
        if not math.isfinite(value):
            raise ValueError(text)
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    except (ValueError, SyntaxError, TypeError) as exc:
        raise error(token, f"illegal number syntax: {go_quote(text)}") from exc


def parse(source: str, funcs: Mapping[str, object]) -> Template:
    """Parse ``source``; ``funcs`` names the functions a template may call (Go checks this)."""
    parser = _Parser(source, funcs)
    root, _, _ = parser.items(frozenset())
    return Template(source, root, funcs)
