"""The ELF closure on real Debian 12 binaries (see ``real_debian``: the story tests'
debootstrap root, else this machine's own bookworm root): the loader through the
``/lib64`` and merged-``/usr`` links, ``DT_NEEDED`` found through ``ld.so.conf``, and
libraries nothing asks for removed."""

from __future__ import annotations

import io

import pytest
import real_debian

from deadweight import static as S
from deadweight.image import Image
from deadweight.minify import Evidence, Reason, Trace, apply_minify, plan_minify
from deadweight.minify.elf import read_elf
from deadweight.validation import validate

MULTI = "usr/lib/x86_64-linux-gnu"
BASE = [
    "bin",
    "lib",
    "lib64",
    "usr/bin/ls",
    "usr/bin/env",
    "usr/bin/dash",
    "usr/bin/sh",
    "usr/lib64/ld-linux-x86-64.so.2",
    f"{MULTI}/libc.so.6",
    f"{MULTI}/libselinux.so.1",
    f"{MULTI}/libpcre2-8.so.0",
    f"{MULTI}/libz.so.1",
    "etc/ld.so.conf",
    "etc/ld.so.conf.d/x86_64-linux-gnu.conf",
]


@pytest.fixture(scope="module")
def source() -> str:
    return real_debian.require()


def image(config: dict[str, object], extra: list[S.Entry] | None = None) -> Image:
    entries = real_debian.entries(BASE) + (extra or [])
    return S.image([S.Step("ADD rootfs", S.layer(entries))], config=config)


def test_read_elf_on_real_files(source: str) -> None:
    (ls_file,) = [e for e in real_debian.entries(["usr/bin/ls"]) if e.path == "usr/bin/ls"]
    assert isinstance(ls_file, S.File)
    info = read_elf(io.BytesIO(ls_file.data))
    assert info is not None, source
    assert info.interp == "/lib64/ld-linux-x86-64.so.2"
    assert {"libc.so.6", "libselinux.so.1"} <= set(info.needed)
    assert (info.bits, info.machine) == (64, "EM_X86_64")
    libc_path = real_debian.canonical(f"{MULTI}/libc.so.6")
    libc = next(e for e in real_debian.entries([libc_path]) if e.path == libc_path)
    assert isinstance(libc, S.File)
    lib = read_elf(io.BytesIO(libc.data))
    assert lib is not None and lib.soname == "libc.so.6"
    assert read_elf(io.BytesIO(b"\x7fELF garbage")) is None


def test_closure_of_ls_keeps_loader_and_libraries_only(source: str) -> None:
    img = image({"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["ls", "-l"]})
    plan = plan_minify(img, evidence=None)
    kept = plan.kept
    assert kept["/usr/bin/ls"] == (Reason.ENTRYPOINT,), source
    for lib in ("libc.so.6", "libselinux.so.1", "libpcre2-8.so.0"):
        # a soname is often a link to the versioned file: both stay, the file for the ELF
        assert f"/{MULTI}/{lib}" in kept
        assert Reason.ELF in kept["/" + real_debian.canonical(f"{MULTI}/{lib}")]
    # the loader, reached through /lib64 -> usr/lib64 and the absolute link there
    assert Reason.ELF in kept[f"/{MULTI}/ld-linux-x86-64.so.2"]
    assert Reason.STRUCTURE in kept["/lib64"]
    assert Reason.STRUCTURE in kept["/usr/lib64/ld-linux-x86-64.so.2"]
    assert "/lib" in kept and "/bin" in kept  # links to kept directories
    removed = {r.path for r in plan.removed}
    assert {"/usr/bin/dash", "/usr/bin/env", f"/{MULTI}/libz.so.1"} <= removed
    assert not plan.missing


def test_a_library_loaded_before_from_outside_the_search_is_not_missing(source: str) -> None:
    # as the JVM's launcher dlopens lib/server/libjvm.so, which libjava.so then needs
    real = real_debian.canonical(f"{MULTI}/libpcre2-8.so.0")
    (pcre,) = [e for e in real_debian.entries([real]) if e.path == real]
    assert isinstance(pcre, S.File)
    paths = [p for p in BASE if "pcre2" not in p]
    entries = real_debian.entries(paths)
    entries = [e for e in entries if "pcre2" not in e.path]
    entries.append(S.File("opt/vm/server/libpcre2-8.so.0", pcre.data, 0o644))
    img = S.image(
        [S.Step("ADD rootfs", S.layer(entries))],
        config={"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["ls"]},
    )
    selinux = "/" + real_debian.canonical(f"{MULTI}/libselinux.so.1")
    assert plan_minify(img, evidence=None).missing == (f"{selinux}: libpcre2-8.so.0",), source
    opened = Evidence((Trace("run", frozenset({"/opt/vm/server/libpcre2-8.so.0"})),))
    plan = plan_minify(img, evidence=opened)
    assert plan.missing == ()
    assert Reason.TRACED in plan.kept["/opt/vm/server/libpcre2-8.so.0"]


def test_shebang_through_env_and_shell(source: str) -> None:
    script = S.File("app/run", b"#!/usr/bin/env dash\nexec ls /\n", 0o755)
    img = image(
        {"Env": ["PATH=/usr/bin:/bin"], "Entrypoint": ["/app/run"], "WorkingDir": "/app"},
        [S.Dir("app"), script],
    )
    kept = plan_minify(img, evidence=None).kept
    for path in ("/app/run", "/usr/bin/env", "/usr/bin/dash", "/usr/bin/ls"):
        assert Reason.ENTRYPOINT in kept[path], (path, source)
    selinux = real_debian.canonical(f"{MULTI}/libselinux.so.1")
    assert Reason.ELF in kept["/" + selinux]  # ls, run by the script


def test_applied_image_holds_exactly_the_kept_paths(source: str) -> None:
    img = image({"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["ls"]})
    plan = plan_minify(img, evidence=None)
    out = apply_minify(img, plan, epoch=0)
    again = apply_minify(img, plan, epoch=0)
    assert out.id == again.id  # reproducible
    assert validate(out).problems == ()
    assert len(out.layers) == 1
    from deadweight.filetree.delta import read_delta

    with out.layers[0].open() as stream:
        delta = read_delta(stream)
    assert {"/" + e.path for e in delta.entries} == set(plan.kept), source
    sizes = {e.path: e.size for e in delta.entries if e.kind == "file"}
    assert sum(sizes.values()) == plan.after_bytes
