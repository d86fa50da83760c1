"""``scan`` output: the fleet JSON document (versioned schema), reading a previous one
back for ``--previous``, and the terminal summary. Reads a :class:`Fleet` (and its
:class:`Changes`); computes nothing."""

from __future__ import annotations

import json
import math
from typing import Any

from deadweight.errors import CorruptImage, UsageError
from deadweight.fleet.changes import Before, Changes, ImageBefore
from deadweight.fleet.figures import ImageFigures
from deadweight.fleet.tally import SCHEMA_VERSION, Fleet
from deadweight.render.units import human_size
from deadweight.spec.document import decode_text

KIND = "deadweight-fleet"
TOP = 10


def _num(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else round(x, 6)


def _image(f: ImageFigures) -> dict[str, Any]:
    return {
        "name": f.name,
        "source": f.source,
        "imageId": f.image_id,
        "digest": f.digest,
        "layers": list(f.diff_ids),
        "size": f.size,
        "finalSize": f.final_size,
        "reclaimable": f.reclaimable,
        "wastedPercent": _num(f.wasted_percent),
        "byCause": dict(f.causes),
        "bloat": dict(f.bloat),
        "fixes": [{"id": x.id, "title": x.title, "bytes": x.bytes} for x in f.fixes],
        "packagesOfNote": [
            {
                "ecosystem": p.ecosystem,
                "name": p.name,
                "version": p.version,
                "bytes": p.bytes,
                "why": p.why,
            }
            for p in f.notable
        ],
    }


def document(fleet: Fleet, changes: Changes | None = None) -> dict[str, Any]:
    """The JSON document; keys are stable, lists in the Fleet's (deterministic) order."""
    doc: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "kind": KIND,
        "images": [_image(f) for f in fleet.images],
        "failed": [{"name": f.name, "reason": f.reason} for f in fleet.failed],
        "fleet": {
            "images": len(fleet.images),
            "failed": len(fleet.failed),
            "layers": fleet.layers,
            "uniqueLayers": fleet.unique_layers,
            "layersRead": fleet.layers_read,
            "layersFromCache": fleet.layers_cached,
            "totalBytes": fleet.total_bytes,
            "uniqueBytes": fleet.unique_bytes,
            "storedBytes": fleet.stored_bytes,
            "reclaimable": fleet.reclaimable,
            "sharedLayers": [
                {
                    "diffId": s.diff_id,
                    "size": s.size,
                    "position": s.position,
                    "instruction": s.instruction,
                    "images": list(s.images),
                }
                for s in fleet.shared_layers
            ],
            "duplicateFiles": [
                {
                    "digest": d.digest,
                    "size": d.size,
                    "copies": d.copies,
                    "extraBytes": d.extra_bytes,
                    "paths": ["/" + p for p in d.paths],
                    "images": list(d.images),
                }
                for d in fleet.duplicate_files
            ],
            "packages": [
                {
                    "ecosystem": p.ecosystem,
                    "name": p.name,
                    "images": p.images,
                    "versions": list(p.versions),
                }
                for p in fleet.packages
            ],
        },
    }
    if changes is not None:
        doc["changes"] = {
            "totalBytes": list(changes.total_bytes),
            "uniqueBytes": list(changes.unique_bytes),
            "reclaimable": list(changes.reclaimable),
            "images": [
                {
                    "name": c.name,
                    "size": [c.size_before, c.size_after],
                    "reclaimable": [c.reclaimable_before, c.reclaimable_after],
                    "rebuilt": c.rebuilt,
                }
                for c in changes.changed
            ],
            "added": list(changes.added),
            "removed": list(changes.removed),
        }
    return doc


def to_json(fleet: Fleet, changes: Changes | None = None) -> str:
    return json.dumps(document(fleet, changes), indent=2, ensure_ascii=False) + "\n"


def read_previous(text: str | bytes, name: str) -> Before:
    """The figures of a previous ``scan -o`` document that a comparison needs; anything
    else (not JSON, nested past ``limits.JSON_DEPTH``, wrong types, numbers that are no
    byte counts) is a :class:`UsageError` naming the file."""
    try:
        doc = decode_text(text, f"--previous {name}")
        if not isinstance(doc, dict) or doc.get("kind") != KIND:
            raise ValueError("not a deadweight fleet report")
        if doc.get("schemaVersion") != SCHEMA_VERSION:
            raise ValueError(f"schema version {doc.get('schemaVersion')!r}, not {SCHEMA_VERSION}")
        totals = doc["fleet"]
        return Before(
            images=tuple(
                ImageBefore(
                    str(i["name"]), str(i.get("digest", "")), int(i["size"]), int(i["reclaimable"])
                )
                for i in doc["images"]
            ),
            total_bytes=int(totals["totalBytes"]),
            unique_bytes=int(totals["uniqueBytes"]),
            reclaimable=int(totals["reclaimable"]),
        )
    except CorruptImage as exc:  # not JSON, or nested too deep
        raise UsageError(exc.message) from exc
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise UsageError(f"--previous {name}: {exc}") from exc


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _signed(n: int) -> str:
    return ("+" if n > 0 else "-" if n < 0 else "±") + human_size(abs(n))


def render_text(fleet: Fleet, changes: Changes | None = None) -> str:
    lines: list[str] = []
    add = lines.append
    add(
        f"{len(fleet.images)} images ({len(fleet.failed)} failed), {fleet.layers} layers,"
        f" {fleet.unique_layers} unique ({fleet.layers_read} read,"
        f" {fleet.layers_cached} from the cache)"
    )
    add(
        f"total {human_size(fleet.total_bytes)}, unique {human_size(fleet.unique_bytes)}"
        f" ({human_size(fleet.stored_bytes)} stored), reclaimable {human_size(fleet.reclaimable)}"
        f" ({_pct(fleet.reclaimable, fleet.total_bytes)})"
    )
    if fleet.images:
        add("")
        add("Images that waste most")
        worst = sorted(fleet.images, key=lambda f: (-f.reclaimable, f.name))[:TOP]
        for f in worst:
            causes = ", ".join(f"{c} {human_size(b)}" for c, b in f.causes[:2]) or "-"
            bloat = ", ".join(c for c, _ in f.bloat[:3])
            add(
                f"  {human_size(f.reclaimable):>8} of {human_size(f.size):>8}  {f.name}"
                f"  [{causes}]" + (f" bloat: {bloat}" if bloat else "")
            )
    if fleet.shared_layers:
        add("")
        add("Most shared layers")
        for s in fleet.shared_layers[:5]:
            add(
                f"  {len(s.images):>4} images  {human_size(s.size):>8}  {s.diff_id[7:19]}"
                f"  {_short(s.instruction)}"
            )
    if fleet.duplicate_files:
        add("")
        add("Large files duplicated across layers")
        for d in fleet.duplicate_files[:5]:
            add(
                f"  {d.copies} copies of {human_size(d.size)}  /{d.paths[0]}"
                f"  ({len(d.images)} images)"
            )
    if fleet.packages:
        add("")
        add("Packages on most images")
        for p in fleet.packages[:TOP]:
            add(f"  {p.images:>4} images  {p.ecosystem} {p.name} ({', '.join(p.versions[:3])})")
    if changes is not None:
        add("")
        before, after = changes.total_bytes
        add(f"Since the previous scan: total {_signed(after - before)}")
        for c in changes.changed[:TOP]:
            add(f"  {_signed(c.grown):>9}  {c.name}" + ("  (rebuilt)" if c.rebuilt else ""))
        if changes.added:
            add(f"  new: {', '.join(changes.added[:TOP])}")
        if changes.removed:
            add(f"  gone: {', '.join(changes.removed[:TOP])}")
    if fleet.failed:
        add("")
        add("Failed")
        for failed in fleet.failed:
            add(f"  {failed.name}: {failed.reason}")
    return "\n".join(lines) + "\n"


def _short(text: str, width: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"
