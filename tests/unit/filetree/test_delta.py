"""read_delta: one pass over a layer tar gives entries, whiteouts, opaque dirs, unsafe names."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from deadweight import static
from deadweight.errors import CorruptImage, UnsafeLayer
from deadweight.filetree import Captured, Entry, LayerDelta, Unsafe, read_delta
from deadweight.filetree import delta as delta_mod
from deadweight.streams import CHUNK


def read(entries: list[static.Entry], **kw: object) -> LayerDelta:
    return read_delta(io.BytesIO(static.tar_bytes(entries)), **kw)  # type: ignore[arg-type]


def raw_tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else info.size
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    i = tarfile.TarInfo(name)
    i.type, i.linkname = kind, link
    return i


def test_every_kind_of_entry_in_tar_order() -> None:
    d = read(
        [
            static.Dir("etc", mode=0o750),
            static.File("etc/hosts", b"127.0.0.1\n", mode=0o600, uid=7, gid=8),
            static.Hardlink("etc/hosts2", "etc/hosts"),
            static.Symlink("etc/link", "hosts"),
            static.Fifo("etc/fifo"),
        ]
    )
    assert d.entries == (
        Entry("etc", "dir", 0, 0o750),
        Entry("etc/hosts", "file", 10, 0o600, 7, 8),
        Entry("etc/hosts2", "hardlink", 0, 0o644, link="etc/hosts"),
        Entry("etc/link", "symlink", 0, 0o644, link="hosts"),
        Entry("etc/fifo", "other", 0, 0o644),
    )
    assert d.size == 10 + 5  # the file's length and the symlink target's length
    assert d.whiteouts == () and d.opaques == () and d.unsafe == ()


def test_whiteouts_and_opaque_markers() -> None:
    d = read(
        [
            static.Whiteout("etc/old.conf"),
            static.Whiteout("top"),
            static.Opaque("var/lib"),
            static.Opaque(""),
            static.File("var/lib/new", b"n"),
        ]
    )
    assert d.whiteouts == ("etc/old.conf", "top")
    assert d.opaques == ("var/lib", "")
    assert [e.path for e in d.entries] == ["var/lib/new"]
    assert d.size == 1


def test_aufs_bookkeeping_names_are_not_deletions() -> None:
    raw = raw_tar([(info(".wh..wh.plnk/1.2"), b""), (info("a/.wh..wh.aufs"), b"")])
    d = read_delta(io.BytesIO(raw))
    assert d.whiteouts == () and d.opaques == ()
    assert [e.path for e in d.entries] == [".wh..wh.plnk/1.2"]


@pytest.mark.parametrize("algo", ["sha256"])
def test_content_digest_only_when_asked(algo: str) -> None:
    entries: list[static.Entry] = [static.File("a", b"abc"), static.File("empty")]
    assert [e.digest for e in read(entries).entries] == ["", ""]
    hashed = read(entries, hash=algo)
    assert [e.digest for e in hashed.entries] == [
        "sha256:" + hashlib.sha256(b"abc").hexdigest(),
        "sha256:" + hashlib.sha256(b"").hexdigest(),
    ]
    assert hashed.hash == "sha256"


def test_capture_keeps_only_requested_files_bounded() -> None:
    big = b"x" * (3 * CHUNK + 5)
    d = read(
        [static.File("keep", b"hello"), static.File("skip", b"no"), static.File("big", big)],
        capture=lambda p: {"keep": 100, "big": 7}.get(p, 0),
    )
    assert d.captured == (Captured("keep", b"hello"), Captured("big", b"xxxxxxx", truncated=True))


def test_capture_of_a_large_file_with_hashing_still_hashes_all_of_it() -> None:
    big = bytes(range(256)) * 10000
    d = read([static.File("big", big)], capture=lambda p: 10, hash="sha256")
    assert d.entries[0].digest == "sha256:" + hashlib.sha256(big).hexdigest()
    assert d.captured == (Captured("big", big[:10], truncated=True),)


def test_unsafe_names_are_neutralised_once_and_reported() -> None:
    raw = raw_tar(
        [
            (info("/etc/abs"), b"1"),
            (info("../../etc/passwd"), b"22"),
            (info("a/../b"), b"333"),
            (info("a/../../c"), b"4444"),
            (info("hl", tarfile.LNKTYPE, "../../etc/shadow"), b""),
            (info("d/sym", tarfile.SYMTYPE, "../../../etc"), b""),
            (info("d/ok", tarfile.SYMTYPE, "../x"), b""),
            (info("d/abs", tarfile.SYMTYPE, "/etc/passwd"), b""),
        ]
    )
    d = read_delta(io.BytesIO(raw))
    assert [(e.path, e.kind, e.size) for e in d.entries] == [
        ("etc/abs", "file", 1),
        ("b", "file", 3),
        ("d/sym", "symlink", 0),
        ("d/ok", "symlink", 0),
        ("d/abs", "symlink", 0),
    ]
    assert d.unsafe == (
        Unsafe("/etc/abs", "absolute path", "rewritten"),
        Unsafe("../../etc/passwd", "path escapes the root", "dropped"),
        Unsafe("a/../b", "path contains '..'", "rewritten"),
        Unsafe("a/../../c", "path escapes the root", "dropped"),
        Unsafe("hl", "hardlink path escapes the root", "dropped"),
        Unsafe("d/sym", "symlink target escapes the root", "kept"),
    )
    # dropped entries do not count; kept symlinks do (docker counts what it extracts)
    assert d.size == 1 + 3 + len("../../../etc") + len("../x") + len("/etc/passwd")


def test_strict_mode_refuses_the_first_unsafe_entry() -> None:
    raw = raw_tar([(info("ok"), b"1"), (info("../evil"), b"2")])
    with pytest.raises(UnsafeLayer) as err:
        read_delta(io.BytesIO(raw), strict=True, what="layer sha256:abc")
    assert str(err.value) == "layer sha256:abc: unsafe entry '../evil': path escapes the root"


def test_truncated_stream_is_a_clean_error() -> None:
    raw = static.tar_bytes([static.File("a", b"x" * 5000)])
    with pytest.raises(CorruptImage) as err:
        read_delta(io.BytesIO(raw[:1500]), what="L")
    assert str(err.value) == "L: not a valid tar stream (unexpected end of data)"


def test_garbage_is_a_clean_error() -> None:
    with pytest.raises(CorruptImage) as err:
        read_delta(io.BytesIO(b"\x01" * 2048), what="L")
    assert str(err.value).startswith("L: not a valid tar stream (")


def test_huge_declared_size_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    head = info("huge")
    head.size = delta_mod.MAX_MEMBER + 1
    raw = head.tobuf(tarfile.PAX_FORMAT) + b"\0" * 1024
    with pytest.raises(UnsafeLayer) as err:
        read_delta(io.BytesIO(raw), what="L")
    assert str(err.value) == f"L: tar header declares a {delta_mod.MAX_MEMBER + 1}-byte file"


def test_large_declared_size_on_a_short_stream_is_truncation() -> None:
    head = info("big")
    head.size = 1 << 33
    raw = head.tobuf(tarfile.PAX_FORMAT) + b"y" * 4096
    with pytest.raises(CorruptImage) as err:
        read_delta(io.BytesIO(raw), hash="sha256", what="L")
    assert str(err.value) == "L: not a valid tar stream (unexpected end of data)"


def test_trailing_data_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delta_mod, "MAX_TRAILING", 64 << 10)
    raw = static.tar_bytes([static.File("a", b"1")])
    assert read_delta(io.BytesIO(raw + b"\0" * (32 << 10))).size == 1
    with pytest.raises(UnsafeLayer) as err:
        read_delta(io.BytesIO(raw + b"\0" * (2 << 20)), what="L")
    assert str(err.value) == f"L: more than {64 << 10} bytes after the end of the tar"


def test_too_many_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delta_mod, "MAX_ENTRIES", 3)
    with pytest.raises(UnsafeLayer) as err:
        read([static.File(f"f{i}") for i in range(4)], what="L")
    assert str(err.value) == "L: more than 3 entries"


def test_the_stream_is_read_to_its_end() -> None:
    raw = static.tar_bytes([static.File("a", b"1")])
    stream = io.BytesIO(raw)
    read_delta(stream)
    assert stream.tell() == len(raw)


def test_round_trip_through_bytes() -> None:
    d = read(
        [static.File("a", b"abc"), static.Symlink("s", "../../x"), static.Whiteout("w")],
        hash="sha256",
        capture=lambda p: 2,
    )
    assert LayerDelta.from_bytes(d.to_bytes()) == d
    assert LayerDelta.from_bytes(b'{"v":0,"delta":{}}') is None
    assert LayerDelta.from_bytes(b"not json") is None


def test_equal_modes_and_empty_digests_are_one_object_each_read_or_decoded() -> None:
    # a layer of a million empty files held a million equal digests and mode ints (issue 16)
    entries = [static.File(f"f{i}", b"", mode=0o644) for i in range(3)]
    read_once = read([*entries, static.File("g", b"x", mode=0o644)], hash="xxh3")
    for d in (read_once, LayerDelta.from_bytes(read_once.to_bytes())):
        assert d is not None
        first, *empty, full = d.entries
        assert all(e.digest is first.digest and e.mode is first.mode for e in empty)
        assert full.mode is first.mode and full.digest != first.digest
        assert first.mode == 0o644 and first.digest == read_once.entries[0].digest


def test_a_stored_delta_lists_entries_as_arrays_and_a_first_format_one_is_read_again() -> None:
    # no field names per entry: a layer of a million files is 77 MB to pass, not 133 (issue 16)
    d = read([static.File("a", b"abc")], hash="sha256")
    doc = json.loads(d.to_bytes())
    assert doc["v"] == 2
    assert doc["delta"]["entries"][0][:4] == ["a", "file", 3, 0o644]
    old = {"v": 1, "delta": {"entries": [{"path": "a", "kind": "file"}]}}
    assert LayerDelta.from_bytes(json.dumps(old).encode()) is None


def test_a_sink_takes_the_entries_in_batches_in_tar_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delta_mod, "SINK_BATCH", 2)
    members = [(info(f"f{i}"), b"x" * i) for i in range(5)]
    members.append((info(".wh.gone"), b""))
    data = raw_tar(members)
    whole = read_delta(io.BytesIO(data), hash="sha256")
    batches: list[list[Entry]] = []
    sunk = read_delta(io.BytesIO(data), hash="sha256", sink=batches.append)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert tuple(e for b in batches for e in b) == whole.entries
    assert sunk.entries == ()
    assert sunk.whiteouts == whole.whiteouts == ("gone",)
    assert sunk.size == whole.size == 10
