"""Recommendations: each finding mapped to a Dockerfile change and the bytes it saves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deadweight.analysis.bloat import Bloat
from deadweight.analysis.instructions import instruction_text
from deadweight.analysis.packages import Package
from deadweight.analysis.report import Recommendation
from deadweight.analysis.waste import Cause, Waste

EXAMPLES = 5

_WASTE: dict[Cause, tuple[str, str]] = {
    "deleted": (
        "delete-in-same-step",
        "Delete these files in the same RUN that creates them (or build them in a separate "
        "stage and COPY only what you need): a later `rm` hides bytes but still ships them.",
    ),
    "opaque": (
        "delete-in-same-step",
        "Delete these files in the same RUN that creates them (or build them in a separate "
        "stage and COPY only what you need): a later `rm` hides bytes but still ships them.",
    ),
    "overwritten_changed": (
        "write-once",
        "Produce the final version of these files in one step (merge the RUN steps, or use "
        "a multi-stage build): every earlier version still ships.",
    ),
    "overwritten_same": (
        "drop-repeated-copy",
        "A later step writes these files again with the same content: remove the repeated "
        "COPY/ADD (or the step that touches them).",
    ),
    "metadata_only": (
        "chown-chmod-at-copy",
        "Set owner and mode when the files are written (`COPY --chown=USER:GROUP "
        "--chmod=MODE`, or chmod/chown in the RUN that creates them) instead of a later "
        "chmod/chown, which copies every file whole.",
    ),
}

_BLOAT: dict[str, tuple[str, str]] = {
    "apt-cache": (
        "apt-clean",
        "In the RUN that installs packages: `apt-get install "
        "--no-install-recommends ... && rm -rf /var/lib/apt/lists/*` (and `apt-get clean`).",
    ),
    "apk-cache": ("apk-no-cache", "Use `apk add --no-cache ...`."),
    "pip-cache": (
        "pip-no-cache",
        "Use `pip install --no-cache-dir ...` (or ENV PIP_NO_CACHE_DIR=1, "
        "or RUN --mount=type=cache,target=/root/.cache/pip).",
    ),
    "poetry-cache": (
        "poetry-no-cache",
        "Use `poetry install --no-cache` or a cache mount "
        "(RUN --mount=type=cache,target=/root/.cache/pypoetry).",
    ),
    "uv-cache": ("uv-no-cache", "Use `uv ... --no-cache` (ENV UV_NO_CACHE=1) or a cache mount."),
    "npm-cache": (
        "npm-cache-clean",
        "Run `npm cache clean --force` in the same RUN as `npm ci`, "
        "or use RUN --mount=type=cache,target=/root/.npm.",
    ),
    "yarn-cache": (
        "yarn-cache-clean",
        "Run `yarn cache clean` in the same RUN, or use a cache mount.",
    ),
    "pnpm-store": (
        "pnpm-store-prune",
        "Run `pnpm store prune` in the same RUN, or use a cache mount.",
    ),
    "go-build-cache": (
        "go-multi-stage",
        "Build Go in a builder stage and COPY only the binary "
        "(or RUN --mount=type=cache,target=/root/.cache/go-build).",
    ),
    "maven-cache": (
        "jvm-multi-stage",
        "Build in a builder stage and COPY only the artifacts; the ~/.m2 repository stays behind.",
    ),
    "gradle-cache": (
        "jvm-multi-stage",
        "Build in a builder stage and COPY only the artifacts; the ~/.gradle caches stay behind.",
    ),
    "docs": (
        "drop-docs",
        "Remove docs in the RUN that installs packages, or exclude them with "
        "dpkg path-exclude rules (/etc/dpkg/dpkg.cfg.d/) or a slimmer base.",
    ),
    "man": (
        "drop-docs",
        "Remove man pages in the RUN that installs packages, or exclude them "
        "with dpkg path-exclude rules.",
    ),
    "info": ("drop-docs", "Remove info pages in the RUN that installs packages."),
    "locales": (
        "drop-locales",
        "Keep only the locales you use (dpkg path-exclude for "
        "/usr/share/locale/*), or use a slimmer base.",
    ),
    "toolchain": (
        "toolchain-multi-stage",
        "Compile in a builder stage (compilers, make, headers, "
        "*-dev packages, node-gyp) and COPY only the results into a runtime stage.",
    ),
    "npm-dev-dependencies": (
        "npm-omit-dev",
        "Install with `npm ci --omit=dev` (or prune with "
        "`npm prune --omit=dev`) in the runtime stage.",
    ),
    "package-extras": (
        "prune-package-extras",
        "Prune tests, docs, examples and source maps from "
        "node_modules/site-packages in the RUN that installs them.",
    ),
    "vcs": ("dockerignore-vcs", "Add `.git` (and other VCS directories) to .dockerignore."),
    "temp": (
        "clean-temp",
        "Clean /tmp and /var/tmp in the same RUN that fills them, or use "
        "RUN --mount=type=tmpfs,target=/tmp.",
    ),
    "core-dump": (
        "dockerignore-core",
        "Remove the core dumps and add `core` / `core.*` to .dockerignore.",
    ),
}


def recommend(
    waste: Waste, bloat: Bloat, packages: Sequence[Package], instructions: Sequence[str]
) -> tuple[Recommendation, ...]:
    """One recommendation per kind of change (and per pair of layers for waste)."""
    out: list[Recommendation] = []
    # per (id, written by, hidden by): the bytes, then the first EXAMPLES paths (a list,
    # not every item: an image of 100,000 layers has a group per layer, issue 16)
    groups: dict[tuple[str, int, int], list[Any]] = {}
    for item in waste.items:
        key = (_WASTE[item.cause][0], item.written_by, item.hidden_by)
        group = groups.get(key)
        if group is None:
            groups[key] = [item.bytes, item.path]
        else:
            group[0] += item.bytes
            if len(group) <= EXAMPLES:
                group.append(item.path)
    texts = {rid: text for rid, text in _WASTE.values()}
    while groups:  # each group freed as its recommendation is made: the peak of analyze
        (rid, w, h), group = groups.popitem()  # (any order: ``out`` is sorted below)
        title = (
            f"layer {w} `{_short(instructions, w)}` ships bytes that "
            f"layer {h} `{_short(instructions, h)}` hides"
        )
        out.append(Recommendation(rid, title, texts[rid], group[0], (w, h), tuple(group[1:])))
    by_cat: dict[str, list[tuple[str, int, int]]] = {}
    for b in bloat.items:
        by_cat.setdefault(b.category, []).append((b.path, b.bytes, b.layer))
    for cat, found in by_cat.items():
        rid, text = _BLOAT[cat]
        dev = _dev_packages(packages) if cat == "toolchain" else ""
        out.append(
            Recommendation(
                rid,
                f"{cat}: {len(found)} location(s) in the final image{dev}",
                text,
                sum(b for _, b, _ in found),
                tuple(sorted({layer for _, _, layer in found})),
                tuple(p for p, _, _ in found[:EXAMPLES]),
            )
        )
    if bloat.duplicates:
        out.append(
            Recommendation(
                "deduplicate",
                f"{len(bloat.duplicates)} set(s) of identical files at different paths",
                "COPY each file once and hardlink or symlink the other paths "
                "(or remove the copies).",
                sum(g.bytes for g in bloat.duplicates),
                (),
                tuple(g.paths[0] for g in bloat.duplicates[:EXAMPLES]),
            )
        )
    out.sort(key=lambda r: (-r.bytes, r.id, r.layers, r.title))
    return tuple(r for r in out if r.bytes > 0)


def _short(instructions: Sequence[str], layer: int, width: int = 60) -> str:
    return instruction_text(instructions[layer] if layer < len(instructions) else "", width)


def _dev_packages(packages: Sequence[Package]) -> str:
    names = sorted(
        {
            p.name
            for p in packages
            if p.ecosystem in ("dpkg", "apk")
            and (
                p.name.split(":")[0].endswith("-dev") or p.name in ("build-essential", "build-base")
            )
        }
    )
    return (
        f" (build packages: {', '.join(names[:8])}{', …' if len(names) > 8 else ''})"
        if names
        else ""
    )
