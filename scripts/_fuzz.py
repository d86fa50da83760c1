"""``scripts/fuzz``: run the fuzz targets for as long as asked (see that script)."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "unit" / "hostile"
FINDINGS = ROOT / "fuzz-findings"
MEMORY = 2 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _targets() -> dict[str, object]:
    sys.path.insert(0, str(HOSTILE))
    import fuzz_targets

    return dict(fuzz_targets.TARGETS)


def run_atheris(name: str, seconds: int, bound: float) -> int:
    """One target under libFuzzer in this process (a child of the driver)."""
    import atheris

    with atheris.instrument_imports():
        import deadweight  # noqa: F401

        targets = _targets()
    import fuzz_targets

    target = fuzz_targets.bounded(targets[name], bound)  # type: ignore[arg-type]
    corpus = FINDINGS / f"corpus-{name}"
    corpus.mkdir(parents=True, exist_ok=True)
    args = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={seconds}",
        f"-timeout={int(bound * 3) + 1}",
        "-rss_limit_mb=2048",
        "-max_len=4096",
        f"-artifact_prefix={FINDINGS}/{name}-",
        "-print_final_stats=1",
    ]
    atheris.Setup(args, target)
    atheris.Fuzz()
    return 0


def run_hypothesis(name: str, seconds: int, bound: float) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    targets = _targets()
    import fuzz_targets

    target = fuzz_targets.bounded(targets[name], bound)  # type: ignore[arg-type]
    end = time.monotonic() + seconds
    rounds = 0

    @settings(
        max_examples=500,  # a round; rounds repeat until the time is up
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.binary(max_size=4096))
    def check(data: bytes) -> None:
        if time.monotonic() > end:
            return
        try:
            target(data)
        except BaseException:
            FINDINGS.mkdir(exist_ok=True)
            (FINDINGS / f"{name}-{int(time.time())}.bin").write_bytes(data)
            raise

    while time.monotonic() < end:
        check()
        rounds += 1
    print(f"fuzz {name}: hypothesis, {rounds} round(s), nothing found", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz")
    parser.add_argument("--minutes", type=float, default=10.0, help="for all targets together")
    parser.add_argument("--bound", type=float, default=10.0, help="seconds one input may take")
    parser.add_argument("--engine", choices=("atheris", "hypothesis"), default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("targets", nargs="*")
    args, _ = parser.parse_known_args()
    if args.child:
        run = run_atheris if args.engine == "atheris" else run_hypothesis
        return run(args.child, args.seconds, args.bound)
    names = args.targets or sorted(_targets())
    unknown = sorted(set(names) - set(_targets()))
    if unknown:
        parser.error(f"unknown target {unknown[0]!r} (choose from {', '.join(sorted(_targets()))})")
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    each = max(10, int(args.minutes * 60 / len(names)))
    print(f"fuzz: {engine}, {len(names)} targets, {each} s each, bound {args.bound:g} s per input")
    env = {**os.environ, "DOCKER_CONFIG": str(FINDINGS / "docker-config")}
    env.pop("DEADWEIGHT_REGISTRY_TIMEOUT", None)
    env["DEADWEIGHT_CACHE_DIR"] = str(FINDINGS / "cache")
    failed = []
    for name in names:
        cmd = [sys.executable, __file__, "--child", name, "--engine", engine]
        cmd += ["--seconds", str(each), "--bound", str(args.bound)]
        proc = subprocess.run(cmd, env=env, preexec_fn=_limit_memory, check=False)
        status = "nothing found" if proc.returncode == 0 else f"FINDING (exit {proc.returncode})"
        print(f"fuzz {name}: {status}", flush=True)
        if proc.returncode:
            failed.append(name)
    if failed:
        print(f"fuzz: findings in {', '.join(failed)}; inputs under {FINDINGS}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
