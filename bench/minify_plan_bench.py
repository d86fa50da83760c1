"""Benchmark the domain half of ``minify``: deciding what to keep and writing the result,
against the floor of reading every layer once.

Builds an image of real files from this machine (by default ``/usr/bin``, ``/usr/lib``'s
multiarch libraries, Python's standard library, ``/etc``: real ELF files, scripts, dpkg's
database), gzip layers on disk, about ``--mb`` MB uncompressed, ``CMD ["python3"]``, and
measures, best of ``--rounds``:

* the floor: every layer read once (``Layer.open()`` to EOF: inflate and diff_id);
* ``layer_deltas``: the layer deltas (one pass per layer), as the CLI reads them;
* ``plan_minify`` given those deltas (the scan: one more pass over the layers holding
  ELF files, scripts or metadata, then the decision in memory), static mode;
* ``apply_minify`` and reading the new layer once (the squash's second pass and the write).

Usage: ``python bench/minify_plan_bench.py [--mb 600] [--rounds 2]``

Figures on the 2-CPU development machine (``--mb 600 --rounds 2``, Debian 12 host)::

    image: 611.3 MB of file content, 2 layers
    floor (read every layer once): 7.93 s
    layer_deltas:                  7.74 s (1.0x the floor)
    plan_minify (static, deltas given): 14.25 s (1.8x the floor); kept 101.6 MB = 0.17x,
      5133 paths kept, 2142 removed
    apply_minify + read the result: 13.91 s (1.8x the floor)

(The machine was shared: the floor, 77 MB/s of gzip, is several times what an idle one
takes; the ratios are the figures to watch. Beyond its one pass over the layers the plan
spends its time copying ELF files to the spool and in pyelftools, about 10 ms for each ELF
file the closure reaches.)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from deadweight import mediatypes
from deadweight import static as S
from deadweight.image import Image, Layer
from deadweight.minify import apply_minify, plan_minify
from deadweight.mutate import layer_deltas
from deadweight.spec.manifest import Descriptor

SOURCES = (
    "/etc",
    "/usr/lib/python3.11",
    "/usr/lib/python3",
    "/usr/bin",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/share",
    "/usr/local",
)
LINKS = {"bin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib64"}


def _walk(budget: int) -> Iterator[Path]:
    used = 0
    for top in SOURCES:
        for root, dirs, files in os.walk(top):
            dirs.sort()
            yield Path(root)
            for name in sorted(files):
                p = Path(root) / name
                try:
                    size = p.lstat().st_size
                except OSError:
                    continue
                if used + size > budget:
                    return
                used += size
                yield p


def _layer(path: Path) -> Layer:
    diff = hashlib.sha256()
    with open(path.with_suffix(".tar"), "rb") as raw:
        while chunk := raw.read(1 << 20):
            diff.update(chunk)
    with open(path.with_suffix(".tar"), "rb") as raw, gzip.open(path, "wb", compresslevel=1) as gz:
        while chunk := raw.read(1 << 20):
            gz.write(chunk)
    blob = path.read_bytes()
    desc = Descriptor(
        mediatypes.OCI_LAYER_GZIP, "sha256:" + hashlib.sha256(blob).hexdigest(), len(blob)
    )
    return Layer(f"sha256:{diff.hexdigest()}", desc, opener=lambda: open(path, "rb"), seekable=True)


def build(work: Path, mb: int) -> Image:
    """Two layers: the links of a merged-/usr root, then the files."""
    links = work / "links.tar"
    with tarfile.open(links, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, target in LINKS.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    files = work / "files.tar"
    with tarfile.open(files, "w", format=tarfile.PAX_FORMAT) as tar:
        for p in _walk(mb << 20):
            if p.is_symlink() or p.is_dir() or p.is_file():
                try:
                    tar.add(p, arcname=str(p).lstrip("/"), recursive=False)
                except OSError:
                    continue
    steps = [
        S.Step("ADD links", _layer(work / "links.gz")),
        S.Step("ADD files", _layer(work / "files.gz")),
    ]
    return S.image(steps, config={"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["python3"]})


def best(rounds: int, fn: Callable[[], object]) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def floor(image: Image) -> None:
    for layer in image.layers:
        with layer.open() as stream:
            while stream.read(1 << 20):
                pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dw-minify-bench-") as tmp:
        image = build(Path(tmp), args.mb)
        f, _ = best(args.rounds, lambda: floor(image))
        d, deltas = best(args.rounds, lambda: layer_deltas(image))
        p, plan = best(args.rounds, lambda: plan_minify(image, evidence=None, deltas=deltas))  # type: ignore[arg-type]

        def applied() -> None:
            floor(apply_minify(image, plan, epoch=0))  # type: ignore[arg-type]

        a, _ = best(args.rounds, applied)
        before, after = plan.before_bytes, plan.after_bytes  # type: ignore[attr-defined]
        print(f"image: {before / 1e6:.1f} MB of file content, {len(image.layers)} layers")
        print(f"floor (read every layer once): {f:.2f} s")
        print(f"layer_deltas:                  {d:.2f} s ({d / f:.1f}x the floor)")
        print(f"plan_minify (static, deltas given): {p:.2f} s ({p / f:.1f}x the floor); "
              f"kept {after / 1e6:.1f} MB = {after / before:.2f}x, "
              f"{len(plan.kept)} paths kept, {len(plan.removed)} removed")  # type: ignore[attr-defined]  # fmt: skip
        print(f"apply_minify + read the result: {a:.2f} s ({a / f:.1f}x the floor)")


if __name__ == "__main__":
    main()
