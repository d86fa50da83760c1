"""Judging two exercises of the same way: the original's and the result's.

Both stay up (or exit alike), each HTTP probe answers alike (``--verify-body``), each
probe command and probe script exits alike. Each check remembers which traces of the
original lie behind it, so the repair loop can widen the plan with exactly those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deadweight.minify import Evidence
from deadweight.optimize.verify import BodyRule, Check, Run, compare_http, compare_start
from deadweight.runs.exercise import Exercise, probe_phase


@dataclass(frozen=True, slots=True)
class Judged:
    """A check and the names of the traces behind it."""

    check: Check
    sources: tuple[str, ...]


def compare_exits(subject: str, original: Run, result: Run) -> Check:
    """A probe command or script: the same exit code in both."""
    if original.error or result.error:
        why = f"original {original.describe()}, minified {result.describe()}"
        return Check("command", subject, original, result, False, why)
    ok = original.exit_code == result.exit_code
    why = "" if ok else f"exit code {original.exit_code} became {result.exit_code}"
    return Check("command", subject, original, result, ok, why)


def judge(original: Exercise, result: Exercise, body: BodyRule, *, several: bool) -> list[Judged]:
    """The checks of one way; subjects name the way when there are several."""
    way = original.way

    def named(subject: str) -> str:
        return f"{way.name} · {subject}" if several else subject

    start = compare_start(way.name, original.start, result.start)
    found = [Judged(start, (way.name, way.source("life")))]
    for a, b in zip(original.outcomes, result.outcomes, strict=True):
        subject = named(a.subject)
        if a.kind == "http":
            check = compare_http(subject, a.run, b.run, body)
        else:
            check = compare_exits(subject, a.run, b.run)
        found.append(Judged(check, (way.name, way.source(probe_phase(a.kind, a.subject)))))
    return found


def traces_behind(failed: Iterable[Judged], traced: Sequence[Exercise]) -> Evidence:
    """The original's traces behind the failed checks."""
    sources = {s for j in failed if not j.check.passed for s in j.sources}
    return Evidence(tuple(t for run in traced for t in run.traces if t.source in sources))
