"""Benchmark ``deadweight scan`` of a registry against analysing its images one by one.

Starts the registry of the integration tests (Debian's ``docker-registry``, as
``tests/integration/registry_fixtures.py`` does), pushes the synthetic fleet of the tests
(``tests/fleet_images.py``: three bases, ``--apps`` apps on them, gzip layers) with our
registry writer, then times, side by side in one run, each with an empty layer store:

* ``scan --workers 0``: every unique layer read in the one CLI process, no cluster;
* ``scan --workers 1`` and ``--workers 2``: the embedded Dask cluster (its start-up included);
* ``analyze`` one by one: one ``deadweight analyze --no-cache`` per image, as a script
  looping over the registry would run it; and the same sharing one layer store, so that
  a base read for one image is not read again for the next.

Usage: ``python bench/scan_bench.py [--apps 30] [--scale-kb 256] [--rounds 3]``.
Figures are printed (median and range of the rounds), never asserted. On the 2-CPU
development machine, shared with four other engineers' test runs (load average 13)::

    33 images, 119 layers, 64 unique; 105.7 MB in all, 34.0 MB unique (34.0 MB gzip); 2 CPUs
      scan --workers 0 (no cluster)         5.55 s  (4.67-5.67)   0.26x scan --workers 2
      scan --workers 1                     14.90 s  (13.86-16.81)   0.71x scan --workers 2
      scan --workers 2                     21.10 s  (16.80-26.32)   1.00x scan --workers 2
      analyze one by one, --no-cache       55.10 s  (48.52-74.59)   2.61x scan --workers 2
      analyze one by one, one store        64.33 s  (53.60-67.69)   3.05x scan --workers 2

A second run, after the cluster's workers were forked from a preloaded server (load 12)::

      scan --workers 0 (no cluster)         5.60 s  (4.24-6.97)   0.25x scan --workers 2
      scan --workers 1                     15.47 s  (9.28-21.65)   0.70x scan --workers 2
      scan --workers 2                     21.97 s  (12.46-31.49)   1.00x scan --workers 2
      analyze one by one, --no-cache       51.83 s  (37.29-66.38)   2.36x scan --workers 2
      analyze one by one, one store        43.13 s  (35.93-50.33)   1.96x scan --workers 2

Timed inside one process on the same registry: the embedded cluster starts in 2-6 s (8-12 s
with spawned workers), and its read phase takes 5-7 s against 2-3 s for the same jobs in
one process: on two CPUs that other work keeps busy, a second worker has nothing to run
on. A cluster pays where the reads outweigh its start-up: more and larger layers, more
CPUs, or an existing cluster (``--scheduler``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from registry_fixtures import running_registry  # noqa: E402

import fleet_images  # noqa: E402
from deadweight.reference import Reference  # noqa: E402
from deadweight.sources import registry  # noqa: E402

DEADWEIGHT = Path(sys.executable).with_name("deadweight")


def cli(*args: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(DEADWEIGHT), *args], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"deadweight {' '.join(args)} failed: {result.stderr}")


def timed(run: Callable[[], None]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", type=int, default=30)
    parser.add_argument("--scale-kb", type=int, default=256, help="filler per layer, in kB")
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        work = Path(tmp)
        with running_registry(work / "registry") as server:
            names = []
            for name, image in fleet_images.fleet(opts.apps, opts.scale_kb << 10):
                ref = Reference.parse(f"{server.host}/{name}")
                registry.write(image, ref)
                names.append(str(ref))
            source = f"docker://{server.host}"
            env = {**os.environ, "DOCKER_CONFIG": str(work / "no-config")}

            def scan(workers: int) -> Callable[[], None]:
                out = str(work / "fleet.json")
                return lambda: cli(
                    "scan", source, "--workers", str(workers), "--no-cache", "-o", out, env=env
                )

            def one_by_one(shared_store: bool) -> Callable[[], None]:
                def run() -> None:
                    store = tempfile.mkdtemp(dir=work)
                    for name in names:
                        args = ["analyze", "--format", "json", f"docker://{name}"]
                        if not shared_store:
                            args.append("--no-cache")
                        cli(*args, env={**env, "DEADWEIGHT_CACHE_DIR": store})

                return run

            rows: dict[str, Callable[[], None]] = {
                "scan --workers 0 (no cluster)": scan(0),
                "scan --workers 1": scan(1),
                "scan --workers 2": scan(2),
                "analyze one by one, --no-cache": one_by_one(False),
                "analyze one by one, one store": one_by_one(True),
            }
            times: dict[str, list[float]] = {k: [] for k in rows}
            for _ in range(opts.rounds):
                for label, run in rows.items():  # interleaved: the machine's load hits all
                    times[label].append(timed(run))
            cli("scan", source, "--workers", "0", "--no-cache", "-o", str(work / "f.json"), env=env)
            summary = (work / "f.json").read_text()

    totals = json.loads(summary)["fleet"]
    print(
        f"{len(names)} images, {totals['layers']} layers, {totals['uniqueLayers']} unique;"
        f" {totals['totalBytes'] / 1e6:.1f} MB in all, {totals['uniqueBytes'] / 1e6:.1f} MB"
        f" unique ({totals['storedBytes'] / 1e6:.1f} MB gzip); {os.cpu_count()} CPUs"
    )
    base = statistics.median(times["scan --workers 2"])
    for label, values in times.items():
        median = statistics.median(values)
        print(
            f"  {label:34} {median:7.2f} s  ({min(values):.2f}-{max(values):.2f})"
            f"  {median / base:5.2f}x scan --workers 2"
        )


if __name__ == "__main__":
    main()
