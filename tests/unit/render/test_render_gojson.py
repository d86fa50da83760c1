"""Go encoding/json output (docker-formats.md §5.6), checked against real Go-written JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight.render._gojson import _escape_char, encode, quote

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("text", "html", "plain"),
    [
        ("<>&", '"\\u003c\\u003e\\u0026"', '"<>&"'),
        ("\u2028\u2029", '"\\u2028\\u2029"', '"\\u2028\\u2029"'),
        ("\b\f\x00\x1f", '"\\u0008\\u000c\\u0000\\u001f"', '"\\u0008\\u000c\\u0000\\u001f"'),
        ('\n\r\t"\\', '"\\n\\r\\t\\"\\\\"', '"\\n\\r\\t\\"\\\\"'),
        ("\x7fé日😀", '"\x7fé日😀"', '"\x7fé日😀"'),
        ("bad\udc80byte", '"bad\\ufffdbyte"', '"bad\\ufffdbyte"'),
    ],
)
def test_string_escaping(text: str, html: str, plain: str) -> None:
    assert quote(text) == html
    assert quote(text, escape_html=False) == plain


def test_compact_keeps_key_order_and_scalars() -> None:
    value = {"b": 1, "a": [True, False, None], "c": {}, "d": [], "e": "x"}
    assert encode(value) == '{"b":1,"a":[true,false,null],"c":{},"d":[],"e":"x"}'


def test_indent_like_marshal_indent() -> None:
    value = [{"Id": "x", "Tags": ["a", "b"], "Empty": [], "Map": {}, "Nested": {"k": 1}}]
    assert encode(value, indent="    ") == (
        "[\n"
        "    {\n"
        '        "Id": "x",\n'
        '        "Tags": [\n'
        '            "a",\n'
        '            "b"\n'
        "        ],\n"
        '        "Empty": [],\n'
        '        "Map": {},\n'
        '        "Nested": {\n'
        '            "k": 1\n'
        "        }\n"
        "    }\n"
        "]"
    )
    assert encode({"a": 1}, indent="\t", prefix=">") == '{\n>\t"a": 1\n>}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (-2.25, "-2.25"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (1e-6, "0.000001"),
        (-0.0, "-0"),
    ],
)
def test_floats_like_go(value: float, text: str) -> None:
    assert encode(value) == text


def test_unsupported_values() -> None:
    with pytest.raises(TypeError):
        encode(object())
    with pytest.raises(ValueError):
        encode(float("nan"))


@pytest.mark.parametrize("name", ["dfx-bk", "dfx-legacy"])
def test_reencoding_go_output_is_byte_identical(name: str) -> None:
    # The v1 layer JSON docker save writes: json.Marshal output of the daemon.
    raw = (DATA / f"v1-top-layer-{name}.json").read_bytes()
    assert encode(json.loads(raw)).encode("utf-8") == raw


def _quoted_char_by_char(text: str, escape_html: bool) -> str:
    return '"' + "".join(_escape_char(ch, escape_html) for ch in text) + '"'


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x2030)
        | st.sampled_from(["\ud800", "\udfff", "\U0001f600", "<", ">", "&", '"', "\\"]),
        max_size=20,
    ),
    st.booleans(),
)
def test_quote_escapes_what_go_escapes_char_by_char(text: str, escape_html: bool) -> None:
    assert quote(text, escape_html=escape_html) == _quoted_char_by_char(text, escape_html)
