"""minify's delivery: the workflow (``runs.shrink``) run on an image, the result written
to its destination unless verification failed (or ``force``), and the report of it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from deadweight.analysis.sizes import layer_size
from deadweight.errors import UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.image import Image
from deadweight.runs.delivery import deliver
from deadweight.runs.report import MinifyReport
from deadweight.runs.shrink import Request, Say, shrink
from deadweight.sources import Location


def env_pairs(pairs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` strings (``docker run --env``) as pairs; UsageError for another shape."""
    out = []
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise UsageError(f"--env {pair}: use KEY=VALUE")
        out.append((key, value))
    return tuple(out)


def runs_itself(image: Image) -> bool:
    """Whether the image has a command of its own (else only ``--run`` can start it)."""
    config = image.config.document.get("config")
    config = config if isinstance(config, dict) else {}
    return bool(config.get("Cmd") or config.get("Entrypoint"))


def minify_to(
    image: Image,
    request: Request,
    deltas: Sequence[LayerDelta],
    out: Location | None,
    *,
    from_engine: bool = False,
    force: bool = False,
    insecure: bool = False,
    say: Say | None = None,
) -> MinifyReport:
    """Shrink ``image`` as ``request`` asks and write the result to ``out`` (none for a
    dry run) unless verification failed and not ``force``. A request with other ways to
    run it (``--run``) starts with the image's own command only when it has one."""
    if len(request.ways) > 1 and not runs_itself(image):
        request = dataclasses.replace(request, ways=request.ways[1:])
    before = sum(d.size for d in deltas)
    shrunk = shrink(image, request, deltas=deltas, from_engine=from_engine, say=say)
    failed = shrunk.verified is False
    written = False
    if shrunk.result is not None and out is not None and (not failed or force):
        deliver(shrunk.result, out, insecure=insecure)
        written = True
    return MinifyReport(
        image.name,
        shrunk,
        before,
        after_size=layer_size(shrunk.result.layers[-1]) if shrunk.result is not None else None,
        image_id=shrunk.result.id if shrunk.result is not None else "",
        destination=str(out) if out is not None else None,
        written=written,
        forced=failed and force,
        dry_run=request.dry_run,
    )
