"""Config parsing: times as docker shows them, Go-style UTF-8, typed failures."""

from __future__ import annotations

import re

import pytest

from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage
from deadweight.image import assemble
from deadweight.spec.config import GO_ZERO_TIME, decode_json, parse_config, parse_created

ROOTFS = b'"rootfs":{"type":"layers","diff_ids":[]}'


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-11-27T03:58:52Z", 1795751932),
        ("2026-11-27T03:58:52.74927893Z", 1795751932),  # fraction dropped
        ("2026-11-27T03:58:52.999999999z", 1795751932),
        ("1970-01-01T01:00:00.999+01:00", 0),
        ("1970-01-01T00:00:00-00:30", 1800),
        ("1970-01-02T05:30:00+05:30", 86400),
        ("1969-12-31T23:59:59.5Z", -1),  # floor, not truncation toward zero
        ("0001-01-01T00:00:00Z", GO_ZERO_TIME),
        ("2000-01-01 00:00:00Z", 946684800),
    ],
)
def test_created_is_floor_unix_seconds(text: str, seconds: int) -> None:
    assert parse_created(text) == seconds


@pytest.mark.parametrize("value", [None, ""])
def test_missing_created_is_go_zero_time(value: object) -> None:
    assert parse_created(value) == GO_ZERO_TIME == -62135596800


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (12, "config: 'created' is not a string: 12"),
        ("yesterday", "config: 'created' is not an RFC 3339 time: 'yesterday'"),
        ("2026-11-27T03:58:52", "config: 'created' is not an RFC 3339 time: '2026-11-27T03:58:52'"),
        ("2026-02-30T00:00:00Z", "config: 'created' is not a valid time: '2026-02-30T00:00:00Z'"),
    ],
)
def test_bad_created_is_corrupt(value: object, message: str) -> None:
    with pytest.raises(CorruptImage) as err:
        parse_created(value)
    assert str(err.value) == message


def test_config_without_created_anywhere() -> None:
    cfg = parse_config(b'{"history":[{"created_by":"x"}],' + ROOTFS + b"}")
    assert cfg.created == GO_ZERO_TIME
    assert cfg.history is not None
    assert cfg.history[0].created == GO_ZERO_TIME


def test_config_fields() -> None:
    raw = (
        b'{"architecture":"arm64","os":"linux","variant":"v8",'
        b'"created":"2026-11-27T03:58:52.5+01:00","config":{"User":"nobody"},'
        b'"history":[{"created_by":"RUN x","comment":"c","author":"me","empty_layer":true}],'
        b'"rootfs":{"type":"layers","diff_ids":["sha256:' + b"0" * 64 + b'"]}}'
    )
    cfg = parse_config(raw)
    assert (cfg.architecture, cfg.os, cfg.variant) == ("arm64", "linux", "v8")
    assert cfg.created == 1795751932 - 3600
    assert cfg.diff_ids == ("sha256:" + "0" * 64,)
    assert cfg.container_config == {"User": "nobody"}
    assert cfg.history is not None
    (h,) = cfg.history
    assert (h.created_by, h.comment, h.author, h.empty_layer) == ("RUN x", "c", "me", True)


def test_invalid_utf8_becomes_replacement_character() -> None:
    raw = b'{"history":[{"created_by":"RUN echo \xff\xfe done"}],' + ROOTFS + b"}"
    cfg = parse_config(raw)
    assert cfg.history is not None
    assert cfg.history[0].created_by == "RUN echo \ufffd\ufffd done"


def test_invalid_utf8_keeps_the_image_id_of_the_raw_bytes() -> None:
    raw = b'{"author":"caf\xe9",' + ROOTFS + b"}"
    img = assemble(raw, [])
    assert img.id == sha256_bytes(raw)
    assert img.raw_config == raw
    assert img.config.document["author"] == "caf\ufffd"


def test_invalid_utf8_is_replaced_byte_by_byte_as_go_does() -> None:
    # Go's encoding/json decodes with utf8.DecodeRune, which yields one U+FFFD per byte of
    # an invalid sequence (docker-formats.md §3.5: "bad bytes -> U+FFFD one by one"); a cut
    # 3-byte sequence E2 82 is two bad bytes, so two replacement characters.
    assert decode_json(b'"a\xe2\x82b"', "x") == "a\ufffd\ufffdb"
    assert decode_json(b'"\xf0\x9f\x98"', "x") == "\ufffd\ufffd\ufffd"


def test_valid_utf8_is_untouched() -> None:
    assert decode_json('"☃ 😀"'.encode(), "x") == "☃ 😀"


@pytest.mark.parametrize("raw", [b"", b"{", b'{"rootfs":', b"not json", b'{"a":1}}', b"\xff\xfe{}"])
def test_broken_json_is_corrupt(raw: bytes) -> None:
    with pytest.raises(CorruptImage) as err:
        parse_config(raw)
    assert type(err.value) is CorruptImage
    assert re.fullmatch(r"image config: not valid JSON \(.+\)", str(err.value))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[]", "image config: not a JSON object"),
        (b"{}", "image config: missing or malformed 'rootfs'"),
        (b'{"rootfs":{"diff_ids":{}}}', "image config: missing or malformed 'rootfs'"),
        (b'{"rootfs":{"diff_ids":[1]}}', "image config: 'rootfs.diff_ids' holds a non-string"),
        (b'{"history":{},' + ROOTFS + b"}", "image config: 'history' is not a list"),
        (b'{"history":[1],' + ROOTFS + b"}", "image config: a 'history' entry is not an object"),
        (
            b'{"history":[{"created_by":1}],' + ROOTFS + b"}",
            "image config history: 'created_by' is not a string",
        ),
        (b'{"os":["linux"],' + ROOTFS + b"}", "image config: 'os' is not a string"),
    ],
)
def test_malformed_config_is_corrupt(raw: bytes, message: str) -> None:
    with pytest.raises(CorruptImage) as err:
        parse_config(raw)
    assert str(err.value) == message


def test_the_same_config_read_twice_is_decoded_once() -> None:
    raw = b'{"history":[{"created_by":"RUN x"}],"config":{"User":"u"},' + ROOTFS + b"}"
    first = parse_config(raw)
    again = parse_config(bytes(bytearray(raw)))  # equal bytes, another object
    assert again is first
    other = parse_config(raw.replace(b'"u"', b'"v"'))
    assert other is not first and other.container_config == {"User": "v"}


def test_the_whole_document_is_decoded_from_the_raw_bytes_when_asked() -> None:
    raw = b'{"history":[{"created_by":"RUN x","empty_layer":true}],"config":{},' + ROOTFS + b"}"
    cfg = parse_config(raw)
    assert cfg.document == decode_json(raw, "x")
    assert cfg.document["history"] == [{"created_by": "RUN x", "empty_layer": True}]
    assert cfg.container_config == {}


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'{"history":[]}',
        b'{"rootfs":{"diff_ids":null}}',
        b'{"rootfs":{"diff_ids":[1]}}',
        b'{"rootfs":{},"history":{}}',
        b'{"rootfs":{},"history":[1]}',
        b'{"rootfs":{},"history":[{"created":"x","created_by":2}]}',
        b'{"rootfs":{},"history":[{"created_by":2}]}',
        b'{"rootfs":{},"os":["linux"]}',
        b'{"rootfs":{},"created":5}',
        b'{"rootfs":{},"history":[{"created_by":"a"}',
    ],
)
def test_a_config_of_other_types_fails_as_the_untyped_reading_says(raw: bytes) -> None:
    # the typed reading (no dictionary per row) hands every doubt to the untyped one
    from deadweight.spec.config import _parse_untyped

    with pytest.raises(CorruptImage) as untyped:
        _parse_untyped(raw)
    with pytest.raises(CorruptImage) as err:
        parse_config(raw)
    assert str(err.value) == str(untyped.value)


def test_the_typed_reading_gives_what_the_untyped_one_gives() -> None:
    from deadweight.spec.config import _parse_untyped

    raw = (
        b'{"architecture":"arm64","os":"linux","variant":null,"created":"2026-11-27T03:58:52Z",'
        b'"config":{"Env":["A=b"]},"extra":[{"x":1}],"history":[{"created_by":"RUN x",'
        b'"comment":null,"empty_layer":1,"other":2},{"author":"me","empty_layer":0},{}],'
        b'"rootfs":{"type":"layers","diff_ids":["sha256:' + b"0" * 64 + b'"]}}'
    )
    assert parse_config(raw) == _parse_untyped(raw)
    assert parse_config(b'{"rootfs":{}}') == _parse_untyped(b'{"rootfs":{}}')
