"""``apply_minify``: the image holding only what a plan keeps, in one layer.

Built with ``mutate.squash``: every layer merged into one, every path the plan does not keep
dropped (directories too), entries sorted, times set to ``epoch`` when given, so the same
image and plan give the same layer digest. The runtime config is unchanged but for the
label :data:`SOURCE_LABEL`, naming the image it came from. The package databases are
written as the plan rewrote them (``minify.database``).
"""

from __future__ import annotations

from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.minify.plan import MinifyPlan
from deadweight.mutate import with_config
from deadweight.mutate.edit import Edit, NewFile
from deadweight.mutate.squashing import squash_merge

SOURCE_LABEL = "org.deadweight.minify.source"
CREATED_BY = "deadweight minify"


def apply_minify(image: Image, plan: MinifyPlan, *, epoch: int | None = None) -> Image:
    """One layer holding the kept files of ``image`` (streamed from its layers, spooled to
    a temp file), with the config's history and rootfs updated and the source label set."""
    ctx = plan.context
    if ctx is None or ctx.image_id != image.id:
        raise UsageError("the minify plan was made for another image")
    kept = plan.kept
    rewritten = tuple(NewFile(r.path[1:], r.data, r.mode) for r in plan.databases if r.changed)
    result = squash_merge(
        image,
        0,
        drop=lambda path: "/" + path not in kept,
        drop_dirs=True,
        epoch=epoch,
        deltas=ctx.deltas or None,
        created_by=f"{CREATED_BY}: kept {len(kept)} paths, removed {len(plan.removed)}",
        edit=Edit(files=rewritten),
    ).image
    runtime = image.config.document.get("config")
    labels = runtime.get("Labels") if isinstance(runtime, dict) else None
    labels = dict(labels) if isinstance(labels, dict) else {}
    return with_config(result, {"Labels": {**labels, SOURCE_LABEL: image.digest or image.id}})
