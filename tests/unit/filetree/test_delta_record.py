"""A delta's record in the layer store, decoded a batch of entries at a time
(``deadweight.filetree.record``): the same delta a whole decode makes, from bytes or a map
of a file, with modes and empty files' digests shared across batches, and a damaged record
a miss wherever the damage is."""

from __future__ import annotations

import dataclasses
import io
import mmap
from pathlib import Path

import msgspec
import pytest

from deadweight.filetree import record
from deadweight.filetree.delta import FORMAT_VERSION, Captured, LayerDelta
from deadweight.filetree.entry import Entry, Unsafe

EMPTY = "xxh3:99aa06d3014798d86001c324468d497f"


def _delta(n: int) -> LayerDelta:
    entries = [Entry("d", "dir", mode=0o755)]
    for i in range(n):
        # names a scanner for entry boundaries would cut: brackets, quotes, escapes
        name = f'd/f{i}],["x\\"' if i % 3 == 0 else f"d/\u00e9\u2028{i}"
        entries.append(Entry(name, "file", 0, 0o1644, digest=EMPTY))
    entries.append(Entry("d/big", "file", 5, 0o600, 1000, 1000, digest="xxh3:" + "0" * 32))
    entries.append(Entry("d/ln", "symlink", link="../x"))
    return LayerDelta(
        tuple(entries),
        whiteouts=("gone",),
        opaques=("d",),
        unsafe=(Unsafe("../up", "escapes the root", "dropped"),),
        captured=(Captured("var/lib/dpkg/status", b"Package: x\n", truncated=True),),
        size=5,
        hash="xxh3",
    )


def _whole(data: bytes) -> LayerDelta:
    class Stored(msgspec.Struct):
        v: int
        delta: LayerDelta

    delta = msgspec.json.decode(data, type=Stored).delta
    return dataclasses.replace(delta, entries=tuple(delta.entries))  # a Sequence: a list


def test_the_parts_are_the_delta_s_fields() -> None:
    assert {f.name: f.default for f in dataclasses.fields(LayerDelta)} == {
        name: default if name != "entries" else ()
        for name, default in zip(
            record._Parts.__struct_fields__, record._Parts.__struct_defaults__, strict=True
        )
    }


@pytest.mark.parametrize("batch", [1, 3, 4096])
def test_a_record_decodes_to_the_delta_a_whole_decode_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(record, "BATCH", batch)
    delta = _delta(10)
    data = delta.to_bytes()
    assert LayerDelta.from_bytes(data) == delta == _whole(data)
    (tmp_path / "record").write_bytes(data)
    with (tmp_path / "record").open("rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        got = LayerDelta.from_bytes(mapped)
        mapped.close()  # nothing decoded refers to the map (else: BufferError)
    assert got == delta
    assert LayerDelta.from_bytes(LayerDelta().to_bytes()) == LayerDelta()


def test_modes_and_empty_digests_are_shared_across_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(record, "BATCH", 2)
    got = LayerDelta.from_bytes(_delta(7).to_bytes())
    assert got is not None
    files = [e for e in got.entries if e.size == 0 and e.digest]
    assert len(files) == 7
    assert len({id(e.digest) for e in files}) == 1
    assert len({id(e.mode) for e in files}) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],  # cut short
        lambda d: d.replace(b'"symlink"', b'"socket"'),  # a bad entry in the last batch
        lambda d: d.replace(b'"whiteouts":["gone"]', b'"whiteouts":[1]'),
        lambda d: d + b"x",  # trailing bytes
        lambda d: d.replace(b'{"v":%d' % FORMAT_VERSION, b'{"v":1'),  # another version
        lambda d: b"not json",
    ],
)
def test_a_damaged_record_is_a_miss(monkeypatch: pytest.MonkeyPatch, damage: object) -> None:
    monkeypatch.setattr(record, "BATCH", 3)
    data = _delta(10).to_bytes()
    assert callable(damage)
    assert damage(data) != data
    assert LayerDelta.from_bytes(damage(data)) is None


@pytest.mark.parametrize("batches", [[], [0], [1], [2, 0, 5], [1, 1, 1]])
def test_a_record_written_a_batch_at_a_time_is_the_whole_encoding(batches: list[int]) -> None:
    whole = _delta(sum(batches))
    out = io.BytesIO()
    writer = record.RecordWriter(out)
    start = 0
    for n in batches:
        writer(list(whole.entries[start : start + n]))
        start += n
    writer(list(whole.entries[start:]))  # the rest (never empty here: the last entries)
    writer.finish(dataclasses.replace(whole, entries=()))
    assert out.getvalue() == whole.to_bytes()
    assert LayerDelta.from_bytes(out.getvalue()) == whole


def test_an_empty_delta_written_a_batch_at_a_time_is_its_encoding() -> None:
    out = io.BytesIO()
    record.RecordWriter(out).finish(LayerDelta(hash="xxh3", size=3))
    assert out.getvalue() == LayerDelta(hash="xxh3", size=3).to_bytes()


def test_the_writer_refuses_entries_at_the_end() -> None:
    writer = record.RecordWriter(io.BytesIO())
    with pytest.raises(ValueError, match="written already"):
        writer.finish(_delta(1))


def test_a_mapped_record_s_pages_are_given_back_as_its_entries_are_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "BATCH", 50)
    monkeypatch.setattr(record, "GIVE_BACK", mmap.PAGESIZE)
    made: list[record._Pages] = []
    given: list[int] = []

    class Spy(record._Pages):
        def __init__(self, data: record.Buffer) -> None:
            super().__init__(data)
            made.append(self)

        def done(self, length: int) -> None:
            super().done(length)
            given.append(self.given)

    monkeypatch.setattr(record, "_Pages", Spy)
    delta = _delta(2000)
    data = delta.to_bytes()
    (tmp_path / "record").write_bytes(data)
    with (tmp_path / "record").open("rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        assert LayerDelta.from_bytes(mapped) == delta
        mapped.close()
    # the decoded bytes counted exactly: to the end of the entries' closing bracket
    end = data.index(b'],"whiteouts"') + 1
    assert made[0].at == end
    assert given == sorted(given) and 0 < given[-1] <= end and given[-1] > end - 2 * mmap.PAGESIZE
    assert LayerDelta.from_bytes(data) == delta  # bytes: nothing to give back
