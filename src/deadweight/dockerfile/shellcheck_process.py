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

# ShellCheck takes several milliseconds of CPU per script: a file of hundreds of RUNs (or
# a call given many files) is split between processes, one per CPU, up to four
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


def start(argv: list[str], texts: list[bytes]) -> Running:
    """Start ShellCheck (``argv`` without file names) on the scripts ``texts``."""
    workers = min(4, os.cpu_count() or 1, -(-len(texts) // PER_PROCESS))
    if workers <= 1 and hasattr(os, "memfd_create"):
        try:
            pid, out, names = _spawn(argv, texts)
        except OSError:
            return Running(lambda: [(0, (b"", {}))])
        return Running(lambda: [(0, (_wait(pid, out), names))])
    if workers <= 1:
        return Running(lambda: [(0, _run(argv, texts))])
    from concurrent.futures import ThreadPoolExecutor

    size = -(-len(texts) // workers)
    offsets = range(0, len(texts), size)
    with ThreadPoolExecutor(workers) as pool:
        outputs = list(pool.map(lambda at: _run(argv, texts[at : at + size]), offsets))
    done = list(zip(offsets, outputs, strict=True))
    return Running(lambda: done)


def _run(argv: list[str], texts: list[bytes]) -> Output:
    if not hasattr(os, "memfd_create"):
        return _run_in_folder(argv, texts)
    try:
        pid, out, names = _spawn(argv, texts)
    except OSError:
        return b"", {}
    return _wait(pid, out), names


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
        import signal

        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    return b"".join(chunks)


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
