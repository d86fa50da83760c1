"""Differential test of ``deadweight lint`` against hadolint on any folder of Dockerfiles.

For every file in the folder (``*Dockerfile*`` and ``*.dockerfile``, not recursive) it runs

* the oracle: ``hadolint --format json FILE`` with no configuration (an empty working
  directory, ``HOME`` and ``XDG_CONFIG_HOME`` pointed at an empty directory, no
  ``HADOLINT_*`` or ``NO_COLOR`` variables), as ``tests/unit/dockerfile/corpus/README.md``
  describes;
* ours: ``deadweight lint --format json FILE...`` (the CLI, many files per process, in the
  same empty directory and environment), keeping hadolint's codes: ``DLxxxx`` and
  ShellCheck's ``SCxxxx`` (our own ``DWxxx`` have no peer);

and compares, as ``tests/unit/dockerfile/test_corpus.py`` does, the sorted
``(code, line, level, message)`` tuples of each file, and the exit status: hadolint's
real one against the one ours gives the file (1 when a hadolint-coded finding reaches
``info``, which is hadolint's default threshold; ``--exact-exit`` runs ours once per file
and takes its real exit status, DW findings included, so only use it to check the CLI).

Output: one line per file that differs (``=`` identical, ``!`` differs, with the missing
``-`` and extra ``+`` findings under it), then a summary: files identical, findings
matched / missing / extra, DL and SC apart, and by rule. hadolint's answers are cached by
the file's content hash (``--cache``), so a re-run after a fix only runs ours.

Usage: ``python bench/lint_differential.py FOLDER [--hadolint PATH] [--deadweight PATH]
[--cache DIR] [--quiet] [--jobs 2] [--exact-exit] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

Row = tuple[str, int, str, str]
FAILING = {"error", "warning", "info"}


def clean_env(home: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HADOLINT_") and k not in {"NO_COLOR", "DEADWEIGHT_CONFIG"}
    }
    env["HOME"] = env["XDG_CONFIG_HOME"] = home
    return env


def rows(items: Iterable[dict[str, object]]) -> list[Row]:
    out = []
    for d in items:
        code = str(d["code"])
        if code.startswith(("DL", "SC")):
            line = d["line"]
            assert isinstance(line, int)
            out.append((code, line, str(d["level"]), str(d["message"])))
    return sorted(out)


def hadolint_of(
    path: Path, hadolint: str, workdir: str, env: dict[str, str], cache: Path | None
) -> tuple[list[Row], int, str]:
    """hadolint's findings, exit status and stderr for one file (cached by content)."""
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()
    if cache is not None and (cache / f"{key}.json").exists():
        saved = json.loads((cache / f"{key}.json").read_text())
        return [tuple(r) for r in saved["rows"]], saved["exit"], saved["stderr"]  # type: ignore[misc]
    local = Path(workdir) / "Dockerfile"
    local.write_bytes(data)  # a relative path in the empty directory, as the corpus was made
    proc = subprocess.run(
        [hadolint, "--format", "json", "Dockerfile"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        found = rows(json.loads(proc.stdout or "[]"))
    except json.JSONDecodeError:
        found = [("HADOLINT-CRASH", 0, "error", proc.stdout[:200])]
    if cache is not None:
        record = {"rows": found, "exit": proc.returncode, "stderr": proc.stderr}
        (cache / f"{key}.json").write_text(json.dumps(record))
    return found, proc.returncode, proc.stderr


def ours_of(
    paths: list[Path], deadweight: str, workdir: str, env: dict[str, str]
) -> dict[str, tuple[list[Row], int]]:
    """Our findings per file, from one CLI run over many files; the exit status is what
    hadolint's threshold would give those findings."""
    proc = subprocess.run(
        [deadweight, "lint", "--format", "json", *map(str, paths)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        sys.exit(f"deadweight lint exited {proc.returncode}: {proc.stderr.strip()}")
    by_file: dict[str, list[dict[str, object]]] = collections.defaultdict(list)
    for item in json.loads(proc.stdout or "[]"):
        by_file[str(item["file"])].append(item)
    out = {}
    for p in paths:
        found = rows(by_file.get(str(p), []))
        out[str(p)] = (found, int(any(r[2] in FAILING for r in found)))
    return out


def exact_exit(path: Path, deadweight: str, workdir: str, env: dict[str, str]) -> int:
    argv = [deadweight, "lint", "--format", "json", str(path)]
    return subprocess.run(argv, cwd=workdir, env=env, capture_output=True, check=False).returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    beside = Path(sys.executable).with_name("hadolint")
    ap.add_argument(
        "--hadolint", default=str(beside) if beside.exists() else shutil.which("hadolint")
    )
    ap.add_argument("--deadweight", default=str(Path(sys.executable).with_name("deadweight")))
    ap.add_argument("--cache", type=Path, help="folder to keep hadolint's answers in")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quiet", action="store_true", help="only the summary")
    ap.add_argument("--exact-exit", action="store_true", help="run ours once per file too")
    ap.add_argument("--json", type=Path, help="write every difference here")
    ns = ap.parse_args()
    if not ns.hadolint:
        sys.exit("hadolint not found (pass --hadolint PATH)")
    files = sorted(
        p
        for p in ns.folder.iterdir()
        if p.is_file() and ("Dockerfile" in p.name or p.name.endswith(".dockerfile"))
    )
    files = [p.resolve() for p in files]
    if ns.cache:
        ns.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as empty:
        env = clean_env(home)
        # one working directory per running hadolint: each writes its file there as
        # ``Dockerfile``, so two runs must never share one (a pool's worker takes the
        # next file whichever directory it would map to)
        workdirs: queue.SimpleQueue[str] = queue.SimpleQueue()
        for _ in range(ns.jobs):
            workdirs.put(tempfile.mkdtemp(dir=home))

        def theirs(p: Path) -> tuple[list[Row], int, str]:
            workdir = workdirs.get()
            try:
                return hadolint_of(p, ns.hadolint, workdir, env, ns.cache)
            finally:
                workdirs.put(workdir)

        def ours(chunk: list[Path]) -> dict[str, tuple[list[Row], int]]:
            return ours_of(chunk, ns.deadweight, empty, env)

        with ThreadPoolExecutor(ns.jobs) as pool:
            oracle = list(pool.map(theirs, files))
            chunks = [files[i : i + 40] for i in range(0, len(files), 40)]
            mine: dict[str, tuple[list[Row], int]] = {}
            for part in pool.map(ours, chunks):
                mine.update(part)
            exits = (
                list(pool.map(lambda p: exact_exit(p, ns.deadweight, empty, env), files))
                if ns.exact_exit
                else None
            )
    report(files, oracle, mine, exits, ns.quiet, ns.json)


def report(
    files: list[Path],
    oracle: list[tuple[list[Row], int, str]],
    mine: dict[str, tuple[list[Row], int]],
    exits: list[int] | None,
    quiet: bool,
    out: Path | None,
) -> None:
    same = matched = missing = extra = exit_diff = 0
    by_rule: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    diffs = []
    for i, path in enumerate(files):
        theirs, their_exit, _stderr = oracle[i]
        ours, our_exit = mine[str(path)]
        if exits is not None:
            our_exit = exits[i]
        left = collections.Counter(theirs)
        right = collections.Counter(ours)
        common, gone, more = left & right, left - right, right - left
        for counter, slot in ((common, 0), (gone, 1), (more, 2)):
            for row, n in counter.items():
                by_rule[row[0]][slot] += n
                by_kind[row[0][:2]][slot] += n
        matched += sum(common.values())
        missing += sum(gone.values())
        extra += sum(more.values())
        exit_diff += their_exit != our_exit
        if not gone and not more and their_exit == our_exit:
            same += 1
            continue
        diffs.append(
            {
                "file": path.name,
                "exit": [their_exit, our_exit],
                "missing": sorted(gone.elements()),
                "extra": sorted(more.elements()),
            }
        )
        if not quiet:
            print(f"! {path.name}  exit hadolint={their_exit} ours={our_exit}")
            for row in sorted(gone.elements()):
                print(f"    - {row[0]}@{row[1]} {row[2]}: {row[3]}")
            for row in sorted(more.elements()):
                print(f"    + {row[0]}@{row[1]} {row[2]}: {row[3]}")
    n = len(files)
    print(f"\nfiles identical: {same}/{n} ({100 * same / max(n, 1):.1f}%)")
    print(f"findings matched {matched}, missing {missing}, extra {extra}; exit differs {exit_diff}")
    for kind, (m, g, e) in sorted(by_kind.items()):
        print(f"  {kind}: matched {m}, missing {g}, extra {e}")
    print("by rule (matched / missing / extra), rules with a difference:")
    for code, (m, g, e) in sorted(by_rule.items()):
        if g or e:
            print(f"  {code:8} {m:5} {g:5} {e:5}")
    if out is not None:
        out.write_text(json.dumps(diffs, indent=1))


if __name__ == "__main__":
    main()
