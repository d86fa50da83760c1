"""The hand-written tar header reader: every format layers use, and every malformed header.

Headers are built byte by byte here (``header``), independently of the reader and of
``tarfile``, so each field can be set to what a hostile or unusual writer would put there.
A property test checks the reader against stdlib ``tarfile`` on archives ``tarfile``
writes in its three formats, with the read buffer shrunk so that chunk boundaries fall
inside headers, file data and extended headers.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight.errors import CorruptImage, UnsafeLayer
from deadweight.filetree import Entry, LayerDelta, read_delta
from deadweight.filetree import tarstream as ts
from deadweight.filetree.tarstream import TarError, number, pax_records

BLOCK = 512


def octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def header(
    name: bytes,
    *,
    kind: bytes = b"0",
    size: int = 0,
    mode: bytes | None = None,
    uid: bytes | None = None,
    size_field: bytes | None = None,
    link: bytes = b"",
    magic: bytes = b"ustar\x0000",
    prefix: bytes = b"",
    extra: dict[int, bytes] | None = None,
    checksum: int | None = None,
    signed: bool = False,
) -> bytes:
    """One 512-byte header; the checksum is computed unless given."""
    h = bytearray(BLOCK)
    h[0 : len(name)] = name
    h[100:108] = mode if mode is not None else octal(0o644, 8)
    h[108:116] = uid if uid is not None else octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(0, 12)
    h[156:157] = kind
    h[157 : 157 + len(link)] = link
    h[257:265] = magic
    h[345 : 345 + len(prefix)] = prefix
    for offset, data in (extra or {}).items():
        h[offset : offset + len(data)] = data
    h[148:156] = b" " * 8
    if checksum is None:
        checksum = sum(b - 256 if signed and b > 127 else b for b in h)
    h[148:156] = b"%06o\0 " % checksum
    return bytes(h)


def member(name: bytes, data: bytes = b"", **kw: object) -> bytes:
    pad = b"\0" * (-len(data) % BLOCK)
    return header(name, size=len(data), **kw) + data + pad  # type: ignore[arg-type]


def pax(records: dict[str, bytes], kind: bytes = b"x") -> bytes:
    body = b""
    for key, value in records.items():
        rec = b" " + key.encode() + b"=" + value + b"\n"
        n = len(rec) + 1
        n = len(rec) + len(str(n))
        n = len(rec) + len(str(n))
        body += str(n).encode() + rec
    return member(b"././@PaxHeader", body, kind=kind)


END = b"\0" * 1024


def read(raw: bytes, **kw: object) -> LayerDelta:
    return read_delta(io.BytesIO(raw), what="L", **kw)  # type: ignore[arg-type]


def paths(d: LayerDelta) -> list[tuple[str, str, int]]:
    return [(e.path, e.kind, e.size) for e in d.entries]


# -- formats -------------------------------------------------------------------------------


def test_gnu_long_names_and_long_link_names() -> None:
    name = ("d/" * 80 + "file.txt").encode()
    target = ("../" * 50 + "t").encode()
    raw = (
        member(b"././@LongLink", name + b"\0", kind=b"L", magic=b"ustar  \0")
        + member(b"cut-name", b"abc", magic=b"ustar  \0")
        + member(b"././@LongLink", target + b"\0", kind=b"K", magic=b"ustar  \0")
        + member(b"ln", kind=b"2", link=b"cut-link", magic=b"ustar  \0")
        + END
    )
    d = read(raw, hash="sha256")
    assert d.entries == (
        Entry(
            name.decode(), "file", 3, 0o644, digest="sha256:" + hashlib.sha256(b"abc").hexdigest()
        ),
        Entry("ln", "symlink", 0, 0o644, link=target.decode()),
    )
    assert d.size == 3 + len(target)


def test_pax_path_linkpath_size_uid_and_gid() -> None:
    long = ("p" * 150 + "/é" * 60).encode()
    data = b"x" * 700
    # the header's size field says 0, the pax size 700: 700 bytes of data follow
    raw = (
        pax({"path": long, "uid": b"70000", "gid": b"80000", "size": b"700"})
        + header(b"short", size=0)
        + data
        + b"\0" * (-len(data) % BLOCK)
        + pax({"linkpath": b"/opt/" + b"l" * 200})
        + member(b"link", kind=b"2", link=b"short")
        + END
    )
    d = read(raw)
    assert d.entries == (
        Entry(long.decode(), "file", 700, 0o644, 70000, 80000),
        Entry("link", "symlink", 0, 0o644, link="/opt/" + "l" * 200),
    )


def test_global_pax_headers_apply_to_every_member_after_them() -> None:
    raw = (
        member(b"a", b"1")
        + pax({"uid": b"42"}, kind=b"g")
        + member(b"b", b"2")
        + pax({"uid": b"7"})
        + member(b"c", b"3")
        + member(b"d", b"4")
        + END
    )
    assert [(e.path, e.uid) for e in read(raw).entries] == [
        ("a", 0),
        ("b", 42),
        ("c", 7),
        ("d", 42),
    ]


def test_an_empty_pax_path_falls_back_to_the_header_name() -> None:
    raw = pax({"path": b""}) + member(b"from-header", b"z") + END
    assert paths(read(raw)) == [("from-header", "file", 1)]


def test_ustar_prefix_only_with_the_posix_magic() -> None:
    raw = (
        member(b"name", b"1", prefix=b"some/prefix")
        + member(b"gnu", b"2", prefix=b"not/a/prefix", magic=b"ustar  \0")
        + END
    )
    assert paths(read(raw)) == [("some/prefix/name", "file", 1), ("gnu", "file", 1)]


def test_old_style_regular_files_and_directories() -> None:
    raw = member(b"dir/", kind=b"\0", magic=bytes(8)) + member(b"f", b"old", kind=b"\0") + END
    assert paths(read(raw)) == [("dir", "dir", 0), ("f", "file", 3)]


def test_header_only_types_carry_no_data_whatever_their_size_says() -> None:
    raw = (
        header(b"d/", kind=b"5", size=1000)
        + header(b"s", kind=b"2", size=700, link=b"d")
        + member(b"d/f", b"after")
        + END
    )
    assert paths(read(raw)) == [("d", "dir", 0), ("s", "symlink", 0), ("d/f", "file", 5)]


def test_unknown_types_are_other_and_their_data_is_skipped() -> None:
    raw = member(b"vol", b"v" * 600, kind=b"V") + member(b"f", b"1") + END
    assert paths(read(raw)) == [("vol", "other", 0), ("f", "file", 1)]


def test_base_256_numbers_and_signed_checksums() -> None:
    big_uid = b"\x80" + (123456789).to_bytes(7, "big")
    size_field = b"\x80" + (5).to_bytes(11, "big")
    raw = (
        header(b"b256", uid=big_uid, size_field=size_field)
        + b"hello"
        + b"\0" * 507
        + member("é".encode(), b"1", signed=True)  # signed sum of a byte > 127
        + END
    )
    d = read(raw)
    assert [(e.path, e.size, e.uid) for e in d.entries] == [("b256", 5, 123456789), ("é", 1, 0)]


def test_numbers_with_spaces_and_nuls_as_go_reads_them() -> None:
    assert number(b"0000644\0") == 0o644
    assert number(b"   644 \0") == 0o644
    assert number(b"\0\0\0" + b"0644\0") == 0o644  # leading NULs
    assert number(b"77777777777\0") == 0o77777777777
    assert number(b"777777777777") == 0o777777777777  # all twelve digits, no terminator
    assert number(bytes(8)) == 0
    assert number(b"\xff" * 8) == -1
    for bad in (b"0000x44\0", b"00009\0\0\0", b"-1\0\0\0\0\0\0"):
        with pytest.raises(TarError, match="invalid header"):
            number(bad)


def test_gnu_sparse_files_count_their_real_size_and_skip_the_stored_map() -> None:
    stored = b"s" * 600  # two stored blocks
    real = octal(1 << 20, 12)
    raw = (
        header(
            b"sparse",
            kind=b"S",
            size=len(stored),
            magic=b"ustar  \0",
            extra={483: real, 482: b"\1"},
        )
        + bytes(504)
        + b"\0"
        + bytes(7)  # one extension block, the last one
        + stored
        + b"\0" * (-len(stored) % BLOCK)
        + member(b"after", b"a")
        + END
    )
    d = read(raw, hash="sha256")
    assert [(e.path, e.kind, e.size, e.digest) for e in d.entries[:1]] == [
        ("sparse", "file", 1 << 20, "")
    ]
    assert paths(d)[1] == ("after", "file", 1)
    assert d.size == (1 << 20) + 1


def test_pax_sparse_files_use_the_sparse_name_and_real_size() -> None:
    raw = (
        pax(
            {
                "GNU.sparse.major": b"1",
                "GNU.sparse.name": b"real/name",
                "GNU.sparse.realsize": b"9999",
            }
        )
        + member(b"GNUSparseFile.0/name", b"map-and-data")
        + END
    )
    assert paths(read(raw)) == [("real/name", "file", 9999)]


def test_the_end_of_the_stream_at_a_header_boundary_is_a_clean_end() -> None:
    assert paths(read(member(b"a", b"1"))) == [("a", "file", 1)]
    assert read(b"") == LayerDelta()


# -- malformed headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (member(b"a", b"1") + header(b"b", checksum=1) + END, "bad checksum"),
        (member(b"a", b"1") + header(b"b", mode=b"07x0644\0") + END, "invalid header"),
        (member(b"a", b"1")[:700], "unexpected end of data"),  # a header cut short
        (member(b"a", b"1") + header(b"b", size=10) + b"12345", "unexpected end of data"),
        (pax({"path": b"x"}), "unexpected end of data"),  # nothing after the extended header
        (member(b"p", b"5 path=x\n", kind=b"x") + member(b"a") + END, "invalid pax record"),
        (member(b"p", b"x path=y\n", kind=b"x") + member(b"a") + END, "invalid pax record length"),
        (member(b"p", b"30 path=y\n", kind=b"x") + member(b"a") + END, "invalid pax record"),
        (member(b"p", b"9 pathy\n\n", kind=b"x") + member(b"a") + END, "invalid pax record"),
        (pax({"size": b"12abc"}) + member(b"a") + END, "invalid pax size '12abc'"),
        (pax({"uid": b"-5"}) + member(b"a") + END, "invalid pax uid '-5'"),
        (b"\x01" * 2048, "invalid header"),
    ],
)
def test_malformed_archives_are_clean_errors(raw: bytes, message: str) -> None:
    with pytest.raises(CorruptImage) as err:
        read(raw)
    assert str(err.value) == f"L: not a valid tar stream ({message})"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            header(b"p", kind=b"x", size=ts.MAX_SPECIAL + 1) + END,
            f"L: tar header declares a {ts.MAX_SPECIAL + 1}-byte extended header",
        ),
        (
            header(b"L", kind=b"L", size=ts.MAX_SPECIAL + 1) + END,
            f"L: tar header declares a {ts.MAX_SPECIAL + 1}-byte extended header",
        ),
        (
            pax({"size": str(1 << 41).encode()}) + header(b"a") + END,
            f"L: tar header declares a {1 << 41}-byte file",
        ),
        (
            header(b"neg", size_field=b"\xff" * 12) + END,
            "L: tar header declares a -1-byte file",
        ),
    ],
)
def test_hostile_sizes_are_refused_before_reading(raw: bytes, message: str) -> None:
    with pytest.raises(UnsafeLayer) as err:
        read(raw)
    assert str(err.value) == message


def test_pax_records() -> None:
    assert pax_records(b"11 path=ab\n16 linkpath=xyz\n") == {"path": "ab", "linkpath": "xyz"}
    assert pax_records(b"8 path=\n\0\0\0") == {"path": ""}  # NUL padding is tolerated
    assert pax_records(b"11 a=b=c=d\n") == {"a": "b=c=d"}


# -- against tarfile -----------------------------------------------------------------------

NAME_PARTS = ["a", "bb", "é", "x" * 60, "y" * 99, ".wh.q", "sub"]
names = st.lists(st.sampled_from(NAME_PARTS), min_size=1, max_size=5).map("/".join)
members = st.lists(
    st.tuples(
        names,
        st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.FIFOTYPE]),
        st.sampled_from([0, 1, 511, 512, 513, 1500, 4100]),
        st.sampled_from(["t", "../t" * 30, "é" * 70]),
        st.sampled_from([0, 1000, 70000, 3_000_000]),
    ),
    max_size=8,
)


def _tar(format: int, rows: list[tuple[str, bytes, int, str, int]]) -> bytes | None:
    buf = io.BytesIO()
    try:
        with tarfile.open(fileobj=buf, mode="w", format=format) as tar:
            for i, (name, kind, size, link, uid) in enumerate(rows):
                info = tarfile.TarInfo(name)
                info.type, info.uid = kind, uid
                data = bytes([i % 256]) * size if kind == tarfile.REGTYPE else b""
                info.size = len(data)
                if kind == tarfile.SYMTYPE:
                    info.linkname = link
                tar.addfile(info, io.BytesIO(data))
    except ValueError:  # a field this format cannot hold (ustar: long names, big uids)
        return None
    return buf.getvalue()


@settings(max_examples=150, deadline=None)
@given(members, st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]))
def test_the_reader_agrees_with_tarfile(
    rows: list[tuple[str, bytes, int, str, int]], format: int
) -> None:
    raw = _tar(format, rows)
    if raw is None:
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ts, "CHUNK", 700)  # chunk boundaries inside headers, data and records
        d = read(raw, hash="sha256")
    expected = []
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for m in tar:
            base = m.name.rpartition("/")[2]
            if base.startswith(".wh."):
                continue
            f = tar.extractfile(m) if m.isreg() else None
            digest = "sha256:" + hashlib.sha256(f.read()).hexdigest() if f else ""
            kind = {tarfile.REGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink"}
            expected.append(
                (
                    m.name.rstrip("/"),
                    kind.get(m.type, "other"),
                    m.size if m.isreg() else 0,
                    m.uid,
                    m.linkname,
                    digest,
                )
            )
    assert [(e.path, e.kind, e.size, e.uid, e.link, e.digest) for e in d.entries] == expected
