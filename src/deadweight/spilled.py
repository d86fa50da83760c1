"""Records kept on disk instead of in memory: appended and read back in order
(:class:`Spilled`), or sorted (:class:`Sorter`, an external merge sort).

Both write pickled batches of records to an unnamed temp file (:func:`scratch.unnamed`: a
killed run leaves nothing) and read them back with ``pread``, so that several readers of
one file, and a writer appending to it, never move each other's position. Memory is a
batch per reader and, while sorting, one run: a million records sorted take a few MB, not
the hundreds of a list of them (issue 16). Records are tuples compared as tuples: a sort
needs their leading fields to tell any two apart.
"""

from __future__ import annotations

import heapq
import itertools
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, Generic, TypeVar, overload

from deadweight import scratch

T = TypeVar("T")
C = TypeVar("C", bound=tuple[Any, ...])  # a sorter's records: tuples, compared as such

RUN = 1 << 16  # records a sorter sorts in memory at a time
BATCH = 1024  # records pickled together: what a reader holds of each run
FAN = 64  # runs merged at once; more are merged into longer runs first

Span = tuple[int, int]  # where a batch lies in the file: offset, length


class _File:
    """One unnamed file that batches are appended to and read from by offset."""

    __slots__ = ("_end", "file")

    def __init__(self) -> None:
        self.file: IO[bytes] = scratch.unnamed()[0]
        self._end = 0

    def append(self, batch: list[T]) -> Span:
        data = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
        self.file.write(data)
        span = (self._end, len(data))
        self._end += len(data)
        return span

    def read(self, spans: Iterable[Span]) -> Iterator[T]:
        self.file.flush()
        fd = self.file.fileno()
        for at, length in spans:
            data = os.pread(fd, length, at)
            if len(data) != length:
                raise OSError(f"a spill file ended early ({len(data)} of {length} bytes)")
            yield from pickle.loads(data)

    def close(self) -> None:
        self.file.close()


class Spilled(Sequence[T]):
    """Records in the order they were added, read back as often as asked (a batch at a
    time); ``len`` is how many. An index or a slice reads up to it (for the rare caller).
    ``file``: the one to append to (a sorter's runs share one), else its own."""

    def __init__(self, file: _File | None = None) -> None:
        self._file = file
        self._spans: list[Span] = []
        self._batch: list[T] = []
        self._count = 0

    def add(self, record: T) -> None:
        self.extend([record])

    def extend(self, records: Iterable[T]) -> None:
        """:meth:`add` each of ``records`` (taken a batch at a time: a merge of runs is
        never held whole)."""
        each = iter(records)
        while True:
            self._batch.extend(itertools.islice(each, BATCH - len(self._batch)))
            if len(self._batch) < BATCH:
                return
            self.flush()

    def flush(self) -> None:
        """Write the records added since the last batch."""
        if not self._batch:
            return
        if self._file is None:
            self._file = _File()
        self._spans.append(self._file.append(self._batch))
        self._count += len(self._batch)
        self._batch = []

    def __len__(self) -> int:
        return self._count + len(self._batch)

    def __iter__(self) -> Iterator[T]:
        self.flush()
        if self._file is not None:
            yield from self._file.read(list(self._spans))

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            wanted = range(len(self))[index]
            if wanted.step < 0:
                return list(self)[index]
            return list(itertools.islice(self, wanted.start, wanted.stop, wanted.step))
        at = range(len(self))[index]  # IndexError and negative indexes, as a list's
        return next(itertools.islice(self, at, None))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Sorter(Generic[C]):
    """Records sorted: every ``run`` added are sorted and written as a run (a
    :class:`Spilled` in the sorter's one file), and the runs are merged as :meth:`sorted`
    reads them (no more than :data:`FAN` at once: more are first merged into longer runs).
    Fewer than a run never touch the disk."""

    def __init__(self, run: int = 0) -> None:
        self.run = run or RUN
        self._buffer: list[C] = []
        self._runs: list[Spilled[C]] = []
        self._file: _File | None = None

    def add(self, record: C) -> None:
        self.extend([record])

    def extend(self, records: list[C]) -> None:
        """:meth:`add` each of ``records`` (a run then holds up to ``len(records) - 1``
        more than ``run``): for a caller adding a batch at a time."""
        self._buffer += records
        if len(self._buffer) >= self.run:
            self._spill()

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs) + len(self._buffer)

    def _spill(self) -> None:
        buffer, self._buffer = self._buffer, []
        buffer.sort()
        self._runs.append(self._written(buffer))

    def _written(self, records: Iterable[C]) -> Spilled[C]:
        if self._file is None:
            self._file = _File()
        run: Spilled[C] = Spilled(self._file)
        run.extend(records)
        run.flush()
        return run

    def sorted(self) -> Iterator[C]:
        """Every record added, in order (equal records in no particular order)."""
        if not self._runs:
            self._buffer.sort()
            yield from list(self._buffer)
            return
        if self._buffer:
            self._spill()
        while len(self._runs) > FAN:  # merged in rounds: a reader per run at most FAN
            first, self._runs = self._runs[:FAN], self._runs[FAN:]
            self._runs.append(self._written(heapq.merge(*first)))
        yield from heapq.merge(*self._runs)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
