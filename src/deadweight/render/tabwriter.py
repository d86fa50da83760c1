"""A port of Go's ``text/tabwriter`` as docker CLI 20.10 uses it (docker-formats.md §6.2).

``tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)``: minwidth 10, padding 3, pad with spaces,
no flags. Cells end at TAB or VT, lines at LF or FF. Column widths are computed per block
of consecutive lines that have a cell in that column; the text after a line's last
terminator belongs to no column and is never padded. A FF, or a line holding a single
cell, flushes: later lines are laid out afresh. Lines are written back with LF (a FF
becomes LF too). Go's escape byte 0xFF never occurs in UTF-8 text, so it is not handled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from deadweight.render.text import codepoint_width

Width = Callable[[str], int]

_CELL_END = frozenset("\t\v\n\f")
_LINE_END = frozenset("\n\f")


class _Layout:
    """``Writer.format`` and ``Writer.writeLines`` over one flushed batch of lines."""

    def __init__(
        self, lines: Sequence[Sequence[str]], minwidth: int, padding: int, pad: str, width: Width
    ) -> None:
        self.lines = lines
        self.minwidth = minwidth
        self.padding = padding
        self.pad = pad
        self.width = width
        self.widths: list[int] = []
        self.out: list[str] = []

    def write_lines(self, line0: int, line1: int) -> None:
        for i in range(line0, line1):
            for j, cell in enumerate(self.lines[i]):
                self.out.append(cell)
                if j < len(self.widths):
                    self.out.append(self.pad * (self.widths[j] - self.width(cell)))
            if i + 1 < len(self.lines):
                self.out.append("\n")

    def format(self, line0: int, line1: int) -> None:
        """Go's recursive ``format``, one column per level, run on an explicit stack: a line
        of a thousand tabs is a thousand levels (issue 16)."""
        # a frame is [line0, line1, this]; its column is the number of widths above it
        stack = [[line0, line1, line0]]
        while stack:
            frame = stack[-1]
            first, last, this = frame
            column = len(self.widths)
            while this < last and column >= len(self.lines[this]) - 1:
                this += 1
            if this >= last:
                self.write_lines(first, last)
                stack.pop()
                if stack:  # back in the caller, which goes on after the block
                    self.widths.pop()
                continue
            # A cell in this column: print the lines above, then size the column's block.
            self.write_lines(first, this)
            block = this
            width = self.minwidth
            while this < last and column < len(self.lines[this]) - 1:
                width = max(width, self.width(self.lines[this][column]) + self.padding)
                this += 1
            self.widths.append(width)
            frame[0] = frame[2] = this
            stack.append([block, this, block])


def tabwrite(
    text: str,
    *,
    minwidth: int = 10,
    padding: int = 3,
    padchar: str = " ",
    width: Width = codepoint_width,
) -> str:
    """Align ``text`` like a Go ``tabwriter.Writer`` that is written ``text`` and flushed."""
    out: list[str] = []
    lines: list[list[str]] = [[]]
    start = 0

    def flush() -> None:
        layout = _Layout(lines, minwidth, padding, padchar, width)
        layout.format(0, len(lines))
        out.extend(layout.out)

    for i, ch in enumerate(text):
        if ch not in _CELL_END:
            continue
        lines[-1].append(text[start:i])
        start = i + 1
        if ch in _LINE_END:
            cells = len(lines[-1])
            lines.append([])
            if ch == "\f" or cells == 1:
                flush()
                lines = [[]]
    if start < len(text):
        lines[-1].append(text[start:])
    flush()
    return "".join(out)
