"""The loader's search order (ld.so(8)) over a synthetic tree: RPATH of the object and its
loaders, LD_LIBRARY_PATH, RUNPATH with $ORIGIN, ld.so.conf and its includes, the default
directories, libraries of another class skipped, what nothing satisfies reported."""

from __future__ import annotations

from collections.abc import Sequence

from deadweight import static as S
from deadweight.filetree.resolve import Resolver
from deadweight.filetree.tree import stack
from deadweight.minify.elf import ElfInfo, Loader, Need, conf_dirs
from deadweight.mutate import layer_deltas

X64 = (64, "EM_X86_64")


def lib(soname: str = "", *needed: str, **kw: object) -> ElfInfo:
    return ElfInfo(*X64, needed=needed, soname=soname, **kw)  # type: ignore[arg-type]


def loader(paths: list[str], elf: dict[str, ElfInfo], **kw: object) -> Loader:
    entries = [S.File(p, b"\x7fELF") for p in paths]
    img = S.image([S.Step("ADD", S.layer(entries))])
    return Loader(Resolver(stack(layer_deltas(img))), elf, **kw)  # type: ignore[arg-type]


def found(need_list: Sequence[Need]) -> dict[str, str]:
    return {n.name: n.path for n in need_list}


def test_runpath_origin_and_rpath_inheritance() -> None:
    elf = {
        "opt/app/bin/app": ElfInfo(
            *X64, interp="/lib/ld.so", needed=("libown.so",), rpath=("/opt/rp",)
        ),
        "opt/rp/libown.so": lib("libown.so", "libdeep.so"),
        "opt/rp/libdeep.so": lib("libdeep.so"),
        "usr/lib/libdeep.so": lib("libdeep.so"),
        "lib/ld.so": lib("ld.so"),
        "opt/tool/bin/tool": ElfInfo(*X64, needed=("libx.so",), runpath=("$ORIGIN/../lib",)),
        "opt/tool/lib/libx.so": lib("libx.so"),
    }
    ld = loader(list(elf), elf)
    got = found(ld.closure(["opt/app/bin/app"]))
    # libown.so has no RUNPATH: the executable's RPATH applies to what it needs
    assert got == {"/lib/ld.so": "lib/ld.so", "libown.so": "opt/rp/libown.so",
                   "libdeep.so": "opt/rp/libdeep.so"}  # fmt: skip
    assert found(ld.closure(["opt/tool/bin/tool"])) == {"libx.so": "opt/tool/lib/libx.so"}


def test_library_path_conf_defaults_class_and_missing() -> None:
    elf = {
        "app": ElfInfo(*X64, needed=("liba.so", "libb.so", "libc.so", "libnone.so")),
        "env/liba.so": lib("liba.so"),
        "opt/conf/libb.so": lib("libb.so"),
        "usr/lib/i386/libc.so": ElfInfo(32, "EM_386", soname="libc.so"),
        "usr/lib/x86_64-linux-gnu/libc.so": lib("libc.so"),
        "usr/lib/libb.so": lib("libb.so"),
    }
    texts = {
        "etc/ld.so.conf": b"include /etc/ld.so.conf.d/*.conf\n# comment\n",
        "etc/ld.so.conf.d/a.conf": b"/usr/lib/i386\n/opt/conf\n",
    }
    paths = [*elf, *texts]
    conf = conf_dirs(texts, paths)
    assert conf == ("/usr/lib/i386", "/opt/conf")
    ld = loader(list(elf), elf, conf=conf, library_path=("/env",))
    needs = ld.closure(["app"])
    assert found(needs) == {
        "liba.so": "env/liba.so",
        "libb.so": "opt/conf/libb.so",  # ld.so.conf before the default /usr/lib
        "libc.so": "usr/lib/x86_64-linux-gnu/libc.so",  # the 32-bit one is skipped
        "libnone.so": "",
    }
