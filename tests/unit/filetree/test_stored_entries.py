"""A large record's entries decoded lazily (``record.decode_file(lazy_above=...)``): a
``Sequence`` over the record's file, decoded a chunk of bytes at a time on every pass,
that yields exactly the entries a whole decode makes, wherever the chunks are cut and
whatever the paths hold, and closes its file once dropped (issue 16)."""

from __future__ import annotations

import copy
import dataclasses
import gc
import os
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO

import pytest

from deadweight.filetree import record
from deadweight.filetree.delta import Captured, LayerDelta
from deadweight.filetree.entry import Entry, Unsafe

EMPTY = "xxh3:99aa06d3014798d86001c324468d497f"

# Paths a scanner for entry boundaries would cut wrongly: the bytes between two entries,
# ``"],["``, inside an entry (escaped, or a whole string), brackets, backslashes before a
# quote, text that is not ASCII, control characters, and the key the entries end before.
HOSTILE = [
    'a"],[',  # written "a\"],[": the boundary's bytes, its quote escaped
    "],[",  # written "],[": the boundary's bytes, its quote opening a string
    '"],["',
    '],"whiteouts":',
    'x\\"],["y',
    "back\\",  # written "back\\": the quote after an even run of backslashes closes
    "back\\\\",
    "\\",
    "[[]]",
    ",",
    "\u00e9t\u00e9/\u2028/\U0001f600",
    "ctl\x00\x01\n\t\x7f",
]


def _delta(entries: list[Entry]) -> LayerDelta:
    return LayerDelta(
        tuple(entries),
        whiteouts=("gone", '"],["'),
        opaques=("d",),
        unsafe=(Unsafe("../up", "escapes the root", "dropped"),),
        captured=(Captured("var/lib/dpkg/status", b"Package: x\n", truncated=True),),
        size=5,
        hash="xxh3",
    )


def _hostile(copies: int = 1) -> list[Entry]:
    entries = [Entry("d", "dir", mode=0o755)]
    for n in range(copies):
        for i, name in enumerate(HOSTILE):
            entries.append(Entry(f"d/{n}{name}", "file", 0, 0o1644, digest=EMPTY))
            entries.append(Entry(name, "symlink", link=name))  # the name first, and last
            entries.append(Entry(f"h{i}{name}", "hardlink", link=name, digest=name))
    entries.append(Entry("big", "file", 5, 0o600, 1000, 1000, digest="xxh3:" + "0" * 32))
    return entries


@pytest.fixture
def spooled() -> Iterator[IO[bytes]]:
    with tempfile.TemporaryFile() as f:
        yield f


def _write(file: IO[bytes], data: bytes) -> IO[bytes]:
    file.seek(0)
    file.truncate()
    file.write(data)
    file.flush()
    return file


def _lazy(file: IO[bytes], data: bytes) -> LayerDelta:
    got = record.decode_file(_write(file, data), lazy_above=0)
    assert got is not None
    assert isinstance(got.entries, record.StoredEntries)
    return got


def _same(lazy: LayerDelta, whole: LayerDelta) -> None:
    assert list(lazy.entries) == list(whole.entries)
    assert dataclasses.replace(lazy, entries=()) == dataclasses.replace(whole, entries=())


@pytest.mark.parametrize(
    "entries",
    [[], [Entry("only", "file", 3, digest="xxh3:1")], _hostile()],
    ids=["empty", "one", "hostile"],
)
def test_the_lazy_entries_are_the_whole_decode_s_at_every_chunk_size(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch, entries: list[Entry]
) -> None:
    delta = _delta(entries)
    data = delta.to_bytes()
    assert LayerDelta.from_bytes(data) == delta
    # every alignment of a chunk's end on an entry's bytes, down to a byte at a time
    for chunk in [*range(1, 160), 1 << 20]:
        monkeypatch.setattr(record, "CHUNK", chunk)
        got = _lazy(spooled, data)
        _same(got, delta)
        assert len(got.entries) == len(entries)


def test_chunks_of_exactly_whole_entries(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [Entry(f"f{i:03}", "file", 0, 0o644, digest=EMPTY) for i in range(100)]
    delta = _delta(entries)
    data = delta.to_bytes()
    one = len(record._ENCODER.encode(entries[0]))  # every entry as long as the next
    assert {len(record._ENCODER.encode(e)) for e in entries} == {one}
    for per in (1, 2, 7):
        for chunk in (per * (one + 1) - 1, per * (one + 1), per * (one + 1) + 1):
            monkeypatch.setattr(record, "CHUNK", chunk)
            got = _lazy(spooled, data)
            _same(got, delta)
            assert isinstance(got.entries, record.StoredEntries)
            assert len(got.entries._spans) >= 100 // (per + 1)  # cut into chunks


def test_a_chunk_is_cut_only_between_entries() -> None:
    # what "],[" is inside an entry: never a cut; a real boundary after it: the cut
    one = Entry('a"],[', "file", digest='],["')
    two = Entry("],[", "symlink", link="],[")
    window = record._ENCODER.encode([one, two, one])[1:]  # from the first entry's "["
    first = len(record._ENCODER.encode(one))
    second = first + 1 + len(record._ENCODER.encode(two))
    assert window.count(record._NEXT) > 2  # the bytes occur inside the entries too
    assert record._cut(window) == second
    assert record._cut(window[:second]) == first
    assert record._cut(window[: first - 1]) == -1
    # a digest ending as a string begins ("[", ","): passed over, never wrongly cut
    odd = Entry("x", "file", digest="xxh3:,")
    window = record._ENCODER.encode([odd, one, odd])[1:]
    assert record._cut(window) == len(record._ENCODER.encode(odd)) + 1 + first


def test_a_scanner_that_trusts_the_boundary_bytes_alone_fails_here(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check that the boundary's quote closes a string is what makes the entries
    right: cut at every ``"],["``, the hostile record is refused or decoded wrongly."""
    delta = _delta(_hostile())
    data = delta.to_bytes()
    monkeypatch.setattr(record, "_boundary", lambda window, at: True)
    wrong = 0
    for chunk in range(1, 160):
        monkeypatch.setattr(record, "CHUNK", chunk)
        got = record.decode_file(_write(spooled, data), lazy_above=0)
        wrong += got is None or list(got.entries) != list(delta.entries)
    assert wrong > 0


def test_iterating_again_gives_the_same_entries_with_modes_and_digests_shared(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "CHUNK", 64)
    delta = _delta(_hostile(3))
    got = _lazy(spooled, delta.to_bytes())
    first, second = list(got.entries), list(got.entries)
    assert first == second == list(delta.entries)
    assert first[1] is not second[1]  # decoded again, not kept
    empty = [e for e in first if e.size == 0 and e.digest == EMPTY]
    assert len(empty) == 3 * len(HOSTILE)
    assert len({id(e.digest) for e in empty}) == 1  # one object across the chunks
    assert len({id(e.mode) for e in empty}) == 1
    # two passes at once (threads may iterate a delta together): each whole
    one, two = iter(got.entries), iter(got.entries)
    assert [(a, b) for a, b in zip(one, two, strict=True)] == [(e, e) for e in first]


def test_length_indexes_and_slices_are_the_tuple_s(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "CHUNK", 100)
    delta = _delta(_hostile(2))
    got = _lazy(spooled, delta.to_bytes()).entries
    whole = tuple(delta.entries)
    assert len(got) == len(whole) > 0
    for i in [0, 1, len(whole) // 2, len(whole) - 1, -1, -len(whole)]:
        assert got[i] == whole[i]
    for bad in (len(whole), -len(whole) - 1):
        with pytest.raises(IndexError):
            got[bad]
    for part in [
        slice(None),
        slice(3, 40),
        slice(3, 40, 7),
        slice(None, None, -1),
        slice(-5, None),
        slice(40, 3),
        slice(len(whole) + 5, None),
    ]:
        assert got[part] == whole[part]
    assert got.index(whole[17]) == 17 and whole[17] in got
    assert list(reversed(got)) == list(reversed(whole))


def test_the_file_is_closed_when_the_delta_is_dropped(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "CHUNK", 64)
    got = _lazy(spooled, _delta(_hostile()).to_bytes())
    spooled.close()  # the caller's: the entries have a descriptor of their own
    entries = got.entries
    assert isinstance(entries, record.StoredEntries)
    assert len(list(entries)) == len(_hostile())
    node = os.fstat(entries._fd).st_ino

    def holding() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                count += os.stat(f"/proc/self/fd/{fd}").st_ino == node
            except OSError:
                continue
        return count

    assert holding() == 1
    closer = entries.close
    del got, entries
    gc.collect()
    assert not closer.alive and holding() == 0


def test_a_small_record_or_no_limit_is_decoded_whole(spooled: IO[bytes]) -> None:
    delta = _delta(_hostile())
    data = delta.to_bytes()
    for limit in (len(data), None):
        got = record.decode_file(_write(spooled, data), lazy_above=limit)
        assert got == delta and isinstance(got.entries, tuple)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],  # cut short, in the entries
        lambda d: d[: d.index(b'"whiteouts"') + 14],  # cut short, after them
        lambda d: d.replace(b'"symlink"', b'"socket"', 1),  # a bad entry
        lambda d: d.replace(b'"hardlink",0,420', b'"hardlink","0",420', 1),
        lambda d: d.replace(b'"whiteouts":["gone"', b'"whiteouts":[1', 1),
        lambda d: d + b"x",  # trailing bytes
        lambda d: d.replace(b'{"v":2', b'{"v":1', 1),  # another version
        lambda d: b"not json",
    ],
)
def test_a_damaged_record_is_a_miss(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    data = _delta(_hostile(3)).to_bytes()
    assert callable(damage)
    assert damage(data) != data
    for chunk in (50, 1 << 20):
        monkeypatch.setattr(record, "CHUNK", chunk)
        assert LayerDelta.from_bytes(damage(data)) is None  # as the whole decode says
        assert record.decode_file(_write(spooled, damage(data)), lazy_above=0) is None


def test_a_record_whose_entries_never_end_is_a_miss(spooled: IO[bytes]) -> None:
    # (a whole decode ignores the unknown key and takes the whiteouts for none)
    data = _delta(_hostile()).to_bytes().replace(b'],"whiteouts":', b'],"whiteout":', 1)
    assert record.decode_file(_write(spooled, data), lazy_above=0) is None


def test_a_lazy_delta_encodes_pickles_and_copies_as_the_whole_one(
    spooled: IO[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "CHUNK", 64)
    delta = _delta(_hostile())
    data = delta.to_bytes()
    got = _lazy(spooled, data)
    assert got.to_bytes() == data  # the record it was read from
    for again in (pickle.loads(pickle.dumps(got)), copy.deepcopy(got)):
        assert again == delta and isinstance(again.entries, tuple)
    assert repr(got.entries) == f"StoredEntries(<{len(delta.entries)} entries in a record>)"
    with pytest.raises(TypeError, match="cannot encode"):
        dataclasses.replace(delta, entries=(object(),)).to_bytes()  # type: ignore[arg-type]
