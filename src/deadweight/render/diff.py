"""``diff`` output: the terminal report (summary first) and the JSON document (versioned
schema, stable order). Reads an :class:`ImageDiff` and a :class:`Budget`; computes nothing."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from deadweight.compare.budget import Budget
from deadweight.compare.result import (
    SCHEMA_VERSION,
    BaseInfo,
    ConfigChange,
    FileChange,
    FileState,
    ImageDiff,
)
from deadweight.render.text import char_width, ellipsis
from deadweight.render.units import human_size

TOP_DIRS = 10
TOP_FILES = 20
WIDTH = 56


def signed(n: int) -> str:
    if n == 0:
        return "0B"
    return ("+" if n > 0 else "-") + human_size(abs(n))


def percent(x: float) -> str:
    if math.isinf(x):
        return "new"
    return f"{x:+.1f}%"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("s were" if count != 1 else " was")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("s" if count != 1 else "")


def _cut(text: str, width: int = WIDTH) -> str:
    """``text`` cut to ``width`` display columns (a CJK character or emoji takes two), as
    ``history`` cuts CREATED BY."""
    return ellipsis(text, width)


def _cell(text: str, width: int = WIDTH) -> str:
    """``text`` cut and padded to exactly ``width`` display columns."""
    cut = _cut(text, width)
    return cut + " " * (width - sum(map(char_width, cut)))


def _base(b: BaseInfo) -> str:
    if not b.layers:
        return "(unknown)"
    name = b.name or f"{b.layers} layer{'s' if b.layers != 1 else ''} {b.top[7:19]}"
    return f"{name} ({human_size(b.size)})"


def _user(value: str | None) -> str:
    return value or "root"


def _value(c: ConfigChange, side: str | None) -> str:
    if c.field == "user":
        return _user(side)
    if side is None:
        return "(none)"
    return side if side else '""'


def summary(d: ImageDiff) -> list[str]:
    head = f"{d.a.name} -> {d.b.name}"
    if d.identical:
        return [f"{head}     identical ({human_size(d.a.size)}, same image ID)"]
    if d.sizes_known:
        sizes = f"{human_size(d.a.size)} -> {human_size(d.b.size)}"
        lines = [f"{head}     {sizes}  ({signed(d.delta)}, {percent(d.percent)})"]
    else:
        sizes = f"{human_size(d.a.size)} -> {human_size(d.b.size)} above the shared layers"
        lines = [f"{head}     {sizes}  ({signed(d.delta)})"]
    if d.base_a.top == d.base_b.top:
        lines.append(f"  base image      same: {_base(d.base_a)}")
    else:
        lines.append(f"  base image      {_base(d.base_a)} -> {_base(d.base_b)}")
    if d.shared_layers and not d.sizes_known:
        lines.append(f"  shared layers   {d.shared_layers} (identical; not read, so not sized)")
    elif d.shared_layers:
        lines.append(
            f"  shared layers   {d.shared_layers} ({human_size(d.shared_size)}), identical"
        )
    for s in d.steps:
        if s.status == "removed":
            lines.append(f"  removed step    {_cell(s.a_instruction)} {signed(s.delta)}")
        elif s.status == "added":
            lines.append(f"  added step      {_cell(s.b_instruction)} {signed(s.delta)}")
        elif s.status == "changed":
            if s.a_instruction == s.b_instruction:
                lines.append(f"  rebuilt step    {_cell(s.a_instruction)} {signed(s.delta)}")
            else:
                lines.append(
                    f"  changed step    {_cut(s.a_instruction, 40)}  ->  "
                    f"{_cut(s.b_instruction, 40)}   {signed(s.delta)}"
                )
    if d.user is not None:
        lines.append(f"  user            {_user(d.user.a)} -> {_user(d.user.b)}")
    return lines


def _mark(status: str) -> str:
    return {"added": "+", "removed": "-", "modified": "~", "changed": "~"}[status]


def _what(s: FileState | None) -> str:
    return "" if s is None else f"{s.mode:04o} {s.uid}:{s.gid}"


def render_text(d: ImageDiff, budget: Budget | None = None) -> str:
    lines = summary(d)
    if d.files:
        counts = {k: sum(1 for f in d.files if f.status == k) for k in ("added", "removed")}
        modified = len(d.files) - counts["added"] - counts["removed"]
        lines += [
            "",
            f"Files: {counts['added']} added, {counts['removed']} removed, {modified} modified",
        ]
        for r in [r for r in d.directories if r.path][:TOP_DIRS]:
            lines.append(
                f"  {signed(r.delta):>9}  /{r.path}/  (+{r.added} -{r.removed} ~{r.modified})"
            )
        lines.append("  largest changes:")
        for f in d.files[:TOP_FILES]:
            extra = ""
            if f.status == "modified":
                extra = f"  [{', '.join(f.changed)}]"
                if "mode" in f.changed or "owner" in f.changed:
                    extra += f" {_what(f.a)} -> {_what(f.b)}"
            lines.append(f"  {signed(f.delta):>9}  {_mark(f.status)} /{f.path}{extra}")
        if len(d.files) > TOP_FILES:
            lines.append(f"  ... {len(d.files) - TOP_FILES} more (--format json lists all)")
    if d.packages:
        lines += ["", "Packages:"]
        for p in d.packages:
            version = {
                "added": p.b_version,
                "removed": p.a_version,
                "changed": f"{p.a_version} -> {p.b_version}",
            }[p.status]
            lines.append(
                f"  {signed(p.delta):>9}  {_mark(p.status)} {p.ecosystem:<6} {p.name} {version}"
            )
    if d.config:
        lines += ["", "Config:"]
        for c in d.config:
            if c.field in ("ports", "volumes"):
                lines.append(f"  {c.field:<24} {'-' if c.b is None else '+'}{c.key}")
                continue
            label = f"{c.field} {c.key}" if c.key else c.field
            lines.append(f"  {label:<24} {_value(c, c.a)} -> {_value(c, c.b)}")
    if not d.base_known and (d.assumed or d.unresolved):
        lines += [
            "",
            f"Note: {_n(d.shared_layers, 'shared layer')} not read; "
            f"{_count(len(d.assumed), 'path')} that only one image writes compared with absent"
            + (f", {_count(len(d.unresolved), 'deletion')} unresolved" if d.unresolved else "")
            + " (--read-base checks them).",
        ]
    if budget is not None and budget.checks:
        lines += ["", "Budget:"]
        for k in budget.checks:
            word = "PASS" if k.passed else "FAIL"
            lines.append(f"  {word}: {k.rule}: {k.actual} (limit {k.limit})")
    return "\n".join(lines) + "\n"


def _state(s: FileState | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "kind": s.kind,
        "size": s.size,
        "mode": f"{s.mode:04o}",
        "uid": s.uid,
        "gid": s.gid,
        "link": s.link,
        "digest": s.digest,
    }


def _base_doc(b: BaseInfo) -> dict[str, Any]:
    return {"name": b.name, "layers": b.layers, "size": b.size, "topDiffId": b.top}


def _file_doc(f: FileChange) -> dict[str, Any]:
    return {
        "path": "/" + f.path,
        "status": f.status,
        "delta": f.delta,
        "changed": list(f.changed),
        "a": _state(f.a),
        "b": _state(f.b),
    }


def document(d: ImageDiff, budget: Budget | None = None, *, files: bool = True) -> dict[str, Any]:
    """The JSON document; without ``files``, its ``files`` list left empty."""
    doc: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "a": {"name": d.a.name, "id": d.a.id, "size": d.a.size, "layers": d.a.layers,
              "platform": d.a.platform},
        "b": {"name": d.b.name, "id": d.b.id, "size": d.b.size, "layers": d.b.layers,
              "platform": d.b.platform},
        "delta": d.delta,
        "percent": None if math.isinf(d.percent) or not d.sizes_known else round(d.percent, 4),
        "identical": d.identical,
        "sizesKnown": d.sizes_known,
        "shared": {
            "layers": d.shared_layers,
            "size": d.shared_size if d.sizes_known else None,
            "indexKnown": d.base_known,
        },
        "base": {"a": _base_doc(d.base_a), "b": _base_doc(d.base_b)},
        "steps": [
            {
                "status": s.status,
                "a": None if s.a_index < 0 else
                {"index": s.a_index, "instruction": s.a_instruction, "size": s.a_size},
                "b": None if s.b_index < 0 else
                {"index": s.b_index, "instruction": s.b_instruction, "size": s.b_size},
                "delta": s.delta,
            }
            for s in d.steps
        ],
        "files": [_file_doc(f) for f in d.files] if files else [],
        "directories": [
            {"path": "/" + r.path, "delta": r.delta, "added": r.added, "removed": r.removed,
             "modified": r.modified}
            for r in d.directories
        ],
        "packages": [
            {
                "ecosystem": p.ecosystem,
                "name": p.name,
                "status": p.status,
                "a": {"version": p.a_version, "bytes": p.a_bytes} if p.status != "added" else None,
                "b": {"version": p.b_version, "bytes": p.b_bytes}
                if p.status != "removed"
                else None,
                "delta": p.delta,
                "path": "/" + p.path,
            }
            for p in d.packages
        ],
        "config": [{"field": c.field, "key": c.key, "a": c.a, "b": c.b} for c in d.config],
        "assumedAbsentInBase": ["/" + p for p in d.assumed],
        "unresolved": ["/" + p for p in d.unresolved],
    }  # fmt: skip
    if budget is not None and budget.checks:
        doc["budget"] = {
            "passed": budget.passed,
            "checks": [
                {"rule": c.rule, "limit": c.limit, "actual": c.actual, "passed": c.passed}
                for c in budget.checks
            ],
        }
    return doc


def to_json(d: ImageDiff, budget: Budget | None = None) -> str:
    return "".join(json_chunks(d, budget))


_FILES = '\n  "files": [],'  # the top-level key's line: every string value is quoted
_BATCH = 1024


def json_chunks(d: ImageDiff, budget: Budget | None = None) -> Iterator[str]:
    """:func:`to_json`'s text, a batch of files at a time: the document of a diff of a
    million files, built whole, took a dict per file and ~4 GB (issue 16)."""
    text = json.dumps(document(d, budget, files=False), indent=2, ensure_ascii=False) + "\n"
    if not d.files:
        yield text
        return
    at = text.index(_FILES)
    yield text[:at] + '\n  "files": [\n'
    for start in range(0, len(d.files), _BATCH):
        items = (
            json.dumps(_file_doc(f), indent=2, ensure_ascii=False).replace("\n", "\n    ")
            for f in d.files[start : start + _BATCH]
        )
        yield ("" if start == 0 else ",\n") + ",\n".join("    " + i for i in items)
    yield "\n  ]," + text[at + len(_FILES) :]
