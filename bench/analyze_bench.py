"""Benchmark ``analyze`` against the floor of decompressing and hashing the same layers.

Builds a synthetic image (default ~300 MB uncompressed, 6 gzip layers, ~30k files, with
deletions and overwrites so every analysis has work), writes it as an OCI layout, then
measures side by side in one process:

* the floor: every layer decompressed and its diff_id verified (``Layer.open()`` to EOF),
* ``analyze`` serially and with 4 workers (one streaming pass per layer, file hashing),
* ``analyze`` again against a warm per-layer store (no layer bytes read),

and the peak of Python allocations (tracemalloc) during the serial analysis.
Usage: ``python bench/analyze_bench.py [--mb 300] [--files 30000] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from deadweight import static as s
from deadweight.analysis.analyze import analyze
from deadweight.filetree.delta import default_hash
from deadweight.image import Image
from deadweight.sources import layout, open_image

T = TypeVar("T")


class MemoryStore:
    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}

    def get_blob(self, kind: str, diff_id: str) -> bytes | None:
        return self.blobs.get((kind, diff_id))

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None:
        self.blobs[(kind, diff_id)] = data


def text_blob(seed: int, size: int) -> bytes:
    words = [f"w{(seed * 7919 + i * 104729) % 100003:05d}" for i in range(512)]
    chunk = (" ".join(words) + "\n").encode()
    return (chunk * (size // len(chunk) + 1))[:size]


def build(mb: int, files: int, workdir: Path) -> Path:
    per_layer, per_count = mb * 1_000_000 // 6, files // 6
    steps = []
    for n in range(6):
        entries: list[s.Entry] = [
            s.File(f"app{n}/d{i % 97}/f{i}.txt", text_blob(n * 100000 + i, per_layer // per_count))
            for i in range(per_count)
        ]
        if n >= 2:  # delete and overwrite some of two layers below
            entries += [s.Whiteout(f"app{n - 2}/d{k}") for k in range(5)]
            entries += [s.File(f"app{n - 1}/d1/f{i}.txt", b"new") for i in range(1, per_count, 97)]
        steps.append(s.Step(f"RUN step {n}", s.layer(entries, "gzip")))
    path = workdir / "oci"
    layout.write([s.image(steps, repo_tags=("bench:1",))], path)
    return path


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def floor(image: Image) -> int:
    total = 0
    for layer in image.layers:
        with layer.open() as f:
            while chunk := f.read(1 << 20):
                total += len(chunk)
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=300)
    ap.add_argument("--files", type=int, default=30000)
    ap.add_argument("--workdir")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        t_build, path = timed(lambda: build(args.mb, args.files, Path(tmp)))
        image = open_image(f"oci:{path}")
        print(f"built {len(image.layers)} layers in {t_build:.1f}s; file hash: {default_hash()}")
        t_floor, raw = timed(lambda: floor(image))
        t_serial, a = timed(lambda: analyze(image))
        t_par, b = timed(lambda: analyze(image, workers=4))
        assert a == b
        store = MemoryStore()
        analyze(image, store=store)
        t_warm, c = timed(lambda: analyze(image, store=store))
        assert c == a
        tracemalloc.start()
        analyze(image)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"uncompressed bytes   {raw / 1e6:10.1f} MB, files {sum(lr.added for lr in a.layers)}"
        )
        print(f"floor (inflate+sha)  {t_floor:8.2f}s")
        print(f"analyze, serial      {t_serial:8.2f}s  {t_serial / t_floor:5.2f}x floor")
        print(f"analyze, 4 workers   {t_par:8.2f}s  {t_par / t_floor:5.2f}x floor")
        print(f"analyze, warm store  {t_warm:8.2f}s")
        print(f"peak Python allocations (serial) {peak / 1e6:.1f} MB")
        print(f"reclaimable {a.waste.reclaimable} bytes; dive wasted {a.dive.wasted_bytes}")


if __name__ == "__main__":
    main()
