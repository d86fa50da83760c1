"""Benchmark ``deadweight history`` against the floor of reading the archive once.

Builds a large synthetic image (default ~400 MB in 6 layers of many files), writes it as
an uncompressed ``docker save`` archive and as a gzip OCI layout, then measures, side by
side in one run:

* ``cat ARCHIVE > /dev/null`` (the floor: reading every byte once),
* ``deadweight history --no-cache docker-archive:`` (reads tar headers, seeks past data),
* ``deadweight history`` on the gzip layout, first with an empty store, then again
  (the second run must read no layer bytes: sizes come from the store).

Bytes read are counted in-process from ``/proc/self/io`` (rchar). Usage:
``python bench/history_bench.py [--mb 400] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deadweight import static as s
from deadweight.analysis.sizes import layer_sizes
from deadweight.cache import LayerStore
from deadweight.sources import archive, layout, open_image

ROOT = Path(__file__).resolve().parent.parent
DEADWEIGHT = ROOT / ".venv" / "bin" / "deadweight"


def rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def text_blob(seed: int, size: int) -> bytes:
    """Compressible, text-like bytes (gzip ~3-4x, like real file systems)."""
    words = [f"w{(seed * 7919 + i * 104729) % 100003:05d}" for i in range(4096)]
    chunk = (" ".join(words) + "\n").encode()
    return (chunk * (size // len(chunk) + 1))[:size]


def build(mb: int, workdir: Path) -> tuple[Path, Path]:
    per_layer = mb * 1_000_000 // 6
    steps = []
    for n in range(6):
        files = []
        count = 2000 if n % 2 else 200
        for i in range(count):
            files.append(
                s.File(
                    f"layer{n}/dir{i % 50}/file{i}.txt",
                    text_blob(n * 10000 + i, per_layer // count),
                )
            )
        steps.append(s.Step(f"RUN /bin/sh -c make layer{n} # buildkit", s.layer(files, "gzip")))
    image = s.image(steps, repo_tags=("bench:latest",))
    tar = workdir / "bench.tar"
    oci = workdir / "bench-oci"
    archive.write([image], tar)
    layout.write([image], oci)
    return tar, oci


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=400)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dw-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tar, oci = workdir / "bench.tar", workdir / "bench-oci"
    if not (tar.exists() and oci.exists()):
        print(f"building a ~{args.mb} MB image in {workdir} ...", file=sys.stderr)
        tar, oci = build(args.mb, workdir)
    cache = Path(tempfile.mkdtemp(prefix="dw-bench-cache-"))
    env = dict(os.environ, DEADWEIGHT_CACHE_DIR=str(cache))
    tar_size = tar.stat().st_size
    oci_size = sum(p.stat().st_size for p in oci.rglob("*") if p.is_file())

    timed(["cat", str(tar)], env)  # warm the page cache for a fair floor
    floor = min(timed(["sh", "-c", f"cat {tar} > /dev/null"], env) for _ in range(3))
    hist = min(
        timed([str(DEADWEIGHT), "history", "--no-cache", f"docker-archive:{tar}"], env)
        for _ in range(3)
    )
    startup = min(timed([str(DEADWEIGHT), "--version"], env) for _ in range(3))
    before = rchar()
    layer_sizes(open_image(f"docker-archive:{tar}"))
    archive_read = rchar() - before

    blobs = " ".join(
        str(oci / "blobs" / "sha256" / layer.blob.digest.split(":")[1])
        for layer in open_image(f"oci:{oci}").layers
    )
    gz_floor = timed(["sh", "-c", f"for b in {blobs}; do gzip -dc < $b; done > /dev/null"], env)
    first = timed([str(DEADWEIGHT), "history", f"oci:{oci}"], env)
    second = timed([str(DEADWEIGHT), "history", f"oci:{oci}"], env)
    store = LayerStore(cache / "layers.sqlite")
    before = rchar()
    img = open_image(f"oci:{oci}")
    layer_sizes(img, store)
    repeat_read = rchar() - before
    store.close()

    print(f"archive: {tar_size / 1e6:.1f} MB uncompressed docker-archive, 6 layers, 7,200 files")
    print(f"  cat (floor)                     {floor:7.3f} s")
    print(f"  deadweight history --no-cache   {hist:7.3f} s   ({hist / floor:.2f}x the floor)")
    print(f"  deadweight --version (startup)  {startup:7.3f} s")
    print(f"  history minus startup           {hist - startup:7.3f} s")
    print(f"  bytes read for sizes            {archive_read:,} ({archive_read / tar_size:.4%})")
    print(f"gzip OCI layout: {oci_size / 1e6:.1f} MB")
    print(f"  cat | gzip -dc (floor)          {gz_floor:7.3f} s")
    print(f"  first history (empty store)     {first:7.3f} s   ({first / gz_floor:.2f}x the floor)")
    print(f"  repeated history                {second:7.3f} s")
    print(f"  bytes read by the repeat        {repeat_read:,} (layers total {oci_size:,})")


if __name__ == "__main__":
    main()
