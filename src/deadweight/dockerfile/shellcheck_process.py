"""ShellCheck processes: the scripts in memory files (``memfd``), read by ``/dev/fd/N``.

A lint starts ShellCheck as soon as the RUN bodies are known and collects its output
after the rules have run, so the two work side by side (issue 14: ``deadweight lint
FILE`` once per file). The process is started with :func:`os.posix_spawnp`, not
:mod:`subprocess`, whose import is a noticeable part of that start-up.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from collections.abc import Callable

Output = tuple[bytes, dict[str, str]]  # ShellCheck's JSON, and script index by file name

# ShellCheck takes several milliseconds of CPU per script: the scripts are split between
# processes, at least two when there are CPUs for them beside the caller's own work (a
# lint runs its rules meanwhile, on one CPU), and past PER_PROCESS scripts (hundreds of
# RUNs, or a call given many files: ShellCheck's work dwarfs the rules') one per CPU,
# up to four
PER_PROCESS = 64


class Running:
    """ShellCheck started on scripts; :meth:`outputs` waits for it (once)."""

    def __init__(self, collect: Callable[[], list[tuple[int, Output]]]) -> None:
        self._collect = collect
        self._outputs: list[tuple[int, Output]] | None = None

    def outputs(self) -> list[tuple[int, Output]]:
        """(index of the chunk's first script, its output) per chunk."""
        if self._outputs is None:
            self._outputs = self._collect()
        return self._outputs


def workers(count: int, busy: int = 0) -> int:
    """How many ShellCheck processes share ``count`` scripts while the caller keeps
    ``busy`` CPUs busy."""
    cpus = os.cpu_count() or 1
    wanted = max(min(2, cpus - busy), min(cpus, -(-count // PER_PROCESS)))
    return max(1, min(4, count, wanted))


def chunks(texts: list[bytes], parts: int) -> list[tuple[int, int]]:
    """``parts`` runs of consecutive scripts, (start, end), of about the same work: each
    script counts its length and a fixed share for ShellCheck's work per script."""
    costs = [len(t) + 512 for t in texts]
    total = sum(costs)
    bounds: list[tuple[int, int]] = []
    at = done = 0
    for part in range(1, parts):
        end = at + 1
        done += costs[at]
        target = total * part / parts
        # leave at least one script for each part still to come
        while end < len(texts) - (parts - part) and done + costs[end] / 2 < target:
            done += costs[end]
            end += 1
        bounds.append((at, end))
        at = end
    bounds.append((at, len(texts)))
    return bounds


def start(argv: list[str], texts: list[bytes], busy: int = 0) -> Running:
    """Start ShellCheck (``argv`` without file names) on the scripts ``texts``, beside
    the caller's own work on ``busy`` CPUs."""
    bounds = chunks(texts, workers(len(texts), busy)) if texts else [(0, 0)]
    if hasattr(os, "memfd_create"):
        started: list[tuple[int, tuple[int, int, dict[str, str]] | None]] = []
        for at, end in bounds:
            try:
                started.append((at, _spawn(argv, texts[at:end])))
            except OSError:
                started.append((at, None))
        return Running(lambda: _collect(started))
    if len(bounds) == 1:
        return Running(lambda: [(0, _run_in_folder(argv, texts))])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(bounds)) as pool:
        outputs = list(pool.map(lambda b: _run_in_folder(argv, texts[b[0] : b[1]]), bounds))
    done = [(at, out) for (at, _), out in zip(bounds, outputs, strict=True)]
    return Running(lambda: done)


def _collect(
    started: list[tuple[int, tuple[int, int, dict[str, str]] | None]],
) -> list[tuple[int, Output]]:
    """Each process's output, in order; interrupted, the processes not yet read are
    killed and waited for too, so none is left behind."""
    outputs: list[tuple[int, Output]] = []
    try:
        for at, process in started:
            if process is None:
                outputs.append((at, (b"", {})))
                continue
            pid, out, names = process
            outputs.append((at, (_wait(pid, out), names)))
    except BaseException:
        for _, process in started[len(outputs) + 1 :]:
            if process is not None:
                _kill(process[0], process[1])
        raise
    return outputs


def _spawn(argv: list[str], texts: list[bytes]) -> tuple[int, int, dict[str, str]]:
    """Start ShellCheck on the scripts, each in a memory file the child reads by
    ``/dev/fd/N`` (nothing on disk, nothing left after a kill); its stdout on a pipe."""
    fds: list[int] = []
    read_end, write_end = os.pipe()
    try:
        for text in texts:
            fd = os.memfd_create("deadweight-run", 0)  # no CLOEXEC: the child reads it
            fds.append(fd)
            view = memoryview(text)
            while view:
                view = view[os.write(fd, view) :]
        names = {f"/dev/fd/{fd}": str(i) for i, fd in enumerate(fds)}
        actions = [
            (os.POSIX_SPAWN_DUP2, write_end, 1),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        ]
        pid = os.posix_spawnp(argv[0], [*argv, *names], os.environ, file_actions=actions)
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
        for fd in fds:
            os.close(fd)
    return pid, read_end, names


def _wait(pid: int, read_end: int) -> bytes:
    """The child's whole stdout, once it has exited (killed if we are interrupted)."""
    chunks: list[bytes] = []
    try:
        while chunk := os.read(read_end, 1 << 16):
            chunks.append(chunk)
    except BaseException:
        _kill(pid, read_end)
        raise
    os.close(read_end)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def _kill(pid: int, read_end: int) -> None:
    import signal

    os.close(read_end)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _run_in_folder(argv: list[str], texts: list[bytes]) -> Output:
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="deadweight-shellcheck-") as folder:
        for i, text in enumerate(texts):
            Path(folder, str(i)).write_bytes(text)
        try:
            proc = subprocess.run(
                [*argv, *(str(i) for i in range(len(texts)))],
                cwd=folder,
                capture_output=True,
                check=False,
            )
        except OSError:
            return b"", {}
    return proc.stdout, {str(i): str(i) for i in range(len(texts))}
