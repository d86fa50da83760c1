"""``diff --html``: the two sizes, each step's size on both sides as paired bars, the
directories that grew and shrank most, and the steps, files, packages and config tables."""

from __future__ import annotations

from deadweight.compare.result import ImageDiff, StepChange
from deadweight.render.html.analyze import short
from deadweight.render.html.markup import (
    chart,
    figure,
    figures,
    more_line,
    section,
    signed,
    size,
    table,
)
from deadweight.render.html.page import page

ROWS = 200
DIRS = 12  # directories that grew most, and as many that shrank most


def step_label(s: StepChange) -> str:
    a, b = short(s.a_instruction, 50), short(s.b_instruction, 50)
    if s.status == "changed" and a != b:
        return f"{a} → {b}"
    return f"{b or a}" if s.status != "removed" else f"(removed) {a}"


def _percent(d: ImageDiff) -> str:
    pct = d.percent
    return "n/a" if pct == float("inf") else f"{pct:+.1f}%"


def _headline(d: ImageDiff) -> str:
    tone = "bad" if d.delta > 0 else "good" if d.delta < 0 else ""
    return figures(
        [
            figure(f"A: {d.a.name}", size(d.a.size), test_id="a"),
            figure(f"B: {d.b.name}", size(d.b.size), test_id="b"),
            figure("B - A", f"{signed(d.delta)} ({_percent(d)})", tone, "delta"),
            figure("shared bottom layers", f"{d.shared_layers} ({size(d.shared_size)})",
                   test_id="shared"),
        ]
    )  # fmt: skip


def moved_dirs(d: ImageDiff) -> list[tuple[str, int]]:
    """The directories that grew most, then those that shrank most (the root left out)."""
    dirs = [c for c in d.directories if c.path and c.delta]
    grew = sorted((c for c in dirs if c.delta > 0), key=lambda c: (-c.delta, c.path))[:DIRS]
    shrank = sorted((c for c in dirs if c.delta < 0), key=lambda c: (c.delta, c.path))[:DIRS]
    return [("/" + c.path.rstrip("/") + "/", c.delta) for c in [*grew, *shrank]]


def diff_html(d: ImageDiff) -> str:
    steps = [s for s in d.steps if s.status != "same" or s.a_size or s.b_size]
    files = sorted(d.files, key=lambda f: (-abs(f.delta), f.path))
    packages = sorted(d.packages, key=lambda p: (-abs(p.delta), p.ecosystem, p.name))
    moved = moved_dirs(d)
    body = "".join(
        [
            _headline(d),
            section(
                "Steps: size in A and in B",
                chart("steps", 70 + 34 * max(1, len(steps)))
                + table(
                    "steps-table",
                    [
                        ("", ""),
                        ("A", "code"),
                        ("B", "code"),
                        ("A size", "num"),
                        ("B size", "num"),
                        ("change", "num"),
                    ],
                    [
                        (
                            s.status,
                            s.a_instruction,
                            s.b_instruction,
                            size(s.a_size),
                            size(s.b_size),
                            signed(s.delta),
                        )
                        for s in d.steps
                    ],
                ),
                "steps-section",
            ),
            section(
                "Directories that grew and shrank most",
                chart("dirs", 70 + 26 * max(1, len(moved)))
                + table(
                    "dirs-table",
                    [
                        ("directory", "path"),
                        ("change", "num"),
                        ("added", "num"),
                        ("removed", "num"),
                        ("modified", "num"),
                    ],
                    [
                        (
                            "/" + c.path,
                            signed(c.delta),
                            str(c.added),
                            str(c.removed),
                            str(c.modified),
                        )
                        for c in d.directories[:ROWS]
                    ],
                    more=more_line(len(d.directories) - ROWS, "directories"),
                ),
                "dirs-section",
            ),
            section(
                "Files",
                table(
                    "files-table",
                    [("", ""), ("path", "path"), ("change", "num"), ("what changed", "")],
                    [
                        (f.status, "/" + f.path, signed(f.delta), ", ".join(f.changed))
                        for f in files[:ROWS]
                    ],
                    more=more_line(len(files) - ROWS, "files"),
                    empty="no file differs",
                ),
                "files",
            ),
            section(
                "Packages",
                table(
                    "packages-table",
                    [
                        ("", ""),
                        ("ecosystem", ""),
                        ("name", "code"),
                        ("A", "code"),
                        ("B", "code"),
                        ("change", "num"),
                    ],
                    [
                        (p.status, p.ecosystem, p.name, p.a_version, p.b_version, signed(p.delta))
                        for p in packages[:ROWS]
                    ],
                    more=more_line(len(packages) - ROWS, "packages"),
                    empty="no package differs",
                ),
                "packages",
            ),
            section(
                "Config",
                table(
                    "config-table",
                    [("field", ""), ("key", "code"), ("A", "code"), ("B", "code")],
                    [
                        (
                            c.field,
                            c.key,
                            "(none)" if c.a is None else c.a,
                            "(none)" if c.b is None else c.b,
                        )
                        for c in d.config
                    ],
                    empty="the configs agree",
                ),
                "config",
            ),
        ]
    )
    data = {
        "kind": "diff",
        "a": d.a.name,
        "b": d.b.name,
        "steps": [{"label": step_label(s), "a": s.a_size, "b": s.b_size} for s in steps],
        "dirs": [{"path": p, "delta": delta} for p, delta in moved],
    }
    title = f"{d.a.name} → {d.b.name}"
    return page(title=title, subtitle="deadweight diff", body=body, data=data)
