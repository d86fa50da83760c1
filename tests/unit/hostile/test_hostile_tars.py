"""Hostile layer tars (issue 16): malformed pax numbers, NUL in pax names, GNU sparse
headers cut short or absurd, pax ``mtime=nan``; and one verdict: ``history`` (sizes)
refuses exactly what ``analyze`` (deltas) refuses."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable

import pytest

from deadweight import static
from deadweight.analysis import packages as pkgs
from deadweight.analysis.sizes import layer_sizes
from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage, DeadweightError
from deadweight.filetree import read_delta
from deadweight.image import Layer, assemble
from deadweight.mediatypes import OCI_LAYER, OCI_LAYER_GZIP
from deadweight.optimize import apply, plan
from deadweight.reading import read_deltas
from deadweight.spec.manifest import Descriptor
from deadweight.streams import as_file

BLOCK = 512
END = bytes(2 * BLOCK)
S = static


def header(
    name: bytes, kind: bytes = b"0", size: int = 0, extra: dict[int, bytes] | None = None
) -> bytes:
    h = bytearray(BLOCK)
    h[0 : len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = kind
    h[257:265] = b"ustar\x0000"
    for offset, data in (extra or {}).items():
        h[offset : offset + len(data)] = data
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def pax(records: dict[bytes, bytes]) -> bytes:
    """A pax extended header: ``"%d %s=%s\\n"`` records, the length counting itself."""
    body = b""
    for key, value in records.items():
        text = b" " + key + b"=" + value + b"\n"
        n = len(text) + 1
        while len(text) + len(str(n)) != n:
            n = len(text) + len(str(n))
        body += str(n).encode() + text
    return header(b"PaxHeaders/x", b"x", len(body)) + pad(body)


def with_pax(records: dict[bytes, bytes], data: bytes = b"hello") -> bytes:
    return pax(records) + header(b"file", size=len(data)) + pad(data) + END


def read(raw: bytes) -> object:
    return read_delta(io.BytesIO(raw), what="L")


def test_pax_helper_is_valid() -> None:
    delta = read_delta(io.BytesIO(with_pax({b"path": b"renamed", b"size": b"5"})))
    assert [(e.path, e.size) for e in delta.entries] == [("renamed", 5)]


@pytest.mark.parametrize(
    "size",
    [
        "²".encode(),  # str.isdigit() says yes, int() says no
        "٣".encode(),  # int() takes Arabic-Indic digits; Go does not
        "５".encode(),  # fullwidth
        b"9" * 5_000,  # past Python's int-digits limit
        b"1" * 4_000,  # inside it, but no 64-bit number
        b"9" * 19 + b"0",  # 20 digits: above 2**63
        b"-5",
        b"+5",
        b" 5",
        b"5_0",
    ],
)
def test_pax_size_that_is_no_number_is_corrupt(size: bytes) -> None:
    with pytest.raises(CorruptImage, match=r"L: not a valid tar stream \(invalid pax size"):
        read(with_pax({b"size": size}))


def test_pax_size_with_leading_zeros_is_read_as_go_reads_it() -> None:
    delta = read_delta(io.BytesIO(with_pax({b"size": b"0" * 20 + b"5"})))
    assert delta.entries[0].size == 5


@pytest.mark.parametrize("key", [b"path", b"linkpath", b"uname", b"gname"])
def test_pax_name_with_nul_is_corrupt(key: bytes) -> None:
    with pytest.raises(CorruptImage, match="invalid pax record"):
        read(with_pax({key: b"etc/pass\0wd"}))


def test_pax_key_with_nul_is_corrupt() -> None:
    with pytest.raises(CorruptImage, match="invalid pax record"):
        read(with_pax({b"SCHILY.xattr.a\0b": b"v"}))


def old_gnu_sparse(real: bytes, extended: bool, stored: bytes = b"") -> bytes:
    extra = {483: real}
    if extended:
        extra[482] = b"\x01"
    return header(b"sparse", b"S", len(stored), extra)


SPARSE_CASES: dict[str, bytes] = {
    # an extension block announced but the stream ends
    "truncated extension": old_gnu_sparse(b"00000001000\0", True),
    # a real size of 2**88 in base-256
    "absurd real size": old_gnu_sparse(b"\x80" + b"\xff" * 11, False) + END,
    # stored data declared but not there
    "truncated data": old_gnu_sparse(b"00000001000\0", False, b"x" * 600)[:BLOCK] + b"x" * 10,
    # a pax 1.0 sparse file whose realsize is no number
    "pax realsize": with_pax({b"GNU.sparse.major": b"1", b"GNU.sparse.realsize": b"1e9"}),
    "pax size huge": with_pax({b"GNU.sparse.size": b"9" * 40}),
}


def layer_of(raw: bytes, *, gzip_it: bool = False, diff_id: str | None = None) -> Layer:
    blob = gzip.compress(raw, mtime=0) if gzip_it else raw
    desc = Descriptor(OCI_LAYER_GZIP if gzip_it else OCI_LAYER, sha256_bytes(blob), len(blob))
    return Layer(diff_id or sha256_bytes(raw), desc, lambda: io.BytesIO(blob), seekable=True)


def verdicts(layer: Layer) -> tuple[object, object]:
    """What ``history`` (layer sizes) and ``analyze`` (deltas) make of an image of one layer:
    the sizes, or the error class and message."""
    raw_config = S.config_bytes([S.Step("RUN x", layer)])
    image = assemble(raw_config, [layer], source="hostile")

    def outcome(fn: Callable[[], object]) -> object:
        try:
            return fn()
        except DeadweightError as exc:
            return (type(exc).__name__, exc.message)

    sizes = outcome(lambda: layer_sizes(image))
    deltas = outcome(lambda: tuple(d.size for d in read_deltas(image, capture=pkgs.capture)))
    return sizes, deltas


@pytest.mark.parametrize("case", sorted(SPARSE_CASES))
def test_gnu_sparse_headers_get_one_verdict(case: str) -> None:
    sizes, deltas = verdicts(layer_of(SPARSE_CASES[case]))
    assert sizes == deltas
    assert isinstance(sizes, tuple) and sizes[0] in ("CorruptImage", "UnsafeLayer")


def test_wrong_diff_id_gets_one_verdict() -> None:
    raw = pad(b"") + header(b"a", size=1) + pad(b"a") + END
    sizes, deltas = verdicts(layer_of(raw, gzip_it=True, diff_id="sha256:" + "0" * 64))
    assert sizes == deltas
    assert isinstance(sizes, tuple) and sizes[0] == "DigestMismatch"


def test_wrong_blob_size_gets_one_verdict() -> None:
    raw = header(b"a", size=1) + pad(b"a") + END
    blob = gzip.compress(raw, mtime=0)
    desc = Descriptor(OCI_LAYER_GZIP, sha256_bytes(blob), len(blob) + 7)
    layer = Layer(sha256_bytes(raw), desc, lambda: io.BytesIO(blob), seekable=True)
    sizes, deltas = verdicts(layer)
    assert sizes == deltas
    assert isinstance(sizes, tuple) and sizes[0] in ("CorruptImage", "DigestMismatch")


@pytest.mark.parametrize(
    "raw", [b"", END, bytes(BLOCK)], ids=["empty", "end-only", "one-zero-block"]
)
def test_empty_layer_gets_one_verdict(raw: bytes) -> None:
    assert verdicts(layer_of(raw)) == ((0,), (0,))


def test_pax_mtime_nan_does_not_crash_optimize() -> None:
    def hostile(name: str, mtime: bytes, data: bytes) -> bytes:
        return pax({b"mtime": mtime}) + header(name.encode(), size=len(data)) + pad(data)

    raw = (
        hostile("bin/app", b"nan", b"app")
        + hostile("bin/tool", b"inf", b"tool")
        + hostile("tmp/x.log", b"-nan", b"log")
        + END
    )
    layer = layer_of(raw, gzip_it=True)
    image = assemble(S.config_bytes([S.Step("RUN x", layer)]), [layer], source="hostile")
    result = apply(image, plan(image, level="safe", squash="all"))
    with (
        result.layers[-1].open() as stream,
        tarfile.open(fileobj=as_file(stream), mode="r|") as tar,
    ):
        names = {m.name: m.mtime for m in tar}
    # the safe level drops tmp/x.log; a time that is no number is written as 0
    assert names == {"bin": 0, "bin/app": 0, "bin/tool": 0, "tmp": 0}
