"""Benchmark ``minify`` on the story images: the ratio to the original next to optimize's
levels and the ``Dockerfile.deadweight`` build, the time per phase, and what tracing costs
the app (probe latency with and without the fanotify tracer).

The story images (``tests/integration/story_fixtures.py``: a Node backend on a node 16
base with npm upgraded, yarn and devDependencies; a Python app that installs gcc and
headers) are built on an engine (``DOCKER_HOST``, or a private dockerd started here as
root) from fixtures fetched once. For each, in the same run:

* ``optimize`` at ``safe``/own, ``moderate``/own and ``moderate``/all, and the image built
  from ``Dockerfile.deadweight``: the engine's size and the ratio to the original;
* ``minify`` (the real CLI in its own process, engine to engine, ``--probe-http`` on
  /health): the engine's size, the ratio, and the seconds per phase from its JSON report;
* the latency of ``GET /health`` against the running original, ``--requests`` requests a
  round from a client in its own process, alternating rounds without and with a tracer
  marking the engine's file system as minify does; the median of the rounds' means, and
  their ratio (target: under 1.10x).

Usage: ``python bench/minify_bench.py [--requests 100] [--rounds 21] [--latency-only]``
(root).

Figures on the 2-CPU development machine (dockerd 20.10; sizes are the engine's; the
machine ran other work, load average about 13)::

    story node: dw-story-node:latest 577.3 MiB
      optimize safe     own:  556.8 MiB = 0.96x
      optimize moderate own:  516.2 MiB = 0.89x
      optimize moderate all:  428.9 MiB = 0.74x
      Dockerfile.deadweight:      210.1 MiB = 0.36x
      minify:                     130.6 MiB = 0.23x, 79.7 s
        phases: load 0.0 s, trace 8.8 s, plan 17.6 s, apply 12.4 s, verify 20.2 s
      GET /health x100, median of 21 rounds: untraced 4.004 ms, traced 3.851 ms = 0.96x
    story python: dw-story-python:latest 476.2 MiB
      optimize safe     own:  412.4 MiB = 0.87x
      optimize moderate own:  390.3 MiB = 0.82x
      optimize moderate all:  346.2 MiB = 0.73x
      Dockerfile.deadweight:      174.5 MiB = 0.37x
      minify:                     142.9 MiB = 0.30x, 87.2 s
        phases: load 0.0 s, trace 9.9 s, plan 14.4 s, apply 13.0 s, verify 29.3 s
      GET /health x100, median of 21 rounds: untraced 2.834 ms, traced 2.208 ms = 0.78x

The tracer's own thread used 2-5 % of one CPU (about 500-2,600 events a second from the
whole host); the latency ratios are within the machine's noise (single rounds ranged from
0.67x to 2.3x, which is why the client runs in its own process and rounds alternate). An
earlier run with the client inside the tracing process (5 rounds of 300) gave 1.04x
(node) and 1.22x (python): the client then shares its interpreter lock with the tracer.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from private_engine import docker, private_engine

HERE = Path(__file__).resolve().parent
MB = 1024 * 1024


def _size(env: dict[str, str], ref: str) -> int:
    return int(docker(env, "image", "inspect", "--format", "{{.Size}}", ref))


def _cli(env: dict[str, str], *args: str) -> tuple[float, dict[str, object]]:
    cmd = [sys.executable, "-c", "from deadweight.cli import main\nmain()", *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"deadweight {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    doc: dict[str, object] = json.loads(proc.stdout) if "json" in args else {}
    return took, doc


# The client runs in its own process, so that the tracer's thread (in this one) never
# holds the client's interpreter lock: what is measured is the app's answer time.
CLIENT = """\
import sys, time, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
began = time.perf_counter()
for _ in range(n):
    with opener.open(url, timeout=10) as answer:
        answer.read()
print((time.perf_counter() - began) / n)
"""


def _mean_latency(url: str, requests: int) -> float:
    done = subprocess.run([sys.executable, "-c", CLIENT, url, str(requests)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return float(done.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def latency(env: dict[str, str], tag: str, port: int, requests: int, rounds: int) -> list[str]:
    """Median per-request latency against the running original, with and without a tracer."""
    from deadweight.sources import containers, engine
    from deadweight.sources.fanotify import Tracer

    os.environ["DOCKER_HOST"] = env["DOCKER_HOST"]
    url = f"http://127.0.0.1:{port}/health"
    plain: list[float] = []
    traced: list[float] = []
    spec = containers.RunSpec(tag, network="host", env=(("PORT", str(port)),))
    with containers.run(spec) as container:
        container.start()
        containers.http_get(url, wait=30)
        _mean_latency(url, requests)  # warm up
        root = engine.storage_root()
        for _ in range(rounds):
            plain.append(_mean_latency(url, requests))
            with Tracer(root) as tracer:
                traced.append(_mean_latency(url, requests))
                tracer.seen(container.id)
    a, b = statistics.median(plain), statistics.median(traced)
    return [
        f"  GET /health x{requests}, median of {rounds} rounds: untraced {a * 1e3:.3f} ms, "
        f"traced {b * 1e3:.3f} ms = {b / a:.2f}x"
    ]


def story(workdir: Path, requests: int, rounds: int, latency_only: bool) -> list[str]:
    sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
    import story_fixtures as sf
    from engine_fixtures import DockerEngine

    found = private_engine(workdir)
    if found is None:
        raise SystemExit("minify_bench: needs root (tracing, and a private dockerd)")
    env, stop = found
    lines: list[str] = []
    try:
        eng = DockerEngine(env["DOCKER_HOST"], env, workdir / "dockerd" / "dockerd.log", 0.0)
        fixtures = sf.fetch_fixtures()
        (workdir / "bases").mkdir()
        sf.build_bases(eng, fixtures, workdir / "bases")
        for app in sf.build_story_apps(eng, fixtures, workdir):
            original = _size(env, app.tag)
            lines.append(f"story {app.name}: {app.tag} {original / MB:.1f} MiB")
            port = free_port()
            if latency_only:
                lines += latency(env, app.tag, port, requests, rounds)
                continue
            src = f"docker-daemon:{app.tag}"
            for level, squash in (("safe", "own"), ("moderate", "own"), ("moderate", "all")):
                dest = f"bench-{app.name}:{level}-{squash}"
                _cli(env, "optimize", src, "-o", f"docker-daemon:{dest}", "--level", level,
                     "--squash", squash, "--epoch", "0")  # fmt: skip
                after = _size(env, dest)
                lines.append(f"  optimize {level:<8} {squash}: {after / MB:6.1f} MiB = "
                             f"{after / original:.2f}x")  # fmt: skip
            _cli(env, "optimize", src, "-o", f"oci-archive:{workdir / f'{app.name}.tar'}",
                 "--dockerfile", str(app.context / "Dockerfile"))  # fmt: skip
            rebuilt = f"bench-{app.name}:dockerfile"
            subprocess.run(
                ["/usr/bin/docker", "build", "--network", "none", "-q", "-t", rebuilt,
                 "-f", str(app.context / "Dockerfile.deadweight"), str(app.context)],
                env={**env, "DOCKER_BUILDKIT": "1"}, check=True, capture_output=True,
            )  # fmt: skip
            size = _size(env, rebuilt)
            lines.append(f"  Dockerfile.deadweight:     {size / MB:6.1f} MiB = "
                         f"{size / original:.2f}x")  # fmt: skip
            took, doc = _cli(env, "minify", src, "-o", f"docker-daemon:bench-{app.name}:min",
                             "--network", "host", "--env", f"PORT={port}",
                             "--probe-http", f"http://127.0.0.1:{port}/health",
                             "--epoch", "0", "--format", "json")  # fmt: skip
            size = _size(env, f"bench-{app.name}:min")
            phases = doc["phases"]
            assert isinstance(phases, dict)
            lines.append(f"  minify:                    {size / MB:6.1f} MiB = "
                         f"{size / original:.2f}x, {took:.1f} s")  # fmt: skip
            lines.append("    phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
            lines += latency(env, app.tag, port, requests, rounds)
    finally:
        stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--latency-only", action="store_true", help="Only the probe latency.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dw-minify-bench-", dir=args.workdir) as tmp:
        print("\n".join(story(Path(tmp), args.requests, args.rounds, args.latency_only)))


if __name__ == "__main__":
    main()
