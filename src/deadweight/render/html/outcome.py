"""What the reports of the commands that write a new image (``optimize``, ``minify``) share:
the before and after figures, the line saying what was written, and a verification run's
checks, original beside rewritten."""

from __future__ import annotations

from collections.abc import Sequence

from deadweight.optimize.verify import Check
from deadweight.render.html.markup import figure, table, text


def status_line(
    *, dry_run: bool, written: bool, forced: bool, destination: str | None, image_id: str = "",
    refused: str = "",
) -> str:  # fmt: skip
    """The paragraph under the figures: a dry run, what was written, or why not."""
    if dry_run:
        said = "Dry run: nothing was written."
    elif written:
        what = f" (image {image_id})" if image_id else ""
        forced_ = " despite a failed verification (--force)" if forced else ""
        said = f"Wrote {destination}{what}{forced_}."
    else:
        said = f"Not written: {destination}" + (f" ({refused})." if refused else ".")
    return f'<p id="status" class="note">{text(said)}</p>'


def verdict_figure(passed: bool | None, not_run: str) -> str:
    """The verification figure: passed, FAILED, or ``not_run`` when nothing was run."""
    word = not_run if passed is None else "passed" if passed else "FAILED"
    tone = "" if passed is None else "good" if passed else "bad"
    return figure("verification", word, tone, "verification")


def checks_table(table_id: str, checks: Sequence[Check], rewritten: str) -> str:
    """One verification run: each check, what the original and the ``rewritten`` image did."""
    return table(
        table_id,
        [("", ""), ("check", "code"), ("original", ""), (rewritten, ""), ("why", "")],
        [("ok" if c.passed else "FAIL", f"{c.name} {c.subject}", c.original.describe(),
          c.optimized.describe(), c.reason) for c in checks],
    )  # fmt: skip
