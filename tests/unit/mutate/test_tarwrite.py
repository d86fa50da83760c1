"""The squash's tar writer writes exactly the bytes stdlib ``tarfile`` writes (PAX format),
so a layer's diff_id does not depend on which of its two paths built a header."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight.errors import CorruptImage
from deadweight.mutate._tarwrite import Headers, TarWriter, header

TYPES = [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE,
         tarfile.BLKTYPE, tarfile.FIFOTYPE]  # fmt: skip
names = st.one_of(
    st.text(st.characters(codec="ascii", exclude_characters="\0"), min_size=1, max_size=120),
    st.text(st.characters(exclude_characters="\0"), min_size=1, max_size=40),
)
numbers = st.one_of(st.integers(0, 4000), st.integers(-5, 8**12), st.just(8**7 - 1), st.just(8**7))
xattrs: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.dictionaries(
        st.sampled_from(["SCHILY.xattr.security.capability", "SCHILY.xattr.user.x"]),
        st.text(max_size=10),
        max_size=2,
    ),
)


def by_tarfile(
    name: str,
    type_: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    link: str,
    device: tuple[int, int],
    pax: dict[str, str],
) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid = type_, mode, uid, gid
    info.size, info.mtime, info.linkname = size, mtime, link
    info.devmajor, info.devminor = device
    info.uname = info.gname = ""
    info.pax_headers = dict(pax)
    return info.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "surrogateescape")


@settings(max_examples=300, deadline=None)
@given(
    name=names,
    type_=st.sampled_from(TYPES),
    mode=st.integers(0, 0o177777),
    uid=numbers,
    gid=numbers,
    size=numbers,
    mtime=numbers,
    link=st.one_of(st.just(""), names),
    device=st.tuples(numbers, numbers),
    pax=xattrs,
)
def test_headers_are_tarfiles(
    name: str,
    type_: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    link: str,
    device: tuple[int, int],
    pax: dict[str, str],
) -> None:
    try:
        theirs = by_tarfile(name, type_, mode, uid, gid, size, mtime, link, device, pax)
    except ValueError:  # a device number no tar header holds: a typed error, not a crash
        with pytest.raises(CorruptImage, match="cannot be written"):
            header(name, type_, mode, uid, gid, size, mtime, link, device, pax)
        return
    assert header(name, type_, mode, uid, gid, size, mtime, link, device, pax) == theirs


HEADERS = Headers()  # shared across examples: templates made by earlier ones are reused


@settings(max_examples=300, deadline=None)
@given(
    name=names,
    other=names,
    type_=st.sampled_from(TYPES),
    mode=st.integers(0, 0o177777),
    uid=numbers,
    gid=numbers,
    size=numbers,
    mtime=numbers,
    link=st.one_of(st.just(""), names),
    device=st.tuples(numbers, numbers),
    pax=xattrs,
)
def test_headers_from_templates_are_tarfiles(
    name: str,
    other: str,
    type_: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    link: str,
    device: tuple[int, int],
    pax: dict[str, str],
) -> None:
    """Two names with the same other fields: the second header comes from the template
    the first one made, and both are tarfile's bytes."""
    for each in (name, other):
        try:
            theirs = by_tarfile(each, type_, mode, uid, gid, size, mtime, link, device, pax)
        except ValueError:
            with pytest.raises(CorruptImage, match="cannot be written"):
                HEADERS.header(each, type_, mode, uid, gid, size, mtime, link, device, pax)
            continue
        assert HEADERS.header(each, type_, mode, uid, gid, size, mtime, link, device, pax) == theirs


def test_an_archive_is_tarfiles_to_the_last_byte() -> None:
    members = [("a", b"x" * 700), ("b/", b""), ("c", b"y" * 512), ("d", b"z")]
    theirs = io.BytesIO()
    with tarfile.open(fileobj=theirs, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
            tar.addfile(info, io.BytesIO(data))
    ours = io.BytesIO()
    writer = TarWriter(ours)
    for name, data in members:
        kind = tarfile.DIRTYPE if name.endswith("/") else tarfile.REGTYPE
        head = header(name, kind, 0o644, 0, 0, len(data), 0)
        if len(data) > 600:
            writer.add(head, io.BytesIO(data), len(data))  # from a file, as the spool is
        else:
            writer.add(head, data, len(data))
    writer.close()
    assert ours.getvalue() == theirs.getvalue()
