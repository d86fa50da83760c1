"""Aligning the layers above the shared base: by diff_id, then by normalised instruction.

A weighted longest common subsequence pairs equal layers (same diff_id) first and rebuilt
steps (same instruction, other content) second; between two such anchors, steps of the
same Dockerfile keyword (RUN with RUN, COPY with COPY) pair in order as *changed*, and
what is left is *removed* (only in A) or *added* (only in B).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deadweight.compare.result import StepChange

SAME_LAYER = 3
SAME_INSTRUCTION = 2


@dataclass(frozen=True, slots=True)
class Step:
    """A layer of one image: its index, diff_id, normalised instruction and size."""

    index: int
    diff_id: str
    instruction: str
    size: int

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper() if self.instruction else ""


def _score(a: Step, b: Step) -> int:
    if a.diff_id == b.diff_id:
        return SAME_LAYER
    if a.instruction and a.instruction == b.instruction:
        return SAME_INSTRUCTION
    return 0


def _anchors(a: Sequence[Step], b: Sequence[Step]) -> list[tuple[int, int]]:
    """Index pairs of the best-scoring common subsequence, in order."""
    n, m = len(a), len(b)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = _score(a[i], b[j])
            take = best[i + 1][j + 1] + s if s else -1
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        s = _score(a[i], b[j])
        if s and best[i][j] == best[i + 1][j + 1] + s:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _change(a: Step | None, b: Step | None, status: str) -> StepChange:
    return StepChange(
        status,  # type: ignore[arg-type]
        a.index if a else -1,
        b.index if b else -1,
        a.instruction if a else "",
        b.instruction if b else "",
        a.size if a else 0,
        b.size if b else 0,
    )


def _gap(a: Sequence[Step], b: Sequence[Step]) -> list[StepChange]:
    """Unanchored steps: same keyword pairs in order as changed, the rest added/removed."""
    out: list[StepChange] = []
    used: set[int] = set()
    pairs: dict[int, int] = {}
    for i, sa in enumerate(a):
        for j, sb in enumerate(b):
            if j not in used and sa.keyword == sb.keyword and (not used or j > max(used)):
                pairs[i] = j
                used.add(j)
                break
    j = 0
    for i, sa in enumerate(a):
        if i in pairs:
            while j < pairs[i]:
                out.append(_change(None, b[j], "added"))
                j += 1
            out.append(_change(sa, b[pairs[i]], "changed"))
            j += 1
        else:
            out.append(_change(sa, None, "removed"))
    out.extend(_change(None, sb, "added") for sb in b[j:])
    return out


def align(a: Sequence[Step], b: Sequence[Step]) -> tuple[StepChange, ...]:
    """Every step of ``a`` and ``b`` once, in build order."""
    out: list[StepChange] = []
    i = j = 0
    for ai, bj in [*_anchors(a, b), (len(a), len(b))]:
        out.extend(_gap(a[i:ai], b[j:bj]))
        if ai < len(a) and bj < len(b):
            same = a[ai].diff_id == b[bj].diff_id
            out.append(_change(a[ai], b[bj], "same" if same else "changed"))
        i, j = ai + 1, bj + 1
    return tuple(out)
