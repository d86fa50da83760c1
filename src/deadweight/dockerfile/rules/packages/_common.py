"""What the package-manager rules share: the words after a verb, a cache mount, the
stages that ship."""

from __future__ import annotations

from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.rule import Context
from deadweight.dockerfile.stages import RunSite, Stage

W, INFO = Severity.WARNING, Severity.INFO


def _after(args: tuple[str, ...], word: str) -> list[str]:
    """hadolint's ``stripInstallPrefix``: the words after the first ``word`` run."""
    out = list(args)
    while out and out[0] != word:
        out.pop(0)
    while out and out[0] == word:
        out.pop(0)
    return out


def _mounted(site: RunSite, fragment: str) -> bool:
    """hadolint's ``hasCacheOrTmpfsMountWith``: a cache or tmpfs mount whose target
    contains the fragment anywhere."""
    if not site.run.flags:
        return False
    for mount in site.run.flag_values("mount"):
        parts = dict(p.partition("=")[::2] for p in mount.split(","))
        target = parts.get("target") or parts.get("dst") or parts.get("destination") or ""
        if parts.get("type") in ("cache", "tmpfs") and fragment in target:
            return True
    return False


def _cached(site: RunSite, prefix: str) -> bool:
    if not site.run.flags:  # most RUNs have no flag at all (asked per rule per RUN)
        return False
    for mount in site.run.flag_values("mount"):
        parts = dict(p.partition("=")[::2] for p in mount.split(","))
        target = parts.get("target") or parts.get("dst") or parts.get("destination") or ""
        # a cache or a tmpfs mount keeps what is written there out of the layer
        if parts.get("type") in ("cache", "tmpfs") and target.startswith(prefix):
            return True
    return False


def _final_or_reused(ctx: Context, stage: Stage | None, site: RunSite) -> bool:
    """hadolint's DL3009/DL3060 scope: the last stage, or one a later FROM builds on."""
    if site.onbuild or stage is None:
        return True
    final = ctx.build.final
    if stage is final:
        return True
    if final is not None and _same_from(stage, final):
        return True  # hadolint compares FROMs by value: an identical FROM is the last's
    return ctx.build.built_on_later(stage)


def _same_from(a: Stage, b: Stage) -> bool:
    return (a.image_raw, a.name, a.platform) == (b.image_raw, b.name, b.platform)
