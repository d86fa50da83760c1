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


class _Found:
    node: object = None


class _Resolver:
    def __init__(self, paths: set[str]) -> None:
        self.paths = paths

    def resolve(self, path: str) -> _Found:
        found = _Found()
        found.node = object() if path.lstrip("/") in self.paths else None
        return found


class _Ctx:
    def __init__(self, paths: list[str]) -> None:
        self.paths = tuple(sorted(paths))
        self.resolver = _Resolver(set(paths))


class _Keeper:
    """What ``user_keeps`` asks of a Keeper, counting the names its globs compare."""

    def __init__(self, paths: list[str]) -> None:
        self.ctx = _Ctx(paths)
        self.kept: list[str] = []

    def keep(self, path: str, reason: object, *, whole: bool = False) -> bool:
        if self.ctx.resolver.resolve(path).node is None:
            return False
        self.kept.append(path)
        return True


def test_keep_globs_compare_only_the_paths_under_their_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    from deadweight.minify import keeper

    compared = [0]
    real = re.compile

    def counting(pattern: str) -> object:
        match = real(pattern).match

        class Counted:
            @staticmethod
            def match(name: str) -> object:
                compared[0] += 1
                return match(name)

        return Counted()

    monkeypatch.setattr(re, "compile", counting)
    tree = [f"usr/share/doc/p{i}/copyright" for i in range(50_000)]
    tree += [f"app/lib/m{i}.py" for i in range(100)]
    k = _Keeper(tree)
    # thousands of globs, most the same: each distinct one compared with the 100 paths
    # under /app/lib, never with the 50,000 others (it was every glob x every path)
    globs = ["/app/lib/*.py"] * 5000 + [f"/app/lib/m{i}*" for i in range(100)]
    unmatched = keeper.user_keeps(k, globs)  # type: ignore[arg-type]
    assert unmatched == ()
    assert len(set(k.kept)) == 100
    under = sum(1 for i in range(100) for p in tree if p.startswith(f"app/lib/m{i}"))
    assert compared[0] == 100 + under  # 290, not 5,100 x 50,100


def test_a_kept_name_holding_brackets_is_kept_as_written() -> None:
    # --write-keep-file writes such a name; read back, "[1]" was a character class that
    # does not match the name itself, so the file was dropped
    from deadweight.minify import keeper

    k = _Keeper(["srv/a[1].txt", "srv/a1.txt"])
    assert keeper.user_keeps(k, ["/srv/a[1].txt"]) == ()  # type: ignore[arg-type]
    assert k.kept == ["/srv/a[1].txt"]


class _Counting:
    """A tree with nothing in it that counts the paths the loader looks up."""

    def __init__(self) -> None:
        self.lookups = 0

    def resolve(self, path: str) -> _Found:
        self.lookups += 1
        return _Found()


def _hostile(n: int) -> elf.ElfInfo:
    """An executable whose DT_RPATH has ``n`` directories and that needs ``n`` libraries."""
    return elf.ElfInfo(
        64,
        "EM_X86_64",
        needed=tuple(f"libn{i}.so" for i in range(n)),
        rpath=tuple(f"/r{i}" for i in range(n)),
    )


def test_thousands_of_rpath_directories_times_thousands_of_names_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 400 directories x 400 names x 9 (each with its glibc-hwcaps subdirectories): 1.5
    # million lookups, and a tree memoizes each; past LD_LOOKUPS, a typed refusal (exit 3)
    monkeypatch.setattr(elf, "LD_LOOKUPS", 100_000)
    tree = _Counting()
    ld = elf.Loader(tree, {"app": _hostile(400)})  # type: ignore[arg-type]
    with pytest.raises(CorruptImage, match=r"more than 100,000 lookups \(at /app\)"):
        ld.closure(["app"])
    assert tree.lookups <= 100_000


def test_the_budget_covers_every_file_of_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    # each file is under the budget (40 x 47 x 9 = 17,000 lookups); 50 of them are not
    monkeypatch.setattr(elf, "LD_LOOKUPS", 100_000)
    files = {f"bin/app{i}": _hostile(40) for i in range(50)}
    ld = elf.Loader(_Counting(), files)  # type: ignore[arg-type]
    assert len(ld.closure(["bin/app0"])) == 40  # one file: each name searched, none found
    with pytest.raises(CorruptImage, match="lookups"):
        for path in files:
            ld.closure([path])


def test_a_repeated_rpath_directory_is_searched_once() -> None:
    # the search list is the same for each name of a file: built and deduplicated once
    tree = _Counting()
    info = elf.ElfInfo(64, "EM_X86_64", needed=("liba.so", "libb.so"), rpath=("/r",) * 5000)
    needs = elf.Loader(tree, {"app": info}).closure(["app"])  # type: ignore[arg-type]
    assert [(n.name, n.path) for n in needs] == [("liba.so", ""), ("libb.so", "")]
    assert tree.lookups == 2 * 8 * 9  # /r and the 7 default directories, 9 paths each
