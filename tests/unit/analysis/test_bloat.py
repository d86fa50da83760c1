"""Bloat still in the final file system, by category, with exact bytes and paths."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight import static
from deadweight.analysis.bloat import (
    RULES,
    BloatItem,
    DuplicateGroup,
    bloat,
    categorise,
    is_core_dump,
    may_match,
)
from deadweight.filetree import read_delta, stack
from deadweight.filetree.tree import Tree


def tree(*layers: list[static.Entry]) -> Tree:
    return stack(read_delta(io.BytesIO(static.tar_bytes(e)), hash="sha256") for e in layers)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("var/lib/apt/lists/deb.debian.org_dists_Packages.lz4", ("apt-cache", "var/lib/apt/lists")),
        ("var/lib/apt/lists/lock", None),
        ("var/cache/apt/archives/curl.deb", ("apt-cache", "var/cache/apt")),
        ("var/cache/apk/APKINDEX.tar.gz", ("apk-cache", "var/cache/apk")),
        ("root/.cache/pip/http-v2/a/b", ("pip-cache", "root/.cache/pip")),
        ("home/app/.cache/pypoetry/cache/x", ("poetry-cache", "home/app/.cache/pypoetry")),
        ("root/.cache/uv/wheels/x", ("uv-cache", "root/.cache/uv")),
        ("root/.npm/_cacache/index", ("npm-cache", "root/.npm")),
        ("usr/local/share/.cache/yarn/v6/x", ("yarn-cache", "usr/local/share/.cache/yarn")),
        ("root/.local/share/pnpm/store/v3/x", ("pnpm-store", "root/.local/share/pnpm/store")),
        ("root/.cache/go-build/00/x", ("go-build-cache", "root/.cache/go-build")),
        ("go/pkg/mod/cache/download/x", ("go-build-cache", "go/pkg/mod")),
        ("root/.m2/repository/org/x.jar", ("maven-cache", "root/.m2/repository")),
        ("home/g/.gradle/caches/x", ("gradle-cache", "home/g/.gradle/caches")),
        ("usr/share/doc/curl/copyright", ("docs", "usr/share/doc")),
        ("usr/share/man/man1/ls.1.gz", ("man", "usr/share/man")),
        ("usr/share/info/dir", ("info", "usr/share/info")),
        ("usr/share/locale/de/LC_MESSAGES/x.mo", ("locales", "usr/share/locale")),
        ("usr/include/stdio.h", ("toolchain", "usr/include")),
        ("usr/lib/gcc/x86_64-linux-gnu/12/cc1", ("toolchain", "usr/lib/gcc")),
        ("usr/bin/x86_64-linux-gnu-gcc-12", ("toolchain", "usr/bin/x86_64-linux-gnu-gcc-12")),
        ("usr/bin/make", ("toolchain", "usr/bin/make")),
        ("usr/bin/makeself", None),
        ("app/node_modules/node-gyp/lib/x.js", ("toolchain", "app/node_modules/node-gyp")),
        ("app/node_modules/lodash/test/t.js", ("package-extras", "app/node_modules/lodash/test")),
        (
            "app/node_modules/@s/p/examples/e.js",
            ("package-extras", "app/node_modules/@s/p/examples"),
        ),
        ("app/node_modules/x/dist/x.js.map", ("package-extras", "app/node_modules/x")),
        (
            "usr/lib/python3/dist-packages/numpy/core/tests/t.py",
            ("package-extras", "usr/lib/python3/dist-packages/numpy/core/tests"),
        ),
        ("app/.git/objects/pack/p.pack", ("vcs", "app/.git")),
        ("tmp/build.log", ("temp", "tmp")),
        ("var/tmp/x", ("temp", "var/tmp")),
        ("usr/bin/python3", None),
    ],
)
def test_categories_by_path(path: str, expected: tuple[str, str] | None) -> None:
    assert categorise(path) == expected


PARTS = [
    "var", "lib", "apt", "lists", "cache", "root", "home", "u", ".cache", "pip", ".npm",
    "usr", "share", "doc", "include", "bin", "gcc", "make", "node_modules", "@s", "p",
    "test", "x.js.map", "site-packages", ".git", "tmp", "go", "pkg", "mod", "core", "a",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PARTS), min_size=1, max_size=7).map("/".join))
def test_one_combined_match_equals_the_rules_in_order(path: str) -> None:
    first = next(((n, m.group(1)) for n, r in RULES if (m := r.match(path))), None)
    assert categorise(path) == first


MORE_PARTS = [
    *PARTS, "etc", "apk", ".svn", ".hg", ".bzr", "dist-packages", ".m2", "repository",
    ".gradle", "caches", "wrapper", ".local", "pnpm", "store", ".pnpm-store", ".yarn", "berry",
    "yarn", "node-gyp", "info", "locale", "i18n", "locales", "libexec", "llvm-15", "uv",
    "pypoetry", "go-build", "docs", "examples", "__tests__", "cc1plus", "ld.gold", "x.css.map",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(MORE_PARTS), min_size=1, max_size=8).map("/".join))
def test_paths_the_prefilter_skips_match_no_rule(path: str) -> None:
    if not may_match(path):
        assert all(r.match(path) is None for _, r in RULES)


def test_grouped_with_bytes_files_and_writer_layer() -> None:
    t = tree(
        [
            static.File("var/lib/apt/lists/a", b"a" * 300),
            static.File("var/lib/apt/lists/b", b"b" * 200),
            static.File("usr/share/doc/x/README", b"r" * 40),
        ],
        [static.File("var/lib/apt/lists/c", b"c" * 600), static.File("tmp/t", b"t" * 7)],
    )
    b = bloat(t)
    assert b.items == (
        BloatItem("apt-cache", "var/lib/apt/lists", 1100, 3, 1),
        BloatItem("docs", "usr/share/doc", 40, 1, 0),
        BloatItem("temp", "tmp", 7, 1, 1),
    )
    assert b.by_category == (("apt-cache", 1100), ("docs", 40), ("temp", 7))
    assert b.total == 1147


def test_identical_files_at_different_paths() -> None:
    t = tree(
        [
            static.File("a/x", b"same" * 25),
            static.File("b/x", b"same" * 25),
            static.File("c/x", b"same" * 25),
            static.File("d", b"other"),
            static.Hardlink("e", "d"),
            static.File("z1"),
            static.File("z2"),
        ]
    )
    b = bloat(t)
    digest = t.nodes["a/x"].digest
    assert b.duplicates == (DuplicateGroup(digest, 100, ("a/x", "b/x", "c/x")),)
    assert b.duplicates[0].bytes == 200  # hardlinks and empty files are not duplicates
    assert b.by_category == (("duplicates", 200),)


def test_npm_dev_dependencies_take_precedence_over_extras() -> None:
    t = tree(
        [
            static.File("app/node_modules/jest/index.js", b"j" * 90),
            static.File("app/node_modules/jest/test/t.js", b"t" * 10),
            static.File("app/node_modules/express/index.js", b"e" * 50),
        ]
    )
    b = bloat(t, dev_packages=["app/node_modules/jest"])
    assert b.items == (BloatItem("npm-dev-dependencies", "app/node_modules/jest", 100, 2, 0),)


def test_core_dumps_are_recognised_by_their_elf_header() -> None:
    core = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x04\x00" + b"\0" * 100
    exe = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\x00" + b"\0" * 100
    assert is_core_dump(core) and not is_core_dump(exe) and not is_core_dump(b"core")
    t = tree([static.File("app/core", core), static.File("app/core.123", exe)])
    b = bloat(t, core_heads={"app/core": core[:32], "app/core.123": exe[:32]})
    assert b.items == (BloatItem("core-dump", "app/core", len(core), 1, 0),)


def test_ignored_paths_are_not_bloat() -> None:
    t = tree([static.File("tmp/keep", b"1"), static.File("usr/share/doc/a", b"22")])
    assert bloat(t, ignore=lambda p: p.startswith("tmp/")).by_category == (("docs", 2),)


def test_files_last_written_below_from_layer_are_left_out() -> None:
    """With the base image left out (``analyze --exclude-base``), its caches are not the
    image's bloat; a base file the image's own layer rewrites is."""
    t = tree(
        [static.File("tmp/base.log", b"b" * 500), static.File("usr/share/doc/a/README", b"a" * 9)],
        [static.File("root/.npm/_cacache/x", b"n" * 70), static.File("tmp/base.log", b"c" * 30)],
    )
    everything = dict(bloat(t).by_category)
    assert everything == {"temp": 30, "docs": 9, "npm-cache": 70}
    assert dict(bloat(t, from_layer=1).by_category) == {"temp": 30, "npm-cache": 70}
    assert [(i.category, i.layer) for i in bloat(t, from_layer=1).items] == [
        ("npm-cache", 1),
        ("temp", 1),
    ]
