"""Benchmark a large layer's entries decoded whole and lazily (issue 16).

Writes the layer store record of a layer of ``--files`` empty files (``hostile_shapes``'
``many_empty_files_layer``, the shape of ``hostile_bench.py``), then, each in a fresh
process: decodes it whole (``record.decode_file``) or lazily (``lazy_above``, as
``iter_deltas(lazy=True)`` does) and iterates its entries ``--passes`` times. Prints the
CPU seconds of the decode and of each pass, and the process's peak RSS beside that of a
process that only imports (figures: ``hostile_bench.py``'s docstring).

Usage: ``python bench/lazy_bench.py [--workdir DIR] [--files N] [--passes N]``
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import json
import multiprocessing
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "unit" / "hostile"))

_CHILD = """
import gc, json, resource, sys, time
from deadweight.filetree.record import decode_file
gc.disable()  # as reading and stacking run (reading.paused_gc)
mode, path, passes = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = {}
if mode != "import":
    start = time.process_time()
    with open(path, "rb") as f:
        delta = decode_file(f, lazy_above=8 << 20 if mode == "lazy" else None)
    out["decode"] = round(time.process_time() - start, 2)
    out["passes"] = []
    for _ in range(passes):
        start, n = time.process_time(), 0
        for entry in delta.entries:
            n += 1
        out["passes"].append(round(time.process_time() - start, 2))
    out["entries"] = n
out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""


def write_record(path: Path, files: int) -> None:
    import hostile_shapes as shapes

    from deadweight.filetree.delta import read_delta
    from deadweight.filetree.record import RecordWriter

    tar = gzip.decompress(shapes.many_empty_files_layer(files))
    with path.open("wb") as out:
        writer = RecordWriter(out)
        delta = read_delta(io.BytesIO(tar), hash="xxh3", capture=None, what="bench", sink=writer)
        writer.finish(dataclasses.replace(delta, entries=()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hostile")
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    record = args.workdir / f"record-{args.files}.json"
    if not record.exists():
        # in a process of its own: a child exec'd by this one would report the shape's
        # memory as its own peak (Linux keeps the high-water mark across exec)
        built = multiprocessing.get_context("spawn").Process(
            target=write_record, args=(record, args.files)
        )
        built.start()
        built.join()
    print(f"record of {args.files} empty files: {record.stat().st_size / 1e6:.1f} MB")
    for mode in ("import", "whole", "lazy"):
        got = subprocess.run(
            [sys.executable, "-c", _CHILD, mode, str(record), str(args.passes)],
            check=True,
            capture_output=True,
            text=True,
        )
        print(f"{mode:8} {json.loads(got.stdout)}")


if __name__ == "__main__":
    main()
