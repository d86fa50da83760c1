"""Records kept on disk (``deadweight.spilled``): read back in the order added, or sorted by
runs merged in rounds, whatever the run, batch and fan-in sizes."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight import spilled
from deadweight.spilled import Sorter, Spilled

# names as layers hold them: any text, surrogates of bytes that are no UTF-8 included
names = st.text(
    st.characters(exclude_categories=["Cs"]) | st.sampled_from(["\udcff", "\udc80", "/", "-", "é"]),
    max_size=6,
)
records = st.lists(st.tuples(names, st.integers(-5, 5), st.binary(max_size=3)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(records, st.integers(1, 7), st.integers(1, 5), st.integers(2, 4))
def test_a_sorter_gives_every_record_in_order(
    recs: list[tuple[str, int, bytes]], run: int, batch: int, fan: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spilled, "BATCH", batch)
        patch.setattr(spilled, "FAN", fan)
        sorter: Sorter[tuple[str, int, bytes]] = Sorter(run)
        for record in recs[::2]:
            sorter.add(record)
        sorter.extend(recs[1::2])  # a batch at once: a run then holds more
        assert len(sorter) == len(recs)
        assert list(sorter.sorted()) == sorted(recs)
        sorter.close()


@settings(max_examples=100, deadline=None)
@given(records, st.integers(1, 5))
def test_spilled_records_are_read_back_in_order_as_often_as_asked(
    recs: list[tuple[str, int, bytes]], batch: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spilled, "BATCH", batch)
        kept: Spilled[tuple[str, int, bytes]] = Spilled()
        half = len(recs) // 2
        for i, record in enumerate(recs[:half]):
            kept.add(record)
            if i == half // 2:  # read while still being written
                assert list(kept) == recs[: i + 1]
        kept.extend(recs[half:-1])
        kept.extend(recs[-1:])
        assert len(kept) == len(recs)
        assert list(kept) == recs
        assert list(kept) == recs
        for at in (0, len(recs) // 2, -1):
            if recs:
                assert kept[at] == recs[at]
        assert list(kept[1:5]) == recs[1:5] and list(kept[::-2]) == recs[::-2]
        with pytest.raises(IndexError):
            kept[len(recs)]
        kept.close()


def test_a_sorter_past_its_run_writes_an_unnamed_file_and_holds_one_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hundred thousand records in runs of a thousand, merged four at a time: the file
    has no name in the temp folder, and what the sorter holds is under a run."""
    monkeypatch.setattr(spilled, "FAN", 4)
    folder = os.environ.get("DEADWEIGHT_TMPDIR")
    before = set(os.listdir(folder)) if folder else None
    sorter: Sorter[tuple[int, str]] = Sorter(1000)
    for i in range(100_000):
        sorter.add(((i * 7919) % 100_003, "x"))
        assert len(sorter._buffer) < 1000
    got = sorter.sorted()
    assert next(got) == (0, "x")
    assert sum(1 for _ in got) == 99_999
    assert sorter._file is not None
    assert os.path.realpath(f"/proc/self/fd/{sorter._file.file.fileno()}").endswith("(deleted)")
    if folder:
        assert set(os.listdir(folder)) == before
    sorter.close()
    assert sorter._file.file.closed


def test_fewer_records_than_a_run_never_touch_the_disk() -> None:
    sorter: Sorter[tuple[str, int]] = Sorter(10)
    for record in [("b", 1), ("a", 2), ("a", 1)]:
        sorter.add(record)
    assert list(sorter.sorted()) == [("a", 1), ("a", 2), ("b", 1)]
    assert sorter._file is None
