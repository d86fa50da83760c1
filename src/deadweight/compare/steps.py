"""Aligning the layers above the shared base: by diff_id, then by normalised instruction.

A weighted longest common subsequence pairs equal layers (same diff_id) first and rebuilt
steps (same instruction, other content) second; between two such anchors, steps of the
same Dockerfile keyword (RUN with RUN, COPY with COPY) pair as *changed*, the most similar
first, and what is left is *removed* (only in A) or *added* (only in B).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deadweight.compare.result import StepChange

SAME_LAYER = 3
SAME_INSTRUCTION = 2
# Two steps of the same keyword with no word in common still pair, weakly.
MIN_SIMILARITY = 0.01


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


def _score(a: Step, b: Step) -> float:
    if a.diff_id == b.diff_id:
        return SAME_LAYER
    if a.instruction and a.instruction == b.instruction:
        return SAME_INSTRUCTION
    return 0


def _similarity(a: Step, b: Step) -> float:
    """Same keyword, then the share of words the two instructions have in common (0-1)."""
    if a.keyword != b.keyword:
        return 0
    wa, wb = set(a.instruction.split()[1:]), set(b.instruction.split()[1:])
    if not wa and not wb:
        return 1
    return len(wa & wb) / len(wa | wb) if wa & wb else MIN_SIMILARITY


def _match(
    a: Sequence[Step], b: Sequence[Step], score: Callable[[Step, Step], float]
) -> list[tuple[int, int]]:
    """Index pairs of the best-scoring common subsequence (a weighted LCS), in order."""
    n, m = len(a), len(b)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = score(a[i], b[j])
            take = best[i + 1][j + 1] + s if s else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        s = score(a[i], b[j])
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
    """Unanchored steps: same-keyword steps pair as *changed*, most similar first (by the
    words they share, keeping build order); the rest are *added* or *removed*."""
    out: list[StepChange] = []
    i = j = 0
    for pi, pj in [*_match(a, b, _similarity), (len(a), len(b))]:
        out.extend(_change(sa, None, "removed") for sa in a[i:pi])
        out.extend(_change(None, sb, "added") for sb in b[j:pj])
        if pi < len(a) and pj < len(b):
            out.append(_change(a[pi], b[pj], "changed"))
        i, j = pi + 1, pj + 1
    return out


def align(a: Sequence[Step], b: Sequence[Step]) -> tuple[StepChange, ...]:
    """Every step of ``a`` and ``b`` once, in build order."""
    out: list[StepChange] = []
    i = j = 0
    for ai, bj in [*_match(a, b, _score), (len(a), len(b))]:
        out.extend(_gap(a[i:ai], b[j:bj]))
        if ai < len(a) and bj < len(b):
            same = a[ai].diff_id == b[bj].diff_id
            out.append(_change(a[ai], b[bj], "same" if same else "changed"))
        i, j = ai + 1, bj + 1
    return tuple(out)
