"""``lint IMAGE``: the Dockerfile rules on the rebuilt Dockerfile, plus the image checks.

Findings point at history rows (counted from the bottom, from 1; 0 for the image as a
whole) instead of lines. Rows of the base image are not linted as a Dockerfile: they are
someone else's, and what they left in the file system is still checked.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import FinalParts, final_bloat
from deadweight.analysis.bloat import CACHE_CATEGORIES, Bloat
from deadweight.cache import LayerCache
from deadweight.dockerfile.config import LintConfig
from deadweight.dockerfile.findings import Finding, LintResult, Severity
from deadweight.dockerfile.linting import lint as lint_dockerfile
from deadweight.dockerfile.reconstruct import Reconstruction, reconstruct_image
from deadweight.filetree import partition
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.tree import Tree, check_members, stack
from deadweight.image import Image
from deadweight.imagelint import files, secrets
from deadweight.imagelint.rules import BY_CODE, REPLACES
from deadweight.progress import Progress
from deadweight.reading import paused_gc, read_deltas

CACHES = frozenset(CACHE_CATEGORIES)
_LISTED = 5
_ROOT_USERS = frozenset({"", "0", "root"})


@dataclass(frozen=True, slots=True)
class ImageLintResult:
    """The findings for one image (``line`` is the history row) and the rebuilt Dockerfile."""

    image: str
    findings: tuple[Finding, ...]
    reconstruction: Reconstruction

    def failed(self, threshold: Severity | None) -> bool:
        return self.as_lint_result().failed(threshold)

    def as_lint_result(self) -> LintResult:
        return LintResult(self.image, self.findings)

    def instruction(self, row: int) -> str:
        step = self.reconstruction.step(row)
        if step is None:
            return ""
        return step.text.split("\n")[-1] if step.text else step.created_by


def capture(path: str) -> int:
    """What a delta keeps for ``lint IMAGE``: package databases and files secrets hide in."""
    return max(pkgs.capture(path), secrets.capture(path))


def lint_image(
    image: Image,
    *,
    config: LintConfig | None = None,
    store: LayerCache | None = None,
    progress: Progress | None = None,
) -> ImageLintResult:
    """Lint ``image``: reads every layer once. Findings name it by :attr:`Image.name`."""
    deltas = read_deltas(image, capture=capture, store=store, progress=progress, lazy=True)
    # a Dockerfile rebuilt from 100,000 rows is millions of small acyclic objects, which the
    # cyclic collector would walk again and again (a tenth of the time): paused, as reading
    with paused_gc():
        return lint_parts(
            image.name,
            reconstruct_image(image),
            deltas,
            image.config.container_config,
            config=config,
        )


def lint_parts(
    name: str,
    recon: Reconstruction,
    deltas: Sequence[LayerDelta],
    container: Mapping[str, Any],
    *,
    config: LintConfig | None = None,
) -> ImageLintResult:
    """Everything ``lint_image`` reports, from its parts alone (pure)."""
    config = config or LintConfig()
    rows = _layer_rows(recon)
    found = list(_dockerfile_findings(recon, config))
    tree, bloat, modes = _final(deltas)
    checks = _checks(recon, deltas, tree, bloat, container, rows, modes)
    for code, row, message, base in checks:
        if code in config.ignored:
            continue
        rule = BY_CODE[code]
        default = Severity.INFO if base and code in ("DW104", "DW107") else rule.severity
        found.append(Finding(code, config.severity_of(code, default), message, row, row))
    found.sort(key=lambda f: (f.line, f.code))
    return ImageLintResult(name, tuple(found), recon)


def _final(
    deltas: Sequence[LayerDelta],
) -> tuple[Tree, Bloat, tuple[list[files.ModeHit], list[files.ModeHit]]]:
    """The final tree (of the captured files at least), its bloat, and its setuid/setgid
    and world-writable paths; layers holding more than ``partition.SIZE`` members are
    stacked a range of paths at a time, as ``analyze`` stacks them (issue 16)."""
    members = sum(d.members for d in deltas)
    if members > partition.SIZE:
        check_members(members)
        try:
            with FinalParts(deltas) as final:
                setid: list[files.ModeHit] = []
                writable: list[files.ModeHit] = []
                for part, tree in partition.stacked_parts(deltas, partition.SIZE):
                    setid += [h for h in files.setid_files(tree) if part.holds_own(h.path)]
                    writable += [h for h in files.world_writable(tree) if part.holds_own(h.path)]
                    final.add(part, tree)
                    del tree
                bloat = final.packages_and_bloat()[1]
                setid.sort(key=lambda h: h.path)
                writable.sort(key=lambda h: h.path)
                return final.lookup(), bloat, (setid, writable)
        except partition.Irregular:
            pass
    whole = stack(deltas)
    modes = (list(files.setid_files(whole)), list(files.world_writable(whole)))
    return whole, final_bloat(deltas, whole), modes


def _layer_rows(recon: Reconstruction) -> dict[int, int]:
    return {s.layer: s.row for s in recon.steps if s.layer is not None}


def _dockerfile_findings(recon: Reconstruction, config: LintConfig) -> Iterator[Finding]:
    result = lint_dockerfile(recon.text, path="<history>", config=config)
    spans = sorted(recon.spans)
    starts = [first for first, _, _ in spans]

    def row_of(line: int) -> int:
        # Reconstruction.row_at, by bisection: an image of 100,000 rows has as many findings
        at = bisect.bisect_right(starts, line) - 1
        return spans[at][2] if at >= 0 and line <= spans[at][1] else 0

    for f in result.findings:
        row = row_of(f.line)
        step = recon.step(row)
        if step is None or step.base or f.code == "DL1000":
            continue
        if f.code in REPLACES and (f.code not in ("DW010", "DL3064") or step.keyword == "ENV"):
            continue
        if f.code == "DL3020" and step.unknown_source:
            continue  # the classic builder hid whether the source was an archive
        message = _LINE_REF.sub(lambda m: f"row {row_of(int(m.group(1)))}", f.message)
        yield Finding(f.code, f.severity, message, row, row, 1, f.suggestion)


# "added by line 9" in a Dockerfile rule's message: a line of the rebuilt text, which no
# one reading the image sees; said as the history row it stands for
_LINE_REF = re.compile(r"\bline (\d+)\b")


def _listed(paths: Sequence[str]) -> str:
    shown = ", ".join("/" + p for p in paths[:_LISTED])
    more = len(paths) - _LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _checks(
    recon: Reconstruction,
    deltas: Sequence[LayerDelta],
    tree: Tree,
    bloat: Bloat,
    container: Mapping[str, Any],
    rows: Mapping[int, int],
    modes: tuple[list[files.ModeHit], list[files.ModeHit]],
) -> Iterator[tuple[str, int, str, bool]]:
    """(code, row, message, in the base image) for every image check that fires."""
    base_rows = recon.base_rows

    def at(layer: int) -> tuple[int, bool]:
        row = rows.get(layer, 0)
        return row, 0 < row <= base_rows

    user = str(container.get("User") or "")
    if user.partition(":")[0] in _ROOT_USERS:
        users = [s.row for s in recon.steps if s.keyword == "USER"]
        said = f"User is {user!r}" if user else "no User is set"
        yield "DW101", users[-1] if users else 0, f"The image runs as root ({said})", False
    env = [e for e in container.get("Env") or () if isinstance(e, str)]
    for s in secrets.env_secrets(env):
        setters = [
            st.row
            for st in recon.steps
            if st.keyword == "ENV" and f" {s.where}=" in f" {st.text.partition(' ')[2]}"
        ]
        row = setters[-1] if setters else 0
        yield "DW102", row, f"Env {s.where} holds {s.kind}", 0 < row <= base_rows
    for layer, delta in enumerate(deltas):
        for c in delta.captured:
            kind = secrets.file_secret(c.path, c.data)
            if kind is None:
                continue
            node = tree.get(c.path)
            gone = (
                ""
                if node is not None and node.layer == layer
                else (" (hidden by a later layer, still readable in this one)")
            )
            row, base = at(layer)
            yield "DW103", row, f"/{c.path} holds {kind}{gone}", base
    for code, hits in (("DW104", modes[0]), ("DW105", modes[1])):
        by_layer: dict[int, list[files.ModeHit]] = {}
        for h in hits:
            by_layer.setdefault(h.layer, []).append(h)
        for layer, group in sorted(by_layer.items()):
            row, base = at(layer)
            what = "setuid/setgid" if code == "DW104" else "world-writable"
            listed = _listed([f"{h.path} ({h.what} {h.mode:04o})" for h in group])
            yield code, row, f"{len(group)} {what} path(s): {listed}", base
    tools: dict[int, list[str]] = {}
    held: dict[int, int] = {}
    for item in bloat.items:
        if item.category in CACHES:
            row, base = at(item.layer)
            files_ = f"{item.files} file{'s' if item.files != 1 else ''}"
            message = f"{item.category}: /{item.path} holds {item.bytes} bytes in {files_}"
            yield "DW106", row, message, base
        elif item.category == "toolchain":
            tools.setdefault(item.layer, []).append(item.path)
            held[item.layer] = held.get(item.layer, 0) + item.bytes
    for layer, paths in sorted(tools.items()):
        row, base = at(layer)
        yield "DW107", row, f"build tools, {held[layer]} bytes: {_listed(paths)}", base
    hc = container.get("Healthcheck")
    test = hc.get("Test") if isinstance(hc, dict) else None
    if not test or test == ["NONE"]:
        yield "DW108", 0, "The image has no HEALTHCHECK", False
