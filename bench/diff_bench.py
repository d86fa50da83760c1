"""Benchmark ``diff`` of two images that share a large base: bytes read against the total.

Builds a base (default ~200 MB uncompressed in 4 layers, ~20k files) and two apps on it
(default ~4 MB each, partly overlapping paths), writes both into one ``docker save``-style
archive (uncompressed layers, as ``docker save`` writes them), then counts the bytes this
process reads (``rchar`` of ``/proc/self/io``) while comparing them:

* cold: an empty layer store, so the shared layers are sized by reading their tar headers;
* sized: the store already knows the base's sizes (any earlier ``history`` or ``diff`` of
  an image on that base): only the two apps' layers are read;
* warm: the store holds every per-layer result: nothing is read;
* floor: reading every layer of both images (what comparing whole file systems costs).

Usage: ``python bench/diff_bench.py [--mb 200] [--app-mb 4] [--files 20000] [--workdir D]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from deadweight import static as s
from deadweight.cache import LayerStore
from deadweight.compare import compare
from deadweight.image import Image
from deadweight.sources import archive, open_image

T = TypeVar("T")
CHUNK = 1 << 20


def rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/self/io")


def measured(run: Callable[[], T]) -> tuple[T, int, float]:
    before, began = rchar(), time.perf_counter()
    result = run()
    return result, rchar() - before, time.perf_counter() - began


def blob(seed: int, size: int) -> bytes:
    chunk = f"{seed:08d} deadweight bench line\n".encode()
    return (chunk * (size // len(chunk) + 1))[:size]


def build(mb: int, app_mb: int, files: int, workdir: Path) -> Path:
    base_steps = []
    per_layer, per_count = mb * 1_000_000 // 4, files // 4
    for n in range(4):
        entries: list[s.Entry] = [
            s.File(f"usr/lib{n}/d{i % 50}/f{i}.so", blob(n * 10**6 + i, per_layer // per_count))
            for i in range(per_count)
        ]
        base_steps.append(s.Step(f"RUN install part {n}", s.layer(entries)))
    base_steps.append(s.Step('CMD ["/bin/sh"]'))

    def app(version: int) -> Image:
        count = 200
        entries: list[s.Entry] = [
            s.File(f"app/m{i}.js", blob(version * 1000 + i, app_mb * 1_000_000 // count))
            for i in range(count)
        ]
        steps = [*base_steps, s.Step("COPY . /app", s.layer(entries))]
        return s.image(steps, repo_tags=(f"app:{version}",))

    path = workdir / "apps.tar"
    archive.write([app(1), app(2)], path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--app-mb", type=int, default=4)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        path = build(args.mb, args.app_mb, args.files, Path(tmp))
        total = path.stat().st_size
        a = open_image(f"docker-archive:{path}:app:1")
        b = open_image(f"docker-archive:{path}:app:2")
        compare(a, a)  # warm imports and the archive index outside the measurements

        def floor() -> int:
            n = 0
            for image in (a, b):
                for layer in image.layers:
                    with layer.open() as f:
                        while chunk := f.read(CHUNK):
                            n += len(chunk)
            return n

        layer_bytes, floor_read, floor_s = measured(floor)
        # the real SQLite store users get; the "sized" one knows sizes but no layer indexes
        cold_store = LayerStore(Path(tmp) / "cold" / "layers.sqlite")
        sized_store = LayerStore(Path(tmp) / "sized" / "layers.sqlite")
        d, cold_read, cold_s = measured(lambda: compare(a, b, store=cold_store))
        for layer in (*a.layers, *b.layers):
            known = cold_store.get(layer.diff_id)
            if known is not None:
                sized_store.put(layer.diff_id, known)
        _, sized_read, sized_s = measured(lambda: compare(a, b, store=sized_store))
        _, warm_read, warm_s = measured(lambda: compare(a, b, store=sized_store))
        base_bytes = d.shared_size
        print(f"archive: {total / 1e6:.1f} MB; layers of both images: {layer_bytes / 1e6:.1f} MB")
        print(
            f"shared base: {d.shared_layers} layers, {base_bytes / 1e6:.1f} MB; "
            f"delta {d.delta:+d} B, {len(d.files)} files differ"
        )
        for name, read, secs in (
            ("floor (every layer of both images)", floor_read, floor_s),
            ("diff, cold store (base sized by tar headers)", cold_read, cold_s),
            ("diff, base sizes known", sized_read, sized_s),
            ("diff, warm store", warm_read, warm_s),
        ):
            print(f"{name:<46} read {read / 1e6:9.2f} MB = {read / total:7.2%} in {secs:6.2f} s")


if __name__ == "__main__":
    main()
