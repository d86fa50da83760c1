"""docker/cli 20.10's ``formatter.Context.Write`` (docker-formats.md §6).

``write`` turns a ``--format`` value into output: a leading ``table`` makes a table
(header row from the same template applied to the column titles, then the rows, all
through the tab writer), otherwise rows are written as they come. The body is trimmed
of spaces and its two-character ``\\t``/``\\n`` become TAB/LF. Every row is the template
applied to the row plus ``"\\n"``. A template that does not parse or fails on a row is a
:class:`~deadweight.errors.UsageError`; a header that fails keeps what it printed before
the failure (docker ignores that error).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from deadweight import limits
from deadweight.errors import UsageError
from deadweight.render._dockerfuncs import FUNCS, HEADER_FUNCS
from deadweight.render.gotemplate import (
    GoStruct,
    Template,
    TemplateError,
    execute,
    one_line,
    parse,
    partial_execute,
)
from deadweight.render.tabwriter import tabwrite

TABLE = "table"
_ESCAPES = re.compile(r"\\[tn]")


def template_body(format_: str) -> tuple[bool, str]:
    """``Context.preFormat``: (is it a table, the template text)."""
    is_table = format_.startswith(TABLE)
    body = format_[len(TABLE) :] if is_table else format_
    body = _ESCAPES.sub(lambda m: "\t" if m.group() == "\\t" else "\n", body.strip(" "))
    return is_table, body


def write(format_: str, rows: Iterable[GoStruct], header: Mapping[str, str]) -> str:
    """``formatter.Context.Write``: the bytes the CLI prints for ``rows`` (read once)."""
    is_table, body = template_body(format_)
    try:
        template = parse(body, FUNCS)
        lines, size = [], 0
        for row in rows:
            lines.append(execute(template, row) + "\n")
            size += len(lines[-1])
            if size > limits.TEMPLATE_OUTPUT:
                raise TemplateError(
                    f"template: output longer than {limits.TEMPLATE_OUTPUT} characters"
                )
    except TemplateError as exc:
        raise UsageError(f"template parsing error: {one_line(exc)}") from exc
    if not is_table:
        return "".join(lines)
    header_template = Template(template.source, template.root, {**template.funcs, **HEADER_FUNCS})
    titles = partial_execute(header_template, dict(header))
    return tabwrite(titles + "\n" + "".join(lines))
