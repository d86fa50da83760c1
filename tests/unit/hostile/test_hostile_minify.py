"""Hostile image content met by ``minify`` (the second campaign after issue 16): the
loader's configuration an image ships is input, so its includes may chain as deep as
they like or name thousands of patterns over a large tree."""

from __future__ import annotations

import pytest

from deadweight.errors import CorruptImage
from deadweight.minify import elf
from deadweight.minify.elf import conf_dirs

CONF_D = "etc/ld.so.conf.d"


def test_a_chain_of_included_files_is_followed_without_recursion() -> None:
    depth = 3000  # past Python's recursion limit: each file includes the next
    texts = {"etc/ld.so.conf": f"include /{CONF_D}/0.conf\n/top\n".encode()}
    for i in range(depth):
        texts[f"{CONF_D}/{i}.conf"] = f"/lib{i}\ninclude {i + 1}.conf\n/after{i}\n".encode()
    dirs = conf_dirs(texts, texts)
    # the order ld.so reads them in: each file's lines up to its include, the included
    # file, then the rest; the top file's own line last
    assert dirs[:3] == ("/lib0", "/lib1", "/lib2")
    assert dirs[-3:] == ("/after1", "/after0", "/top")
    assert len(dirs) == 2 * depth + 1


def test_a_file_that_includes_itself_is_read_once() -> None:
    texts = {
        "etc/ld.so.conf": b"include /etc/ld.so.conf\ninclude /etc/ld.so.conf.d/*\n/a\n",
        f"{CONF_D}/x.conf": b"include /etc/ld.so.conf.d/*\n/x\n",
    }
    assert conf_dirs(texts, texts) == ("/x", "/a")


def test_one_pattern_repeated_thousands_of_times_is_expanded_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the names a pattern is compared with are counted: a repeated pattern is expanded
    # once, over the files that were read under its literal prefix, never the whole tree
    monkeypatch.setattr(elf, "LD_CONF_MATCHES", 300)
    texts = {"etc/ld.so.conf": b"include /etc/ld.so.conf.d/*.conf\n" * 20_000}
    texts.update({f"{CONF_D}/{i:03}.conf": f"/d{i}\n".encode() for i in range(200)})
    tree = [*texts, *(f"usr/share/doc/f{i}" for i in range(100_000))]
    dirs = conf_dirs(texts, tree)
    assert dirs == tuple(f"/d{i}" for i in range(200))


def test_thousands_of_distinct_patterns_over_many_files_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # patterns x files is quadratic in the image's size: past LD_CONF_MATCHES, a typed
    # refusal (exit 3) instead of minutes of matching
    monkeypatch.setattr(elf, "LD_CONF_MATCHES", 100_000)
    lines = "".join(f"include /etc/ld.so.conf.d/*{i}\n" for i in range(3000))
    texts = {"etc/ld.so.conf": lines.encode()}
    texts.update({f"{CONF_D}/{i}.conf": b"/d\n" for i in range(400)})
    with pytest.raises(CorruptImage, match="include patterns"):
        conf_dirs(texts, texts)
