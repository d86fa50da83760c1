"""optimize's workflow: the plan applied, both images verified on the engine when asked,
the result written to its destination unless verification failed (or ``force``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deadweight.analysis.sizes import layer_size
from deadweight.filetree.delta import LayerDelta
from deadweight.image import Image
from deadweight.optimize import Plan, Report, apply
from deadweight.optimize.verify import BodyRule
from deadweight.runs.delivery import deliver
from deadweight.runs.verify import verify
from deadweight.sources import Location


@dataclass(frozen=True)
class Checks:
    """What ``--verify``, ``--verify-cmd`` and ``--verify-http`` ask for."""

    run: bool = False
    command: str | None = None
    url: str | None = None
    body: BodyRule = "shape"

    @property
    def wanted(self) -> bool:
        return self.run or bool(self.command) or bool(self.url)


def dry_run(image: Image, p: Plan, deltas: tuple[LayerDelta, ...]) -> Report:
    """The report of a plan not applied: the one squashed layer's size it predicts."""
    before = tuple(d.size for d in deltas)
    if not p.changes:
        planned = before[p.keep_bottom :]
    else:
        planned = (sum(before[p.keep_bottom :]) - p.bytes_saved,)
    return Report(image.name, p, before, before[: p.keep_bottom] + planned, dry_run=True)


def optimize_to(
    image: Image,
    p: Plan,
    deltas: tuple[LayerDelta, ...],
    out: Location,
    *,
    checks: Checks = Checks(),
    force: bool = False,
    insecure: bool = False,
    written: Callable[[], None] | None = None,
) -> Report:
    """Apply ``p``, verify when ``checks`` ask, write to ``out`` unless verification failed
    and not ``force`` (then call ``written``); the report of all that."""
    before = tuple(d.size for d in deltas)
    result = apply(image, p, deltas=deltas)
    after = before if result is image else (*before[: p.keep_bottom], layer_size(result.layers[-1]))
    verification = (
        verify(image, result, command=checks.command, url=checks.url, body=checks.body)
        if checks.wanted
        else None
    )
    failed = verification is not None and not verification.passed
    if not failed or force:
        deliver(result, out, insecure=insecure)
        if written is not None:
            written()
    return Report(
        image.name,
        p,
        before,
        tuple(after),
        image_id=result.id,
        destination=str(out),
        written=not failed or force,
        verification=verification,
        forced=failed and force,
    )
