"""Hostile JSON documents (issue 16): deep nesting and invalid UTF-8 in configs, manifests,
``manifest.json``, ``index.json`` and registry answers end in one typed error, and what the
read commands accept, ``optimize`` accepts too."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight import limits, static
from deadweight.digest import sha256_bytes
from deadweight.errors import CorruptImage
from deadweight.image import assemble
from deadweight.mutate import with_config
from deadweight.optimize import apply, plan
from deadweight.sources import archive, layout
from deadweight.spec import document
from deadweight.spec import manifest as spec
from deadweight.spec.config import parse_config
from deadweight.spec.document import decode_json, nesting

S = static


def deep(n: int, inner: bytes = b"1") -> bytes:
    return b"[" * n + inner + b"]" * n


@pytest.mark.parametrize("n", [limits.JSON_DEPTH + 1, 5_000, 100_000])
def test_deep_config_is_corrupt(n: int) -> None:
    raw = b'{"rootfs":{"type":"layers","diff_ids":[]},"x":' + deep(n) + b"}"
    with pytest.raises(CorruptImage, match=f"nested deeper than {limits.JSON_DEPTH}"):
        parse_config(raw)


@pytest.mark.parametrize("n", [5_000, 100_000])
def test_deep_manifest_and_index_are_corrupt(n: int) -> None:
    raw = (
        b'{"schemaVersion":2,"manifests":[],"annotations":{"a":'
        + b'{"a":' * n
        + b"1"
        + b"}" * n
        + b"}}"
    )
    with pytest.raises(CorruptImage, match="nested deeper"):
        spec.parse(raw, "index")


def test_depth_at_the_limit_is_read() -> None:
    # the document itself is one level; its "x" adds JSON_DEPTH - 1 more
    raw = b'{"rootfs":{"type":"layers","diff_ids":[]},"x":' + deep(limits.JSON_DEPTH - 1) + b"}"
    assert parse_config(raw).document["x"] is not None


def test_brackets_inside_strings_do_not_count() -> None:
    text = "[" * 10_000 + "{" * 10_000
    raw = json.dumps({"rootfs": {"diff_ids": []}, "label": text}).encode()
    assert nesting(raw) == 3
    assert decode_json(raw, "x")["label"] == text


def test_escaped_quotes_do_not_end_a_string() -> None:
    raw = json.dumps({"a": '\\"[[[[' * 500}).encode()
    assert nesting(raw) == 1
    assert decode_json(raw, "x")["a"].startswith('\\"[')


def test_deep_manifest_json_in_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.tar"
    archive.write([S.image([S.Step("RUN x", S.layer([S.File("a", b"a")]))])], path)
    out = tmp_path / "b.tar"
    with tarfile.open(path) as src, tarfile.open(out, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None  # type: ignore[union-attr]
            if m.name == "manifest.json":
                assert data is not None
                data = deep(5_000, data)
                m.size = len(data)
            dst.addfile(m, None if data is None else io.BytesIO(data))
    with pytest.raises(CorruptImage, match=r"manifest\.json: JSON nested deeper"):
        archive.read(out)


def test_deep_index_json_in_a_layout(tmp_path: Path) -> None:
    dest = tmp_path / "oci"
    layout.write([S.image([S.Step("RUN x", S.layer([S.File("a", b"a")]))])], dest)
    (dest / "index.json").write_bytes(deep(5_000))
    with pytest.raises(CorruptImage, match="nested deeper"):
        layout.read(dest)


def _latin1_config() -> bytes:
    steps = [S.Step("RUN x", S.layer([S.File("tmp/a.log", b"x" * 10), S.File("bin/b", b"b")]))]
    raw = S.config_bytes(steps, config={"Env": ["PATH=/bin", "NAME=X"], "Cmd": ["/bin/b"]})
    return raw.replace(b"NAME=X", b"NAME=caf\xe9")  # Latin-1, not UTF-8


def test_non_utf8_config_is_read_as_go_reads_it() -> None:
    raw = _latin1_config()
    config = parse_config(raw)
    assert "NAME=caf\ufffd" in config.container_config["Env"]


def test_non_utf8_config_is_accepted_by_optimize_and_edit() -> None:
    steps = [S.Step("RUN x", S.layer([S.File("tmp/a.log", b"x" * 10), S.File("bin/b", b"b")]))]
    layers = [s.layer for s in steps if s.layer is not None]
    image = assemble(_latin1_config(), layers, source="static")
    edited = with_config(image, {"User": "1000"})
    assert edited.config.container_config["User"] == "1000"
    assert "NAME=caf\ufffd" in edited.config.container_config["Env"]
    result = apply(image, plan(image, level="moderate", squash="all"))
    assert result.config.diff_ids
    assert "NAME=caf\ufffd" in result.config.container_config["Env"]
    assert sha256_bytes(result.raw_config) == result.id


def test_verify_compares_a_deeply_nested_answer_as_text() -> None:
    from deadweight.optimize.verify import Run, body_difference

    deep_body = "[" * 50_000 + "]" * 50_000
    a = Run(True, status=200, output=deep_body, content_type="application/json")
    b = Run(True, status=200, output='{"ok":1}', content_type="application/json")
    assert body_difference(a, a, "shape") == ""
    assert body_difference(a, b, "shape") == ""  # both compared by content type
    assert body_difference(b, a, "shape") == "the body is no longer JSON"


_JSON_VALUES = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ a\u00e9\n', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\ k', max_size=4), inner, max_size=3)
    ),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES, st.integers(0, 8))
def test_nesting_is_exact_for_valid_json(value: object, pad: int) -> None:
    # padded past the limit, so the scan (not the bracket count) answers; brackets, quotes
    # and backslashes inside strings never count
    wrapped: object = value
    for _ in range(limits.JSON_DEPTH // 2 + pad):
        wrapped = [wrapped, ']\\"[{']
    raw = json.dumps(wrapped, ensure_ascii=False).encode()
    window = document._WINDOW
    try:
        for document._WINDOW in (window, 1, 3, 7, 64):  # strings cut by windows, or not
            assert nesting(raw) == _depth(wrapped)
    finally:
        document._WINDOW = window


@pytest.mark.parametrize("window", [1, 5, 1 << 18])
def test_a_string_that_never_ends_stops_the_reading_of_strings(window: int) -> None:
    # the decoder refuses the text at that quote: the brackets before it are what count
    deep = b"[" * (limits.JSON_DEPTH + 1)
    saved = document._WINDOW
    try:
        document._WINDOW = window
        assert nesting(deep + b'"abc') == limits.JSON_DEPTH + 1
        assert nesting(deep + b'"a", "b\\"c]]]') >= limits.JSON_DEPTH + 1
        assert nesting(b'["' + b"[" * 200 + b'", ' + deep[:-2]) == limits.JSON_DEPTH
    finally:
        document._WINDOW = saved
    with pytest.raises(CorruptImage, match="nested deeper"):
        decode_json(deep + b'"abc', "x")
