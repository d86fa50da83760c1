"""A small, real Go ``text/template`` (Go 1.19) for docker's ``--format`` strings.

Supported: text, ``{{pipeline}}`` with fields and chained fields, ``.``, ``$`` and
variables (``:=``, ``=``), string/raw/char/number/bool/nil literals, parenthesized
pipelines, ``|``, ``if``/``else if``/``else``, ``with``, ``range`` over lists and maps,
comments, trim markers ``{{- … -}}``, and the builtins ``and or not len index print
printf println eq ne lt le gt ge``. ``define``, ``template``, ``block``, ``break`` and
``continue`` are parse errors. Error texts are Go's
(``template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type T``).

Data: a :class:`GoStruct` stands for a pointer to a struct whose exported zero-argument
methods are its ``fields`` (docker's row contexts); a ``dict`` is a Go map (a missing key
is :data:`MISSING`, printed ``<no value>``); ``str``, ``int``, ``float``, ``bool``,
``list`` and ``None`` (nil) are what they look like.

Entry points: :func:`parse` + :func:`execute` (``images``/``history`` go through
:func:`deadweight.render.formatter.write`, which adds ``table`` and the tab writer) and
:func:`render_template` for ``inspect --format``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from deadweight import limits
from deadweight.errors import UsageError
from deadweight.render._dockerfuncs import FUNCS
from deadweight.render._gobuiltins import (
    BUILTINS,
    MISSING,
    GoFunc,
    GoStruct,
    StructValue,
    fprint,
    go_type,
    truth,
)
from deadweight.render._golex import TemplateError
from deadweight.render._goparse import Node, Template
from deadweight.render._goparse import parse as _parse

__all__ = [
    "BUILTINS",
    "MISSING",
    "GoFunc",
    "GoStruct",
    "Template",
    "TemplateError",
    "execute",
    "one_line",
    "parse",
    "partial_execute",
    "render_template",
    "truth",
]

_NO_FINAL = object()  # Go's missingVal: no value piped in from a previous command


def _go_string(node: Node) -> str:
    """A node as text/template/parse's ``String`` writes it (error messages quote it)."""
    if node.kind == "cmd":
        return " ".join(
            f"({_go_string(a)})" if a.kind == "pipe" else _go_string(a) for a in node.children
        )
    if node.kind == "pipe":
        decls = ", ".join(node.decls) + " := " if node.decls else ""
        return decls + " | ".join(_go_string(c) for c in node.children)
    if node.kind == "chain" and node.children and node.children[0].kind == "pipe":
        return f"({_go_string(node.children[0])})." + ".".join(_names(node))
    return node.source


def _last_evaluated(pipe: Node) -> Node:
    """The node Go evaluated last in ``pipe``, where it reports an error about the result:
    a function's last argument, else the last command's first word."""
    node = pipe
    while node.kind in ("pipe", "cmd"):
        calls = node.children[0].kind == "ident" and len(node.children) > 1
        node = node.children[-1] if node.kind == "pipe" or calls else node.children[0]
    return node


def _names(node: Node) -> tuple[str, ...]:
    """Field names of a field or chain node; variable name then fields of a var node."""
    value = node.value
    assert isinstance(value, tuple)
    return tuple(str(v) for v in value)


class _State:
    def __init__(self, template: Template, root: object, missing_key_error: bool = False) -> None:
        self.src = template.source
        self.funcs = template.funcs
        self.missing_key_error = missing_key_error
        self.out: list[str] = []
        self.size = 0
        self.vars: list[tuple[str, object]] = [("$", root)]

    def error(self, node: Node, msg: str) -> TemplateError:
        """Go's ``ErrorContext``: line, byte column and the node as ``String()`` writes it."""
        before = self.src[: node.pos]
        column = len(before[before.rfind("\n") + 1 :].encode("utf-8", "surrogateescape"))
        line = 1 + before.count("\n")
        context = _go_string(node)
        return TemplateError(f'template: :{line}:{column}: executing "" at <{context}>: {msg}')

    def walk(self, dot: object, nodes: Sequence[Node]) -> None:
        for node in nodes:
            if node.kind == "text":
                self.emit(str(node.value))
            elif node.kind == "action":
                pipe = node.children[0]
                value = self.pipeline(dot, pipe)
                if not pipe.decls:
                    if isinstance(value, GoStruct):
                        raise self.error(node, "printing a whole row is not supported")
                    self.emit("<no value>" if value is MISSING else fprint([value]))
            else:
                self.control(dot, node)

    def control(self, dot: object, node: Node) -> None:
        depth = len(self.vars)
        value = self.pipeline(dot, node.children[0])
        body, other = node.branches
        if node.kind != "range":
            chosen = truth(value)
            self.walk(value if chosen and node.kind == "with" else dot, body if chosen else other)
        else:
            pairs = self.range_pairs(node, value)
            for key, elem in pairs:
                names = node.children[0].decls
                for name, item in zip(
                    names, (elem,) if len(names) == 1 else (key, elem), strict=False
                ):
                    self.set_var(node, name, item)
                self.walk(elem, body)
            if not pairs:
                self.walk(dot, other)
        del self.vars[depth:]

    def range_pairs(self, node: Node, value: object) -> list[tuple[object, object]]:
        if isinstance(value, Mapping):
            return [(k, value[k]) for k in sorted(value)]
        if isinstance(value, list | tuple):
            return list(enumerate(value))
        if value is None or value is MISSING:
            return []
        raise self.error(
            _last_evaluated(node.children[0]), f"range can't iterate over {fprint([value])}"
        )

    def variable(self, node: Node, name: str) -> object:
        # {{$x := $x}} parses (Go declares $x first) but $x has no value yet when it runs
        for n, v in reversed(self.vars):
            if n == name:
                return v
        raise self.error(node, f"undefined variable: {name}")

    def emit(self, text: str) -> None:
        self.size += len(text)
        if self.size > limits.TEMPLATE_OUTPUT:
            raise TemplateError(f"template: output longer than {limits.TEMPLATE_OUTPUT} characters")
        self.out.append(text)

    def set_var(self, node: Node, name: str, value: object) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(node, f"undefined variable: {name}")

    def pipeline(self, dot: object, pipe: Node) -> object:
        value: object = _NO_FINAL
        for cmd in pipe.children:
            value = self.command(dot, cmd, value)
        for name in pipe.decls:
            if pipe.value:
                self.set_var(pipe, name, value)
            else:
                self.vars.append((name, value))
        return value

    def command(self, dot: object, cmd: Node, final: object) -> object:
        first, args = cmd.children[0], cmd.children[1:]
        if first.kind == "ident":
            return self.function(dot, first, args, final, cmd)
        if first.kind in ("field", "chain"):
            receiver = dot if first.kind == "field" else self.arg(dot, first.children[0])
            return self.field_chain(dot, receiver, first, _names(first), args, final)
        if first.kind == "var":
            parts = _names(first)
            value = self.variable(first, parts[0])
            if len(parts) > 1:
                return self.field_chain(dot, value, first, parts[1:], args, final)
        if args or final is not _NO_FINAL:
            raise self.error(first, f"can't give argument to non-function {first.source}")
        if first.kind == "var":
            return value
        if first.kind == "pipe":
            return self.pipeline(dot, first)
        if first.kind == "dot":
            return dot
        if first.value is None:
            raise self.error(first, "nil is not a command")
        return first.value

    def field_chain(
        self,
        dot: object,
        receiver: object,
        node: Node,
        names: tuple[str, ...],
        args: Sequence[Node],
        final: object,
    ) -> object:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            has_args = last and (bool(args) or final is not _NO_FINAL)
            receiver = self.field(
                node, name, receiver, has_args, len(args) + (final is not _NO_FINAL)
            )
        return receiver

    def field(self, node: Node, name: str, receiver: object, has_args: bool, nargs: int) -> object:
        if receiver is MISSING:
            return MISSING
        if isinstance(receiver, GoStruct) and name in receiver.fields:
            if has_args:
                raise self.error(node, f"wrong number of args for {name}: want 0 got {nargs}")
            return receiver.fields[name]
        if isinstance(receiver, StructValue) and name not in receiver:
            raise self.error(node, f"can't evaluate field {name} in type struct")
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.error(node, f"{name} is not a method but has arguments")
            if self.missing_key_error and name not in receiver:
                raise self.error(node, f'map has no entry for key "{name}"')
            return receiver.get(name, MISSING)
        if receiver is None:
            raise self.error(node, f"nil pointer evaluating interface {{}}.{name}")
        raise self.error(node, f"can't evaluate field {name} in type {go_type(receiver)}")

    def arg(self, dot: object, node: Node) -> object:
        if node.kind in ("field", "chain", "var", "pipe", "dot", "ident"):
            cmd = Node("cmd", node.pos, node.source, children=(node,))
            return self.command(dot, cmd, _NO_FINAL)
        return node.value

    def typed(self, node: Node, value: object, typ: str, constant: bool) -> object:
        if typ == "value":
            return value
        if value is MISSING:
            if typ in ("any", "[]string"):
                return None
            raise self.error(node, f"invalid value; expected {typ}")
        ok = {
            "any": True,
            "string": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "[]string": isinstance(value, list | tuple),
        }[typ]
        if ok:
            return value
        if constant:
            expected = "integer" if typ == "int" else typ
            raise self.error(node, f"expected {expected}; found {node.source}")
        raise self.error(node, f"wrong type for value; expected {typ}; got {go_type(value)}")

    def function(
        self, dot: object, ident: Node, args: Sequence[Node], final: object, cmd: Node
    ) -> object:
        name = str(ident.value)
        fn = self.funcs.get(name) or BUILTINS[name]
        assert isinstance(fn, GoFunc)
        count = len(args) + (final is not _NO_FINAL)
        fixed = len(fn.params)
        if fn.variadic is not None and count < fixed:
            raise self.error(
                ident, f"wrong number of args for {name}: want at least {fixed} got {len(args)}"
            )
        if fn.variadic is None and count != fixed:
            raise self.error(ident, f"wrong number of args for {name}: want {fixed} got {count}")
        types = [*fn.params, *([fn.variadic] * max(0, count - fixed))]
        values: list[object] = []
        for node, typ in zip(args, types, strict=False):
            value = self.typed(node, self.arg(dot, node), str(typ), node.kind == "const")
            if name in ("and", "or") and truth(value) == (name == "or"):
                return value  # and/or stop at the first decisive argument
            values.append(value)
        if final is not _NO_FINAL:
            values.append(self.typed(ident, final, str(types[-1]), False))
        try:
            return fn.call(*values)
        except (ValueError, TypeError, IndexError) as exc:
            raise self.error(cmd, f"error calling {name}: {exc}") from exc


def execute(template: Template, data: object, *, missing_key_error: bool = False) -> str:
    """Apply ``template`` to ``data``; raise :class:`TemplateError` as Go's Execute would.

    ``missing_key_error`` is Go's ``Option("missingkey=error")``."""
    state = _State(template, data, missing_key_error)
    state.walk(data, template.root)
    return "".join(state.out)


def parse(source: str, funcs: Mapping[str, GoFunc]) -> Template:
    """Parse with the builtins plus ``funcs`` (which override builtins of the same name)."""
    return _parse(source, {**BUILTINS, **funcs})


def partial_execute(template: Template, data: object) -> str:
    """Execute, keeping the output written before an error (docker's table headers)."""
    state = _State(template, data)
    with contextlib.suppress(TemplateError):
        state.walk(data, template.root)
    return "".join(state.out)


def one_line(error: TemplateError) -> str:
    """Go's message, with a newline quoted from the template escaped to keep one line."""
    return str(error).replace("\n", "\\n")


def render_template(source: str, data: object, raw: object = None) -> str:
    """``docker inspect --format``: ``source`` with docker's functions applied to ``data``.

    Unlike ``--format`` of ``images``/``history`` there is no ``table`` keyword and no
    ``\\t``/``\\n`` replacement. As docker's ``TemplateInspector``, the template first runs
    on ``data``, the typed values docker decodes the answer into
    (:func:`~deadweight.render.inspect.template_data`: zero values for what the JSON left
    out, nil slices, struct values; a map's missing key is ``<no value>``); if that fails
    (a field a struct lacks, a nil pointer), it runs again on ``raw``, the JSON document,
    with ``missingkey=error``, and that run's error is the one reported. A pointer inside a
    printed struct (a ``Healthcheck`` within ``{{.Config}}``) shows its value where docker
    prints an address. Raises :class:`~deadweight.errors.UsageError`.
    """
    try:
        template = parse(source, FUNCS)
        if raw is None:
            return execute(template, data, missing_key_error=True)
        try:
            return execute(template, data)
        except TemplateError:
            return execute(template, raw, missing_key_error=True)
    except TemplateError as exc:
        raise UsageError(f"template parsing error: {one_line(exc)}") from exc
