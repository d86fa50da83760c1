"""Layers read ahead of the command that will ask for them.

A command's own start-up (importing what it needs, about a fifth of a second for
``analyze``) leaves the helper processes idle. :class:`ReadsAhead` lets reading start
before it: jobs are queued with a key saying what they read (the layer, the per-file
digest, the capture, the name errors give the layer), daemon threads hand them to the
helpers in order, and the read that later asks for the same key takes the job's result,
waiting for it if it must. A failure (a digest mismatch, a corrupt layer) is raised there,
as it would have been had that read done the work. What nobody asks for is dropped: the
threads are daemons, so they never keep the process from exiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class ReadsAhead(Generic[T]):
    """Jobs started ahead, by key, until taken."""

    def __init__(self) -> None:
        self._pending: dict[Hashable, Future[T]] = {}
        self._lock = threading.Lock()

    def start(self, jobs: Sequence[tuple[Hashable, Callable[[], T]]], threads: int) -> None:
        """Run ``jobs`` in order, ``threads`` at a time, each result kept under its key
        (a key already pending keeps its first job)."""
        queue: list[tuple[Future[T], Callable[[], T]]] = []
        with self._lock:
            for key, job in jobs:
                if key not in self._pending:
                    future: Future[T] = Future()
                    self._pending[key] = future
                    queue.append((future, job))
        queue.reverse()  # popped from the end: in order
        for _ in range(min(threads, len(queue))):
            threading.Thread(
                target=self._work, args=(queue,), name="deadweight-read-ahead", daemon=True
            ).start()

    def _work(self, queue: list[tuple[Future[T], Callable[[], T]]]) -> None:
        while True:
            with self._lock:
                if not queue:
                    return
                future, job = queue.pop()
            if not future.set_running_or_notify_cancel():
                continue  # pragma: no cover - nothing cancels a job
            try:
                future.set_result(job())
            except BaseException as exc:  # raised where the result is taken
                future.set_exception(exc)

    def take(self, key: Hashable) -> Future[T] | None:
        """The job started for ``key`` (no longer pending), or None."""
        if not self._pending:
            return None
        with self._lock:
            return self._pending.pop(key, None)

    def drop(self) -> None:
        """Forget every job not taken (they finish, or end with their helpers)."""
        with self._lock:
            self._pending.clear()
